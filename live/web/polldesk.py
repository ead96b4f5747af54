"""Polls prepared from the control room (the admin link, event scope).

    GET  /control/polls?t=&session=   the page: one session's polls at a time, as the moderator's
                                      console shows them (its WebSocket, with the admin link)
    POST /control/polls/copy          {"from", "poll_id", "to"}: a poll copied to another session
                                      as a new draft (its question, kind and options; no ballots)

Preparing, editing, deleting, duplicating and resetting are the session's own commands over its
WebSocket (docs/protocol.md), which the admin link may send to any session; copying spans two
sessions, so it is this endpoint. Bounded: COPIES a minute over the whole event.
"""

from __future__ import annotations

import json
import logging
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.domain import Actor, DomainError, Role
from live.domain.commands import CreatePoll
from live.domain.ratelimit import TokenBucket
from live.web.auth import Grant
from live.web.control import ControlRoom, _bearer, json_error
from live.web.i18n import choose_language

log = logging.getLogger(__name__)

COPIES = 30  # a minute, over the event: a morning's polls copied to the afternoon's workshops
MAX_BODY = 1024
ERROR_STATUS = {"not_found": 404, "not_interactive": 409, "too_many_polls": 409}


class PollDesk:
    def __init__(self) -> None:
        self._copies = TokenBucket(COPIES, COPIES / 60)

    def routes(self) -> list[Route]:
        return [Route("/control/polls", self.page),
                Route("/control/polls/copy", self.copy, methods=["POST"])]

    @staticmethod
    def _control(request: Request) -> ControlRoom:
        control: ControlRoom = request.app.state.control
        return control

    async def page(self, request: Request) -> Response:
        control = self._control(request)
        checked = control._admin(request.query_params.get("t"))
        if not isinstance(checked, Grant):
            return control.pages.error(request, *checked)
        sessions = [s for s in control.service.programme.sessions if s.interactive]
        asked = request.query_params.get("session")
        chosen = next((s for s in sessions if s.id == asked), sessions[0] if sessions else None)
        return control.pages.render_page(
            request, "control_polls.html", choose_language(request),
            token=request.query_params["t"], sessions=sessions, chosen=chosen)

    async def copy(self, request: Request) -> Response:
        control = self._control(request)
        checked = control._admin(_bearer(request))
        if not isinstance(checked, Grant):
            return json_error(*checked)
        body = await request.body()
        if len(body) > MAX_BODY:
            return json_error(413, "polls.error.too_long")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("from", "poll_id", "to")):
            return json_error(400, "polls.error.bad_request",
                          message="'from', 'poll_id' and 'to' are session and poll ids")
        service = control.service
        source, target = data["from"], data["to"]
        if not service.knows(source) or not service.knows(target):
            return json_error(404, "error.unknown_session")
        poll = (await service.hub(source)).room.state.polls.get(data["poll_id"])
        if poll is None:
            return json_error(404, "polls.error.unknown_poll")
        if not self._copies.take(time.monotonic()):
            return json_error(429, "polls.error.rate", retry_after=60 // COPIES)
        key = f"copy:{secrets.token_urlsafe(12)}"
        command = CreatePoll(poll.question, list(poll.options), poll.multiple, key, poll.kind)
        try:
            await service.execute(target, command, Actor(Role.ADMIN))
        except DomainError as exc:
            return json_error(ERROR_STATUS.get(exc.code, 400), f"polls.error.{exc.code}",
                          message=exc.message)
        created = (await service.hub(target)).room.state.client_keys.get(("", key))
        log.info("control room: poll %s of %s copied to %s as %s", poll.id, source, target,
                 created)
        return JSONResponse({"session": target, "poll_id": created}, status_code=201)
