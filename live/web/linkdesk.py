"""The links for the day, from the control room (the admin link, event scope).

    GET  /control/links/{session_id}                 JSON: the session's links by role
    POST /control/links/{session_id}/{role}/revoke   revoke that role's links, answer the new ones
    GET  /control/sheets/{session_id}?t=             the room's printable sheet (A4, QR code)
    GET  /control/sheets?t=                          every room's sheet, one page each
    GET  /j/{code}                                   a short address: the participant page, asked
                                                     from the room (`onsite=1`)

The JSON endpoints take the admin token as a Bearer header (the control room's script); the
sheets take it as `?t=`, as a page does. Private links (moderator, stage, studio, interpreters,
captioner, guests) are shown here and nowhere else; the participants' link and its short address
are public, and are what the sheet prints.

Revoking raises the role's generation for the session in the store (live/web/revocation.py),
then reads the generations at once, so this process refuses the old links before answering and
the others within a second; open connections made with them are closed (4001). It works with the
in-memory store too, since the control room runs inside the service. Bounded: REVOCATIONS a
minute over the whole event.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live.config import Settings
from live.domain import Role
from live.domain.programme import Session
from live.domain.ratelimit import TokenBucket
from live.links import participant_link, session_links, short_address
from live.revoke import RevokeError, check_target
from live.web.auth import SHORT_ALPHABET, SHORT_CHARS, Grant
from live.web.control import ControlRoom, _bearer, json_error
from live.web.i18n import choose_language
from live.web.revocation import generation_key

log = logging.getLogger(__name__)

REVOCATIONS = 10  # a minute, over the whole event: a slip of the mouse, not a storm
# The links each role's revocation replaces, by their name in session_links.
REVOKES = {"participant": "participant", "short": "participant", "whip": "studio"}
REVOCABLE = (Role.PARTICIPANT, Role.MODERATOR, Role.STAGE, Role.STUDIO, Role.INTERPRETER,
             Role.CAPTIONER, Role.GUEST)


def role_of(name: str) -> str:
    """The role whose revocation a link follows: "interpreter en" and "guest Awa" by their
    first word, the studio's WHIP address with the studio."""
    return REVOKES.get(name, name.split(" ", 1)[0])


def qr_svg(url: str) -> Markup:
    """The QR code of `url` as inline SVG (no script, nothing fetched); scaled by CSS."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=4, omitsize=True, title=url))


class LinkDesk:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._revocations = TokenBucket(REVOCATIONS, REVOCATIONS / 60)

    def routes(self) -> list[Route]:
        return [Route("/control/links/{session_id}", self.links),
                Route("/control/links/{session_id}/{role}/revoke", self.revoke, methods=["POST"]),
                Route("/control/sheets", self.sheets),
                Route("/control/sheets/{session_id}", self.sheets),
                Route("/j/{code}", self.short)]

    @staticmethod
    def _control(request: Request) -> ControlRoom:
        control: ControlRoom = request.app.state.control
        return control

    def _session(self, request: Request) -> Session | None:
        session = self._control(request).service.programme.session(
            request.path_params["session_id"])
        if session is None or not (session.interactive or session.streamed):
            return None  # a session with no links (a break, a lunch)
        return session

    def _listing(self, request: Request, session: Session) -> dict[str, Any]:
        signer = self._control(request).signer
        expires = int(time.time()) + self.settings.token_days * 86400
        roles: dict[str, list[dict[str, str]]] = {}
        for name, url in session_links(session, self.settings, signer, expires).items():
            roles.setdefault(role_of(name), []).append({"name": name, "url": url})
        return {"session": session.id, "sheet": f"/control/sheets/{session.id}",
                "roles": [{"role": role, "links": links} for role, links in roles.items()]}

    def _admin_session(self, request: Request) -> Session | Response:
        """The session asked about, or the answer refusing the request: 401/403 for anything but
        an admin token (before anything else is looked at), 404 for a session without links."""
        checked = self._control(request)._admin(_bearer(request))
        if not isinstance(checked, Grant):
            return json_error(*checked)
        session = self._session(request)
        if session is None:
            return JSONResponse({"error": "error.unknown_session"}, status_code=404)
        return session

    async def links(self, request: Request) -> Response:
        session = self._admin_session(request)
        if isinstance(session, Response):
            return session
        return JSONResponse(self._listing(request, session), headers={"cache-control": "no-store"})

    async def revoke(self, request: Request) -> Response:
        session = self._admin_session(request)
        if isinstance(session, Response):
            return session
        name = request.path_params["role"]
        role = next((r for r in REVOCABLE if r.value == name), None)
        if role is None:
            return JSONResponse({"error": "links.error.role",
                                 "detail": f"one of {', '.join(r.value for r in REVOCABLE)}"},
                                status_code=400)
        try:
            check_target(self._control(request).service.programme, session.id, role)
        except RevokeError as exc:
            return JSONResponse({"error": "links.error.none", "detail": str(exc)}, status_code=409)
        if not self._revocations.take(time.monotonic()):
            return JSONResponse({"error": "links.error.rate", "retry_after": 60 // REVOCATIONS},
                                status_code=429, headers={"retry-after": str(60 // REVOCATIONS)})
        control = self._control(request)
        store = control.service.store
        generation = await store.bump_generation(generation_key(role.value, session.id))
        control.signer.generations.update(await store.generations())
        log.warning("control room: %s links of %s revoked (generation %d), new ones issued",
                    role.value, session.id, generation)
        return JSONResponse({**self._listing(request, session), "revoked": role.value,
                             "generation": generation}, headers={"cache-control": "no-store"})

    async def sheets(self, request: Request) -> Response:
        control = self._control(request)
        checked = control._admin(request.query_params.get("t"))
        if not isinstance(checked, Grant):
            return control.pages.error(request, *checked)
        programme = control.service.programme
        if "session_id" in request.path_params:
            one = self._session(request)
            if one is None:
                return control.pages.error(request, 404, "error.unknown_session")
            chosen = [one]
        else:
            chosen = [s for s in programme.sessions if s.interactive or s.streamed]
        lang = choose_language(request)
        sheets = []
        for s in chosen:
            short = (short_address(self.settings.base_url, control.signer, s.id)
                     if self.settings.public_link else None)
            sheets.append({"title": s.title.get(lang, s.title["fr"]), "room": s.room,
                           "date": s.day.isoformat(), "start": s.start.strftime("%H:%M"),
                           "end": s.end.strftime("%H:%M"), "short": short,
                           "qr": qr_svg(short) if short else None})
        return control.pages.render_page(request, "link_sheet.html", lang, sheets=sheets)

    async def short(self, request: Request) -> Response:
        control = self._control(request)
        code = request.path_params["code"].lower()
        if len(code) != SHORT_CHARS or not set(code) <= set(SHORT_ALPHABET):
            return control.pages.error(request, 404, "error.short_unknown")
        signer = control.signer
        if self.settings.public_link:
            for s in control.service.programme.sessions:
                generation = signer.generations.of(Role.PARTICIPANT.value, s.id)
                if signer.short_code(s.id, generation) == code:
                    return self._to_session(request, s)
        log.info("short address not found: %s", code)
        return control.pages.error(request, 404, "error.short_unknown")

    def _to_session(self, request: Request, session: Session) -> Response:
        """The participant page with today's participant link, marked as asked from the room."""
        expires = int(time.time()) + self.settings.token_days * 86400
        url = participant_link(session, self.settings, self._control(request).signer, expires)
        return RedirectResponse(f"{url}&onsite=1", status_code=303,
                                headers={"cache-control": "no-store"})
