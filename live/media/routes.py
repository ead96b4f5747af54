"""WHIP (RFC 9725) and WHEP endpoints, and the studio's readout of its broadcast.

    POST   /sessions/{session}/whip            studio token  → 201, answer, Location, Link
    POST   /sessions/{session}/whep            any token for the session → 201 (409 before air)
    PATCH  /sessions/{session}/{whip|whep}/{id}   trickle ICE (application/trickle-ice-sdpfrag)
    DELETE /sessions/{session}/{whip|whep}/{id}   ends it
    GET    /sessions/{session}/broadcast       JSON readout: on air or not for any token; what the
                                               relay receives and the viewer count for the studio,
                                               moderators and the stage
    GET    /sessions/{session}/ice-servers     any token for the session → JSON iceServers with
                                               freshly minted TURN credentials (live/media/ice.py)
    PUT    /sessions/{session}/whep/{id}/audio  the player's token → what it hears: JSON
                                               {"language": code or null, "floor": bool}

`{session}` may also name an interpretation channel, `session@language` (live/media/channels.py):
its interpreter publishes there (WHIP, the interpreter link of that language), and anyone with a
token for the session may play it alone (WHEP: relay interpreting, or an audio-only listener).

The token is a Bearer token, never a cookie, so any origin may call these (CORS `*`): that is what
lets a third-party WHIP encoder or WHEP player work against us.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from live.config import Settings
from live.domain import Role
from live.domain.programme import Programme
from live.media import onair
from live.media.channels import Choice, ChoiceError, channel_key, parse_choice, split_key
from live.media.edges import UNREACHABLE
from live.media.relay import Relay, RelayError, Resource
from live.media.sdp import MAX_SDP_BYTES, BadOffer
from live.media.viewers import Viewer
from live.web.auth import Grant, InvalidToken, Signer

log = logging.getLogger(__name__)

PUBLISH_ROLES = frozenset({Role.STUDIO, Role.ADMIN})
CHANNEL_PUBLISH_ROLES = frozenset({Role.INTERPRETER, Role.ADMIN})  # an interpreter: their language's
MAX_CHOICE_BYTES = 256
READOUT_ROLES = frozenset({Role.STUDIO, Role.ADMIN, Role.MODERATOR, Role.STAGE})
CORS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Location, Link, Retry-After, Accept-Patch, Content-Type",
}
PREFLIGHT = {
    **CORS,
    "access-control-allow-methods": "POST, PATCH, DELETE, GET, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, If-Match",
    "access-control-max-age": "86400",
}
TRICKLE = "application/trickle-ice-sdpfrag"


def _parse_choice(body: bytes, languages: tuple[str, ...] | None) -> Choice:
    try:
        return parse_choice(body, languages)
    except ChoiceError as exc:
        raise RelayError(400, f"bad audio choice: {exc}") from None


def _error(status: int, message: str, retry_after: int | None = None) -> Response:
    headers = dict(CORS)
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="tribune"'  # RFC 6750
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


class MediaRoutes:
    """The routes, built with the app; the relay and signer are the app's, made in its lifespan."""

    def __init__(self, programme: Programme, settings: Settings) -> None:
        self.programme, self.settings = programme, settings

    def routes(self) -> list[Route]:
        return [
            Route("/sessions/{session_id}/whip", self._guard(self.publish),
                  methods=["POST", "OPTIONS"]),
            Route("/sessions/{session_id}/whep", self._guard(self.play), methods=["POST", "OPTIONS"]),
            Route("/sessions/{session_id}/{kind:str}/{resource_id}", self._guard(self.resource),
                  methods=["PATCH", "DELETE", "OPTIONS"]),
            Route("/sessions/{session_id}/broadcast", self._guard(self.readout),
                  methods=["GET", "OPTIONS"]),
            Route("/sessions/{session_id}/ice-servers", self._guard(self.ice_servers),
                  methods=["GET", "OPTIONS"]),
            Route("/sessions/{session_id}/whep/{resource_id}/audio", self._guard(self.audio),
                  methods=["PUT", "OPTIONS"]),
        ]

    def _guard(self, handler: Callable[[Request], Awaitable[Response]]
               ) -> Callable[[Request], Awaitable[Response]]:
        """Preflight, session and token checks shared by every endpoint; errors become plain
        text with a status, never a 500."""

        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={**PREFLIGHT, "accept-post": "application/sdp",
                                                          "accept-patch": TRICKLE})
            session_id, language = split_key(request.path_params["session_id"])
            session = self.programme.session(session_id)
            if session is None or not session.streamed:
                return _error(404, "no such streamed session")
            if language is not None and language not in session.interpretations:
                return _error(404, "no such interpretation channel")
            try:
                return await handler(request)
            except RelayError as exc:
                return _error(exc.status, exc.message, exc.retry_after)
            except BadOffer as exc:
                log.info("%s %s refused: %s", request.method, request.url.path, exc)
                return _error(400, str(exc))

        return endpoint

    @staticmethod
    def _relay(request: Request) -> Relay:
        relay: Relay = request.app.state.relay
        return relay

    def _authorise(self, request: Request, roles: frozenset[Role] | None) -> Role:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise RelayError(401, "an Authorization: Bearer token is required")
        try:
            signer: Signer = request.app.state.signer
            grant = signer.verify(token.strip(), time.time())
        except InvalidToken as exc:
            raise RelayError(401, f"invalid token: {exc}") from None
        session_id, language = split_key(request.path_params["session_id"])
        if not grant.covers(session_id) or (roles is not None and grant.role not in roles):
            # 401 as for a bad token (what WHIP clients expect to show as "wrong key"), saying why.
            raise RelayError(401, "this token is for another role or session")
        if roles is not None and grant.role is Role.INTERPRETER and grant.language != language:
            raise RelayError(401, "this interpreter link is for another language's channel")
        request.state.grant = grant  # for play()'s per-link bound
        return grant.role

    async def _read_body(self, request: Request, content_type: str,
                         limit: int = MAX_SDP_BYTES) -> bytes:
        """The body, if of `content_type` (415 otherwise), read no further than `limit` (413)."""
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != content_type:
            raise RelayError(415, f"the body must be {content_type}")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RelayError(413, f"the body is larger than {limit} bytes")
        return body

    def _created(self, request: Request, resource: Resource, answer: str,
                 location: str | None = None) -> Response:
        location = location or f"/sessions/{quote(resource.session_id)}/{resource.kind}/{resource.id}"
        headers = {**CORS, "location": location, "accept-patch": TRICKLE,
                   "etag": f'"{resource.id}"'}
        response = Response(answer, status_code=201, media_type="application/sdp", headers=headers)
        for link in self._relay(request).ice.link_headers(
                "studio" if resource.kind == "whip" else "viewer"):
            response.headers.append("link", link)  # TURN credentials of this connection's own
        return response

    @staticmethod
    def _publishers(request: Request) -> frozenset[Role]:
        """Who may publish here: the studio on the floor, an interpreter on their channel."""
        is_channel = split_key(request.path_params["session_id"])[1] is not None
        return CHANNEL_PUBLISH_ROLES if is_channel else PUBLISH_ROLES

    async def publish(self, request: Request) -> Response:
        self._authorise(request, self._publishers(request))
        body = await self._read_body(request, "application/sdp")
        resource, answer = await self._relay(request).publish(request.path_params["session_id"], body)
        return self._created(request, resource, answer)

    async def play(self, request: Request) -> Response:
        self._authorise(request, None)
        body = await self._read_body(request, "application/sdp")
        # Bounded per client address and per personal link: every role's but the public
        # participant link, which is everyone's (docs/media.md, "Limits").
        grant: Grant = request.state.grant
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        viewer = Viewer.of(request.client.host if request.client else None, token,
                           private_role=grant.role is not Role.PARTICIPANT
                           or grant.registrant is not None)
        # The first choice comes with the offer, so the first packets are already in it.
        query = request.query_params
        try:
            choice = Choice.parse({"language": query.get("language") or None,
                                   "floor": query.get("floor", "1") != "0"},
                                  self._languages(request))
        except ChoiceError as exc:
            raise RelayError(400, f"bad audio choice: {exc}") from None
        resource, answer = await self._relay(request).play(request.path_params["session_id"], body,
                                                           viewer, choice)
        return self._created(request, resource, answer)

    def _languages(self, request: Request) -> tuple[str, ...]:
        session = self.programme.session(split_key(request.path_params["session_id"])[0])
        return session.interpretations if session is not None else ()

    async def audio(self, request: Request) -> Response:
        """A player's choice of language, and whether it hears the floor under it."""
        self._authorise(request, None)
        body = await self._read_body(request, "application/json", MAX_CHOICE_BYTES)
        choice = _parse_choice(body, self._languages(request))  # checked here, done by the owner
        relay = self._relay(request)
        resource_id = request.path_params["resource_id"]
        resource = relay.resources.get(resource_id)
        if resource is None and relay.cluster is not None \
                and relay.cluster.owner(resource_id) != relay.cluster.node:
            return await self._forward(request, relay, "whep", resource_id, body)
        if resource is None or resource.kind != "whep" \
                or resource.session_id != request.path_params["session_id"]:
            return _error(404, "no such WHEP session")
        relay.choose(resource, choice)
        return Response(status_code=204, headers=CORS)

    async def resource(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        relay = self._relay(request)
        resource_id = request.path_params["resource_id"]
        resource = relay.resources.get(resource_id)
        if kind in ("whip", "whep") and resource is None and relay.cluster is not None \
                and relay.cluster.owner(resource_id) != relay.cluster.node:
            self._authorise(request, self._publishers(request) if kind == "whip" else None)
            return await self._forward(request, relay, kind, resource_id)
        if kind not in ("whip", "whep") or resource is None or resource.kind != kind \
                or resource.session_id != request.path_params["session_id"]:
            return _error(404, "no such WHIP/WHEP session")
        self._authorise(request, self._publishers(request) if kind == "whip" else None)
        if request.method == "DELETE":
            await onair.delete(self._relay(request), resource)
            return Response(status_code=200, headers=CORS)
        await self._relay(request).trickle(resource, await self._read_body(request, TRICKLE))
        return Response(status_code=204, headers=CORS)

    async def _forward(self, request: Request, relay: Relay, kind: str, resource_id: str,
                       body: bytes | None = None, key: str | None = None) -> Response:
        """Another worker holds the resource (several processes share the port): the token is
        checked here (by the caller), the request done there. `key`: the broadcast's, when the
        path does not name it (a guest's or the return feed)."""
        assert relay.cluster is not None
        if body is None:
            body = await self._read_body(request, TRICKLE) if request.method == "PATCH" else b""
        try:
            status, message = await relay.cluster.forward(
                resource_id, kind, key or request.path_params["session_id"], request.method, body)
        except UNREACHABLE as exc:
            log.warning("%s %s: the owner did not answer: %r", request.method, request.url.path, exc)
            return _error(503, "the server holding this session did not answer", 1)
        if status >= 400:
            return _error(status, message)
        return Response(status_code=status, headers=CORS)

    async def readout(self, request: Request) -> Response:
        """Players poll this (a 200, not a 409 in their console) until the studio is on air."""
        role = self._authorise(request, None)
        key = request.path_params["session_id"]
        relay = self._relay(request)
        stats = await relay.readout(key)
        if role not in READOUT_ROLES | CHANNEL_PUBLISH_ROLES:
            stats = {"live": stats["live"], "since": stats["since"]}
        # Off air because the studio ended it (not a lost signal): docs/media.md.
        stats["ended"] = not stats["live"] and relay.news is not None and key in relay.news.ended
        if split_key(key)[1] is None:  # which channels have an interpreter on air
            stats["channels"] = {lang: await relay.is_on_air(channel_key(key, lang))
                                 for lang in self._languages(request)}
        return JSONResponse(stats, headers={**CORS, "cache-control": "no-store"})

    async def ice_servers(self, request: Request) -> Response:
        """For pages that create their peer connection before they have an answer (and its Link
        headers). As bounded as the WHEP endpoint it precedes: the same tokens, a constant-size
        answer, an HMAC of work."""
        role = self._authorise(request, None)
        body = self._relay(request).ice.for_browser("studio" if role in PUBLISH_ROLES else "viewer")
        return JSONResponse(body, headers={**CORS, "cache-control": "no-store"})
