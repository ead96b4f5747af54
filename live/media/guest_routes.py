"""Remote guests' media: their links, their feeds, and the return feed they hear.

    POST   /sessions/{session}/guests                  studio → 201 JSON {id, name, link}: a new
                                                       guest link (JSON body {"name": ...})
    POST   /sessions/{session}/guests/{guest}/whip     that guest's link → their camera and mic
    POST   /sessions/{session}/guests/{guest}/whep     studio → that guest's feed (the studio page's
                                                       preview and composition, a clean feed page)
    POST   /sessions/{session}/return/whip             studio → the return feed (the room without
                                                       the guests)
    POST   /sessions/{session}/return/whep             a guest of the session, or the studio
    GET    …/guests/{guest}/broadcast, …/return/broadcast   JSON {"live": bool}: whether the feed is
                                                       on air, for those who may play it (pages
                                                       ask before playing, rather than get a 409)
    PATCH, DELETE  …/{whip|whep}/{id}                  as for the floor (live/media/routes.py)

Feeds are relay broadcasts of their own (live/media/feeds.py). Errors are plain text with a
4xx status, as on the floor's endpoints.
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.config import Settings
from live.domain import DomainError, Role
from live.domain.programme import Programme
from live.domain.ratelimit import TokenBucket
from live.domain.state import GUEST_NAME_CHARS
from live.domain.text import clean_text
from live.media import onair
from live.media.feeds import guest_key, return_key, valid_guest_id
from live.media.relay import RelayError, Resource
from live.media.routes import CORS, PUBLISH_ROLES, TRICKLE, MediaRoutes
from live.media.viewers import Viewer
from live.web.auth import Grant, Signer

MAX_NAME_BODY = 1024
# Guest links a session's studio may make: a panel at once, then one every few seconds.
LINK_BURST, LINKS_PER_SECOND = 20, 1 / 3
RETURN_LISTENERS = frozenset({Role.GUEST, *PUBLISH_ROLES})


def guest_link(base_url: str, signer: Signer, session_id: str, name: str, expires: int
               ) -> tuple[str, str]:
    """A new guest's id and link."""
    guest_id = "g" + secrets.token_urlsafe(6)
    token = signer.issue(Role.GUEST, session_id, expires, guest=(guest_id, name))
    return guest_id, f"{base_url}/guest/{session_id}?t={quote(token)}"


class GuestRoutes(MediaRoutes):
    """The floor's checks and answers (MediaRoutes), for the feeds' own paths."""

    def __init__(self, programme: Programme, settings: Settings) -> None:
        super().__init__(programme, settings)
        self._buckets: dict[str, TokenBucket] = {}  # guest links made, per session

    def routes(self) -> list[Route]:
        base = "/sessions/{session_id}"
        return [
            Route(base + "/guests", self._guard(self.new_guest), methods=["POST", "OPTIONS"]),
            Route(base + "/guests/{guest_id}/broadcast", self._guard(self.feed_readout),
                  methods=["GET", "OPTIONS"]),
            Route(base + "/return/broadcast", self._guard(self.feed_readout),
                  methods=["GET", "OPTIONS"]),
            Route(base + "/guests/{guest_id}/{kind:str}", self._guard(self.open_feed),
                  methods=["POST", "OPTIONS"]),
            Route(base + "/guests/{guest_id}/{kind:str}/{resource_id}",
                  self._guard(self.feed_resource), methods=["PATCH", "DELETE", "OPTIONS"]),
            Route(base + "/return/{kind:str}", self._guard(self.open_feed),
                  methods=["POST", "OPTIONS"]),
            Route(base + "/return/{kind:str}/{resource_id}", self._guard(self.feed_resource),
                  methods=["PATCH", "DELETE", "OPTIONS"]),
        ]

    async def new_guest(self, request: Request) -> Response:
        self._authorise(request, PUBLISH_ROLES)
        body = await self._read_body(request, "application/json", MAX_NAME_BODY)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("name"), str):
                raise ValueError
            name = clean_text(data["name"], GUEST_NAME_CHARS, "name")
        except (ValueError, DomainError) as exc:
            detail = exc.message if isinstance(exc, DomainError) else "expected {\"name\": text}"
            raise RelayError(400, f"bad guest: {detail}") from None
        assert name is not None
        name = " ".join(name.split())  # one line, as it shows in the studio's list and the picture
        session_id = request.path_params["session_id"]
        bucket = self._buckets.setdefault(session_id,
                                          TokenBucket(LINK_BURST, LINKS_PER_SECOND))
        if not bucket.take(time.monotonic()):
            raise RelayError(429, "too many guest links at once: try again in a few seconds", 3)
        signer: Signer = request.app.state.signer
        expires = int(time.time()) + self.settings.token_days * 86400
        guest_id, link = guest_link(self.settings.base_url, signer, session_id, name, expires)
        return JSONResponse({"id": guest_id, "name": name, "link": link}, status_code=201,
                            headers=CORS)

    def _feed(self, request: Request, kind: str) -> tuple[str, frozenset[Role]]:
        """The feed's key and who may open it this way (publish or play)."""
        session_id = request.path_params["session_id"]
        guest_id = request.path_params.get("guest_id")
        if kind not in ("whip", "whep"):
            raise RelayError(404, "no such endpoint")
        if guest_id is None:
            return return_key(session_id), PUBLISH_ROLES if kind == "whip" else RETURN_LISTENERS
        if not valid_guest_id(guest_id):
            raise RelayError(404, "no such guest")
        return guest_key(session_id, guest_id), frozenset({Role.GUEST}) if kind == "whip" \
            else PUBLISH_ROLES

    def _authorise_feed(self, request: Request, roles: frozenset[Role]) -> Grant:
        self._authorise(request, roles)
        grant: Grant = request.state.grant
        guest_id = request.path_params.get("guest_id")
        if grant.role is Role.GUEST and guest_id is not None and grant.guest != guest_id:
            raise RelayError(401, "this guest link is for another guest")
        return grant

    async def open_feed(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        key, roles = self._feed(request, kind)
        self._authorise_feed(request, roles)
        body = await self._read_body(request, "application/sdp")
        relay = self._relay(request)
        if kind == "whip":
            resource, answer = await relay.publish(key, body)
        else:
            # The studio plays every guest (and a clean feed page each): bounded per address
            # and per process, not per link.
            viewer = Viewer.of(request.client.host if request.client else None, None,
                               private_role=False)
            resource, answer = await relay.play(key, body, viewer)
        return self._created(request, resource, answer, f"{request.url.path}/{resource.id}")

    async def feed_readout(self, request: Request) -> Response:
        key, roles = self._feed(request, "whep")
        self._authorise_feed(request, roles)
        live = await self._relay(request).is_on_air(key)
        return JSONResponse({"live": live}, headers={**CORS, "cache-control": "no-store"})

    async def feed_resource(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        key, roles = self._feed(request, kind)
        relay = self._relay(request)
        resource_id = request.path_params["resource_id"]
        resource: Resource | None = relay.resources.get(resource_id)
        if resource is None and relay.cluster is not None \
                and relay.cluster.owner(resource_id) != relay.cluster.node:
            self._authorise_feed(request, roles)
            return await self._forward(request, relay, kind, resource_id, key=key)
        if resource is None or resource.kind != kind or resource.session_id != key:
            raise RelayError(404, "no such WHIP/WHEP session")
        self._authorise_feed(request, roles)
        if request.method == "DELETE":
            await onair.delete(relay, resource)
            return Response(status_code=200, headers=CORS)
        await relay.trickle(resource, await self._read_body(request, TRICKLE))
        return Response(status_code=204, headers=CORS)
