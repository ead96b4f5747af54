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
from live.media.edges import UNREACHABLE
from live.media.relay import Relay, RelayError, Resource, Viewer
from live.media.sdp import MAX_SDP_BYTES, BadOffer
from live.web.auth import Grant, InvalidToken, Signer

log = logging.getLogger(__name__)

PUBLISH_ROLES = frozenset({Role.STUDIO, Role.ADMIN})
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
        ]

    def _guard(self, handler: Callable[[Request], Awaitable[Response]]
               ) -> Callable[[Request], Awaitable[Response]]:
        """Preflight, session and token checks shared by every endpoint; errors become plain
        text with a status, never a 500."""

        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={**PREFLIGHT, "accept-post": "application/sdp",
                                                          "accept-patch": TRICKLE})
            session = self.programme.session(request.path_params["session_id"])
            if session is None or not session.streamed:
                return _error(404, "no such streamed session")
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
        session_id = request.path_params["session_id"]
        if not grant.covers(session_id) or (roles is not None and grant.role not in roles):
            # 401 as for a bad token (what WHIP clients expect to show as "wrong key"), saying why.
            raise RelayError(401, "this token is for another role or session")
        request.state.grant = grant  # for play()'s per-link bound
        return grant.role

    async def _sdp_body(self, request: Request, content_type: str) -> bytes:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != content_type:
            raise RelayError(415, f"the body must be {content_type}")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_SDP_BYTES:
                raise RelayError(413, f"the body is larger than {MAX_SDP_BYTES} bytes")
        return body

    def _created(self, request: Request, resource: Resource, answer: str) -> Response:
        location = f"/sessions/{quote(resource.session_id)}/{resource.kind}/{resource.id}"
        headers = {**CORS, "location": location, "accept-patch": TRICKLE,
                   "etag": f'"{resource.id}"'}
        response = Response(answer, status_code=201, media_type="application/sdp", headers=headers)
        for link in self._relay(request).ice.link_headers(
                "studio" if resource.kind == "whip" else "viewer"):
            response.headers.append("link", link)  # TURN credentials of this connection's own
        return response

    async def publish(self, request: Request) -> Response:
        self._authorise(request, PUBLISH_ROLES)
        body = await self._sdp_body(request, "application/sdp")
        resource, answer = await self._relay(request).publish(request.path_params["session_id"], body)
        return self._created(request, resource, answer)

    async def play(self, request: Request) -> Response:
        self._authorise(request, None)
        body = await self._sdp_body(request, "application/sdp")
        # Bounded per client address and per personal link: every role's but the public
        # participant link, which is everyone's (docs/media.md, "Limits").
        grant: Grant = request.state.grant
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        viewer = Viewer.of(request.client.host if request.client else None, token,
                           private_role=grant.role is not Role.PARTICIPANT
                           or grant.registrant is not None)
        resource, answer = await self._relay(request).play(request.path_params["session_id"], body,
                                                           viewer)
        return self._created(request, resource, answer)

    async def resource(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        relay = self._relay(request)
        resource_id = request.path_params["resource_id"]
        resource = relay.resources.get(resource_id)
        if kind in ("whip", "whep") and resource is None and relay.cluster is not None \
                and relay.cluster.owner(resource_id) != relay.cluster.node:
            return await self._forward(request, relay, kind, resource_id)
        if kind not in ("whip", "whep") or resource is None or resource.kind != kind \
                or resource.session_id != request.path_params["session_id"]:
            return _error(404, "no such WHIP/WHEP session")
        self._authorise(request, PUBLISH_ROLES if kind == "whip" else None)
        if request.method == "DELETE":
            await self._relay(request).end(resource.id)
            return Response(status_code=200, headers=CORS)
        await self._relay(request).trickle(resource, await self._sdp_body(request, TRICKLE))
        return Response(status_code=204, headers=CORS)

    async def _forward(self, request: Request, relay: Relay, kind: str, resource_id: str) -> Response:
        """Another worker holds the resource (several processes share the port): the token is
        checked here, the request done there."""
        assert relay.cluster is not None
        self._authorise(request, PUBLISH_ROLES if kind == "whip" else None)
        body = await self._sdp_body(request, TRICKLE) if request.method == "PATCH" else b""
        try:
            status, message = await relay.cluster.forward(
                resource_id, kind, request.path_params["session_id"], request.method, body)
        except UNREACHABLE as exc:
            log.warning("%s %s: the owner did not answer: %r", request.method, request.url.path, exc)
            return _error(503, "the server holding this session did not answer", 1)
        if status >= 400:
            return _error(status, message)
        return Response(status_code=status, headers=CORS)

    async def readout(self, request: Request) -> Response:
        """Players poll this (a 200, not a 409 in their console) until the studio is on air."""
        role = self._authorise(request, None)
        stats = await self._relay(request).readout(request.path_params["session_id"])
        if role not in READOUT_ROLES:
            stats = {"live": stats["live"], "since": stats["since"]}
        return JSONResponse(stats, headers={**CORS, "cache-control": "no-store"})

    async def ice_servers(self, request: Request) -> Response:
        """For pages that create their peer connection before they have an answer (and its Link
        headers). As bounded as the WHEP endpoint it precedes: the same tokens, a constant-size
        answer, an HMAC of work."""
        role = self._authorise(request, None)
        body = self._relay(request).ice.for_browser("studio" if role in PUBLISH_ROLES else "viewer")
        return JSONResponse(body, headers={**CORS, "cache-control": "no-store"})
