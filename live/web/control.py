"""The organiser's control room: every room at a glance, live (an admin link, event scope).

    GET /control?t=            the page (static/js/control.js asks the status every 2 s)
    GET /control/status        JSON, the admin token as Bearer: each room's card with its alerts
                               (live/control.py), and when it was made

What it reads: each session's state (pending questions, the open poll, the question on stage), the
relay's readout (on air, the stream, viewers, recording, the last keyframe's age) and who is
connected, by role, over every worker: the workers' reports in the registry (live/registry).
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from live.control import RoomFigures, connected_by_session, room_card
from live.domain import Role
from live.domain.state import OPEN, PENDING
from live.media.relay import Relay
from live.monitor import Monitor
from live.service import Service
from live.web.auth import Grant, InvalidToken, Signer
from live.web.i18n import choose_language
from live.web.pages import Pages, programme_now


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def json_error(status: int, key: str, **fields: object) -> JSONResponse:
    """An organiser's endpoint refusing a request: the message key and its details; a 401 names
    the scheme the token goes in (Bearer)."""
    return JSONResponse({"error": key, **fields}, status_code=status,
                        headers={"www-authenticate": "Bearer"} if status == 401 else {})


def admin_grant(signer: Signer, token: str | None) -> tuple[int, str] | Grant:
    """The organiser's grant, or the status and message key refusing it (401: no valid token;
    403: another role's)."""
    try:
        grant = signer.verify(token, time.time())
    except InvalidToken:
        return 401, "error.bad_link"
    if grant.role is not Role.ADMIN:
        return 403, "error.wrong_link"
    return grant


class ControlRoom:
    def __init__(self, pages: Pages, service: Service, relay: Relay, monitor: Monitor,
                 signer: Signer) -> None:
        self.pages, self.service, self.relay = pages, service, relay
        self.monitor, self.signer = monitor, signer

    def _admin(self, token: str | None) -> tuple[int, str] | Grant:
        return admin_grant(self.signer, token)

    async def page(self, request: Request) -> Response:
        checked = self._admin(request.query_params.get("t"))
        if not isinstance(checked, Grant):
            return self.pages.error(request, *checked)
        lang = choose_language(request)
        return self.pages.render_page(request, "control.html", lang,
                                      token=request.query_params["t"])

    async def status(self, request: Request) -> Response:
        checked = self._admin(_bearer(request))
        if not isinstance(checked, Grant):
            return json_error(*checked)
        lang = choose_language(request)
        now = programme_now(self.service.programme, self.pages.settings)
        try:
            connected = connected_by_session(await self.monitor.reports())
        except Exception:  # the registry away: the rooms without their connections
            connected = {}
        rooms = []
        for session in self.service.programme.sessions:
            figures = RoomFigures(connected=connected.get(session.id, {}))
            if session.interactive or session.streamed:
                await self._session_figures(session.id, figures)
            if session.streamed:
                figures.readout = await self.relay.readout(session.id)
                figures.ended = self.relay.news is not None and session.id in self.relay.news.ended
            rooms.append(room_card(session, figures, now, lang))
        return JSONResponse({"at": time.time(), "now": now.isoformat(timespec="minutes"),
                             "rooms": rooms}, headers={"cache-control": "no-store"})

    async def _session_figures(self, session_id: str, figures: RoomFigures) -> None:
        state = (await self.service.hub(session_id)).room.state
        figures.pending = sum(1 for q in state.questions.values() if q.status == PENDING)
        poll = next((p for p in state.polls.values() if p.status == OPEN), None)
        figures.open_poll = poll.question if poll is not None else None
        question = state.questions.get(state.stage_question_id or "")
        figures.stage_question = question.text if question is not None else None
