"""HTML pages: programme, participant session page, moderator console, stage screen, studio,
interpreter's booth."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from live.config import Settings
from live.domain import Role
from live.domain.programme import Programme, Session
from live.media.feeds import valid_guest_id
from live.service import Service
from live.web.auth import Grant, InvalidToken, Signer
from live.web.exports import polls_csv, questions_csv
from live.web.i18n import LANGUAGES, catalog, choose_language, language_name, translator
from live.web.replay import STAFF, ReplayAccess, answered_questions, parts, poll_results

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "templates"))

PAGE_ROLES: dict[str, frozenset[Role]] = {
    "participant": frozenset({Role.PARTICIPANT}),
    "moderator": frozenset({Role.MODERATOR, Role.ADMIN}),
    "stage": frozenset({Role.STAGE, Role.MODERATOR, Role.ADMIN}),
    "studio": frozenset({Role.STUDIO, Role.ADMIN}),
    "captioner": frozenset({Role.CAPTIONER}),
    # An interpreter's link names its language; an admin names one with ?language=.
    "interpreter": frozenset({Role.INTERPRETER, Role.ADMIN}),
    "guest": frozenset({Role.GUEST}),  # a guest's own link: it names them
    "guestfeed": frozenset({Role.STUDIO, Role.ADMIN}),  # a guest's clean feed, for the AV desk
}
# Pages of a session's broadcast: nothing to show when it is not streamed.
STREAMED_PAGES = frozenset({"guest", "guestfeed"})


def programme_now(programme: Programme, settings: Settings) -> datetime:
    """The event's local time now (or the rehearsal clock), naive, to compare with the programme."""
    if settings.clock_override is not None:
        return settings.clock_override.replace(tzinfo=None)
    try:
        return datetime.now(ZoneInfo(programme.timezone)).replace(tzinfo=None)
    except ZoneInfoNotFoundError:
        return datetime.now().replace(tzinfo=None)


def session_for_page(s: Session, lang: str, now: datetime) -> dict[str, Any]:
    return {
        "id": s.id, "title": s.title.get(lang, s.title["fr"]),
        "description": s.description.get(lang, s.description.get("fr", "")),
        "date": s.day.isoformat(), "start": s.start.strftime("%H:%M"),
        "end": s.end.strftime("%H:%M"), "kind": s.kind, "room": s.room,
        "interactive": s.interactive, "streamed": s.streamed, "live_now": s.live_at(now),
        "languages": list(s.languages),
    }


def interpretation(session: Session, grant: Grant, asked: str | None,
                   lang: str) -> dict[str, Any] | None:
    """The interpreter page's channel (the link's language; an admin's `?language=`), the
    session's languages (the floor's first) and their names in the page's language; None when
    the session has no such channel."""
    language = grant.language if grant.role is Role.INTERPRETER else asked
    if language not in session.interpretations:
        return None
    names = Locale.parse(lang).languages
    return {"language": language, "languages": list(session.languages),
            "name": names.get(language, language),
            "names": {code: names.get(code, code) for code in session.languages}}


def event_for_page(programme: Programme, lang: str, now: datetime) -> dict[str, Any]:
    return {
        "id": programme.id, "title": programme.title.get(lang, programme.title["fr"]),
        "venue": programme.venue,
        "days": [{"date": d.day.isoformat(), "title": d.title.get(lang, d.title.get("fr", "")),
                  "sessions": [session_for_page(s, lang, now)
                               for s in programme.sessions_on(d.day)]}
                 for d in programme.days],
    }


