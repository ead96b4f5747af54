"""The programme editor's endpoints (the organiser's admin link, as a Bearer token):

    GET  /control/programme        JSON: version, text (TOML), data (the same programme as plain
                                   data, for the form), who saved it and when, the history
    PUT  /control/programme        JSON {base, text or data, by, what: "edit"|"import"}: 200
                                   {version}; 409 programme.stale naming who saved since and
                                   when; 422 programme.invalid with the message naming the field;
                                   400 bad JSON; 413 too long; 429 too many saves
    GET  /control/programme.toml   the stored text, to download (the token as Bearer or ?t=)
    GET  /programme/version        public: {"version": n} (with ?session=&lang=: its title, date,
                                   times and room), polled by open pages to follow edits
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from live.domain.programme import ProgrammeError
from live.programmes import (
    MAX_TEXT,
    ProgrammeDesk,
    create_prepared_polls,
    parse_data,
    parse_text,
    to_data,
    to_toml,
)
from live.service import Service
from live.store.programme_doc import StaleProgramme
from live.web.auth import Grant, Signer
from live.web.control import _bearer, admin_grant, json_error

MAX_NAME = 60  # characters of the editor's name


class ProgrammeEditor:
    def __init__(self, desk: ProgrammeDesk, service: Service, signer: Signer) -> None:
        self.desk, self.service, self.signer = desk, service, signer

    def _refused(self, request: Request) -> JSONResponse | None:
        checked = admin_grant(self.signer, _bearer(request) or request.query_params.get("t"))
        return None if isinstance(checked, Grant) else json_error(*checked)

    async def show(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        stored = await self.service.store.programme_docs.get()
        text = stored.text if stored is not None else to_toml(self.service.programme)
        try:  # the stored version's own programme, so that the form saves on what it shows
            programme = parse_text(text)
        except ProgrammeError:  # stored by another release, say: the one this worker serves
            programme = self.service.programme
        return JSONResponse({
            "version": stored.version if stored else 0, "text": text, "data": to_data(programme),
            "by": stored.by if stored else None, "at": stored.at if stored else None,
            "history": await self.service.store.programme_docs.history(),
        }, headers={"cache-control": "no-store"})

    async def save(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.body()
        if len(body) > MAX_TEXT * 2:
            return json_error(413, "programme.too_long")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            return json_error(400, "programme.bad_request", field="body", message="not JSON")
        if not isinstance(data, dict):
            return json_error(400, "programme.bad_request", field="body", message="not an object")
        base, text, plain = data.get("base"), data.get("text"), data.get("data")
        by, what = data.get("by", "admin"), data.get("what", "edit")
        if text is not None and plain is not None:
            return json_error(400, "programme.bad_request", field="data",
                          message="send either 'text' (TOML) or 'data', not both")
        if text is None and plain is None:
            return json_error(400, "programme.bad_request", field="data",
                          message="'text' (TOML) or 'data' is missing")
        for field, ok in (("base", isinstance(base, int) and not isinstance(base, bool)
                           and base >= 0),
                          ("text", text is None or isinstance(text, str)),
                          ("data", plain is None or isinstance(plain, dict)),
                          ("by", isinstance(by, str) and 0 < len(by.strip()) <= MAX_NAME),
                          ("what", what in ("edit", "import"))):
            if not ok:
                return json_error(400, "programme.bad_request", field=field,
                              message=f"'{field}' is missing or not valid")
        assert isinstance(base, int) and isinstance(by, str)
        if self.desk.rate_limited():
            return json_error(429, "programme.too_many_saves")
        before = self.service.programme
        try:
            if isinstance(plain, dict):  # the form's data, stored as the TOML it stands for
                text = to_toml(parse_data(plain))
            assert isinstance(text, str)
            doc = await self.desk.save(before, text, base, by.strip(), str(what))
        except ProgrammeError as exc:
            return json_error(422, "programme.invalid", message=str(exc))
        except StaleProgramme as stale:
            current = stale.current
            return json_error(409, "programme.stale", version=current.version, by=current.by,
                          at=current.at, message=f"version {current.version} was saved by "
                          f"{current.by} at {time.strftime('%H:%M:%S', time.gmtime(current.at))}"
                          " UTC: reload it and make your change again")
        polls = await create_prepared_polls(self.service, self.service.programme, before)
        return JSONResponse({"version": doc.version, "polls_created": polls})

    async def download(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        stored = await self.service.store.programme_docs.get()
        text = stored.text if stored is not None else to_toml(self.service.programme)
        name = f"{self.service.programme.id}-programme.toml"
        return Response(text, media_type="application/toml; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})

    async def version(self, request: Request) -> Response:
        """The version, and with ?session= that session's title, times and room (what its pages
        show of it, as public as the programme page) in ?lang=, for open pages to refresh."""
        answer: dict[str, Any] = {"version": self.desk.version}
        session_id = request.query_params.get("session")
        session = self.service.programme.session(session_id) if session_id else None
        if session is not None:
            lang = request.query_params.get("lang", "fr")
            answer["session"] = {"title": session.title.get(lang, session.title["fr"]),
                                 "date": session.day.isoformat(),
                                 "start": session.start.strftime("%H:%M"),
                                 "end": session.end.strftime("%H:%M"), "room": session.room}
        return JSONResponse(answer, headers={"cache-control": "no-store"})
