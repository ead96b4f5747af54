"""The organiser's reports, from the control room (the admin link, event scope).

    GET /control/reports/event.{xlsx|csv|json}                  the whole event
    GET /control/reports/sessions/{session_id}.{xlsx|csv|json}  one session

The admin token as `?t=` (the control room's download links) or as a Bearer header; `?lang=` (or
the cookie, or Accept-Language, as the pages) for the words; `?sep=semicolon` for a CSV with
semicolons and decimal commas. What is in them: live/reports (pure), and docs/protocol.md.

Bounded: GET only; a report holds what the store keeps of a session (its state, its capped
attendance); building the file runs in a thread, at most RENDERS at a time, so neither a big
event nor a few impatient clicks stall the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from live.domain.programme import Session
from live.domain.state import RoomState
from live.reports.archive import archive
from live.reports.render import csv_text, xlsx_bytes
from live.reports.tables import SessionData, Words, event_zone, report_tables
from live.service import Service
from live.web.auth import Grant
from live.web.control import ControlRoom, _bearer
from live.web.i18n import choose_language, translator

log = logging.getLogger(__name__)

RENDERS = 2  # reports being written at once (each in a thread)
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
SEPARATORS = {"comma": False, "semicolon": True}


class Reports:
    def __init__(self, control: ControlRoom, service: Service) -> None:
        self.control, self.service = control, service
        self._renders = asyncio.Semaphore(RENDERS)

    async def answer(self, request: Request) -> Response:
        pages = self.control.pages
        checked = self.control._admin(_bearer(request) or request.query_params.get("t"))
        if not isinstance(checked, Grant):
            status, key = checked
            response = pages.error(request, status, key)
            if status == 401:
                response.headers["www-authenticate"] = "Bearer"
            return response
        fmt = request.path_params["format"]
        if fmt not in FORMATS:
            return pages.error(request, 404, "report.bad_format")
        session_id = request.path_params.get("session_id")
        programme = self.service.programme
        if session_id is None:
            sessions = list(programme.sessions)
        else:
            session = programme.session(session_id)
            if session is None:
                return pages.error(request, 404, "error.unknown_session")
            sessions = [session]
        semicolon = SEPARATORS.get(request.query_params.get("sep", "comma"))
        if semicolon is None:
            return pages.error(request, 400, "report.bad_separator")
        lang = choose_language(request)
        try:
            items = [await self._session_data(s) for s in sessions]
        except Exception:  # the store away (a session to load, attendance to read): try later
            log.warning("report not made: the store did not answer", exc_info=True)
            return pages.error(request, 503, "error.unavailable")
        words = Words(translator(lang), lang, event_zone(programme))
        async with self._renders:
            body = await self._render(fmt, items, words, semicolon, whole_event=session_id is None)
        name = f"{programme.id}-{session_id or 'event'}-report.{fmt}"
        return Response(body, media_type=FORMATS[fmt], headers={
            "content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})

    async def _session_data(self, session: Session) -> SessionData:
        if session.interactive or session.streamed:
            state = (await self.service.hub(session.id)).room.state
        else:  # neither questions nor a stream: nothing was ever recorded for it
            state = RoomState(session.id, interactive=False)
        return SessionData(session, state, await self.service.store.attendance(session.id))

    async def _render(self, fmt: str, items: list[SessionData], words: Words,
                      semicolon: bool, *, whole_event: bool) -> bytes:
        """The rows are taken here, on the loop (the states change between awaits); only the
        writing, from plain values, goes to a thread."""
        programme = self.service.programme
        if fmt == "json":
            document: dict[str, Any] = archive(programme, items, time.time(), words.zone)
            return await asyncio.to_thread(_json_bytes, document)
        tables = report_tables(items, words, whole_event=whole_event)
        if fmt == "csv":
            text = await asyncio.to_thread(csv_text, tables, semicolon=semicolon)
            return text.encode("utf-8")
        title = programme.title.get(words.lang) or programme.title["fr"]
        if not whole_event:
            title = f"{title} · {words.title(items[0].session)}"
        return await asyncio.to_thread(xlsx_bytes, tables, title=title)


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