def catalog_json(lang: str) -> Markup:
    """The JS catalog, safe inside a <script type="application/json"> block."""
    text = json.dumps(catalog(lang), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


class Pages:
    def __init__(self, programme: Programme, settings: Settings, signer: Signer,
                 replays: ReplayAccess | None = None) -> None:
        self.programme = programme
        self.settings = settings
        self.signer = signer
        self.replays = replays

    def _context(self, request: Request, lang: str) -> dict[str, Any]:
        now = programme_now(self.programme, self.settings)
        links = {}
        for code in LANGUAGES:
            query = {**request.query_params, "lang": code}
            links[code] = f"{request.url.path}?{urlencode(query)}"
        t = translator(lang)
        plural = Locale.parse(lang).plural_form

        def tn(key: str, count: int, **values: object) -> str:
            """A counted message: `key.one` or `key.other` (the catalogs' plural forms)."""
            return t(f"{key}.{plural(abs(count))}", count=count, **values)

        return {"t": t, "tn": tn, "lang": lang, "lang_links": links,
                "lang_names": {code: language_name(code) for code in LANGUAGES},
                "event": event_for_page(self.programme, lang, now),
                "catalog_json": catalog_json(lang)}

    def _render(self, request: Request, name: str, context: dict[str, Any],
                status_code: int = 200) -> Response:
        response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
        response.headers["cache-control"] = "no-store"
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("lang", context["lang"], max_age=365 * 86400, samesite="lax")
        return response

    def render_page(self, request: Request, name: str, lang: str, **values: Any) -> Response:
        """A page of the event as a whole (no session): the common context and `values`."""
        return self._render(request, name, {**self._context(request, lang), **values})

    def error(self, request: Request, status_code: int, message_key: str) -> Response:
        lang = choose_language(request)
        context = {**self._context(request, lang), "status_code": status_code,
                   "message_key": message_key}
        return self._render(request, "error.html", context, status_code)

    @staticmethod
    def _bad_link_key(request: Request) -> str:
        """No token at all is most likely a bookmark: pages take the token out of the address
        bar (static/js/linktoken.js), so say that rather than "expired"."""
        return "error.bad_link" if "t" in request.query_params else "error.no_key"

    def _grant(self, request: Request) -> Grant | None:
        try:
            return self.signer.verify(request.query_params.get("t"), time.time())
        except InvalidToken:
            return None

    async def programme_page(self, request: Request) -> Response:
        lang = choose_language(request)
        context = self._context(request, lang)
        grant = self._grant(request)
        token = request.query_params.get("t", "")
        if grant is not None and grant.role is Role.PARTICIPANT:
            context["session_links"] = {
                s.id: f"/s/{s.id}?{urlencode({'t': token, 'lang': lang})}"
                for s in self.programme.sessions if s.interactive and grant.covers(s.id)}
            context["replay_links"] = await self._replay_links(grant, token, lang)
        return self._render(request, "programme.html", context)

    async def _replay_links(self, grant: Grant, token: str, lang: str) -> dict[str, str]:
        """The sessions with a replay this participant may watch: recorded, published, over."""
        if self.replays is None or self.replays.directory is None:
            return {}
        now = programme_now(self.programme, self.settings)
        links = {}
        for s in self.programme.sessions:
            if not s.streamed or s.live_at(now) or not parts(self.replays.directory, s.id):
                continue
            if await self.replays.check(grant, s.id) is None:
                links[s.id] = f"/replay/{s.id}?{urlencode({'t': token, 'lang': lang})}"
        return links

    async def replay_page(self, request: Request) -> Response:
        session = self.programme.session(request.path_params["session_id"])
        if session is None or not session.streamed or self.replays is None:
            return self.error(request, 404, "error.unknown_session")
        grant = self._grant(request)
        refusal = await self.replays.check(grant, session.id)
        if refusal is not None:
            status, key = refusal
            return self.error(request, status, self._bad_link_key(request) if status == 401 else key)
        assert grant is not None
        state = (await self.replays.service.hub(session.id)).room.state
        found = parts(self.replays.directory, session.id)
        token = request.query_params["t"]
        lang = choose_language(request)
        context = self._context(request, lang)
        context.update(
            session=session_for_page(session, lang, programme_now(self.programme, self.settings)),
            token=token, published=state.replay_published, staff=grant.role in STAFF,
            parts=[{"name": p.name, "url": f"/replay/{session.id}/{p.name}?{urlencode({'t': token})}",
                    "started": p.started} for p in found],
            questions=answered_questions(state, found[0].started if found else None),
            polls=poll_results(state, grant.role in STAFF))
        return self._render(request, "replay.html", context)

    async def session_page(self, request: Request) -> Response:
        page = request.scope["route"].name  # participant, moderator, stage, studio, captioner, interpreter
        session = self.programme.session(request.path_params["session_id"])
        if session is None:
            return self.error(request, 404, "error.unknown_session")
        grant = self._grant(request)
        if grant is None:
            return self.error(request, 401, self._bad_link_key(request))
        if grant.role not in PAGE_ROLES[page] or not grant.covers(session.id):
            return self.error(request, 403, "error.wrong_link")
        if (grant.role is Role.PARTICIPANT and grant.registrant is None
                and not self.settings.public_link):  # registered participants only
            return self.error(request, 403, "error.public_link_off")
        if page in STREAMED_PAGES and not session.streamed:
            return self.error(request, 404, "error.unknown_session")
        lang = choose_language(request)
        context = self._context(request, lang)
        if page == "guest":
            context["guest"] = {"id": grant.guest, "name": grant.name}
        if page == "guestfeed":
            guest_id = request.path_params["guest_id"]
            if not valid_guest_id(guest_id):
                return self.error(request, 404, "error.unknown_session")
            context["guest_id"] = guest_id
        if page == "interpreter":
            booth = interpretation(session, grant, request.query_params.get("language"), lang)
            if booth is None:
                return self.error(request, 404, "interpreter.no_channel")
            context["interpretation"] = booth
        now = programme_now(self.programme, self.settings)
        context.update(session=session_for_page(session, lang, now),
                       token=request.query_params["t"])
        return self._render(request, f"{page}.html", context)

    async def export(self, request: Request, service: Service) -> Response:
        """questions.csv or polls.csv of a session, for moderators."""
        session = self.programme.session(request.path_params["session_id"])
        if session is None or request.path_params["kind"] not in ("questions", "polls"):
            return self.error(request, 404, "error.unknown_session")
        grant = self._grant(request)
        if grant is None:
            return self.error(request, 401, self._bad_link_key(request))
        if grant.role not in PAGE_ROLES["moderator"] or not grant.covers(session.id):
            return self.error(request, 403, "error.wrong_link")
        hub = await service.hub(session.id)
        kind = request.path_params["kind"]
        body = questions_csv(hub.room.state) if kind == "questions" else polls_csv(hub.room.state)
        return PlainTextResponse(body, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{session.id}-{kind}.csv"',
            "cache-control": "no-store"})
