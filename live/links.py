"""The links printed at start: one per role and session, each carrying its signed token."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from live.config import Settings
from live.domain import Role
from live.domain.programme import Programme, Session
from live.registrants import Registrant, Registry, links_csv
from live.web.auth import EVENT_SCOPE, Signer


@dataclass
class Links:
    base_url: str
    programme: str | None  # None: the public link is switched off (registered participants only)
    control: str = ""  # the organiser's control room (an admin link)
    by_session: dict[str, dict[str, str]] = field(default_factory=dict)  # session -> role -> url
    titles: dict[str, str] = field(default_factory=dict)
    short: dict[str, str] = field(default_factory=dict)  # session -> its room's short address

    def link(self, role: str, session_id: str) -> str:
        return self.by_session[session_id][role]

    def as_text(self) -> str:
        lines = ["", "tribune is running.", ""]
        if self.programme is None:
            lines += ["Registered participants only: the public link is switched off.", ""]
        else:
            lines += ["Programme, for participants (may be shared publicly):",
                      f"  {self.programme}", ""]
        if self.control:
            lines += ["Control room, for the organiser (keep private):", f"  {self.control}", ""]
        for session_id, roles in self.by_session.items():
            lines.append(f"{self.titles[session_id]}  [{session_id}]")
            for role, url in roles.items():
                note = "  (public)" if role == "participant" else "  (keep private)"
                lines.append(f"  {role:<15}{url}{note}")
            if session_id in self.short:
                lines.append(f"  {'short':<15}{self.short[session_id]}  (public, for the room)")
            lines.append("")
        return "\n".join(lines)


def _session_participant(signer: Signer, session_id: str, public: str, expires: int) -> str:
    """The public token, unless this session's participant links were revoked on their own
    (python -m live.revoke SESSION participant): then the session has a token of its own."""
    if signer.generations.of(Role.PARTICIPANT.value, session_id) == 0:
        return public
    return quote(signer.issue(Role.PARTICIPANT, session_id, expires))


def role_links(programme: Programme, settings: Settings, signer: Signer) -> Links:
    expires = int(time.time()) + settings.token_days * 86400
    base = settings.base_url
    participant = quote(signer.issue(Role.PARTICIPANT, EVENT_SCOPE, expires))
    links = Links(base, f"{base}/?t={participant}" if settings.public_link else None,
                  f"{base}/control?t={quote(signer.issue(Role.ADMIN, EVENT_SCOPE, expires))}")
    for s in programme.sessions:
        if not s.interactive and not s.streamed:
            continue
        links.titles[s.id] = s.title["fr"]
        roles = links.by_session[s.id] = session_links(s, settings, signer, expires)
        short = roles.pop("short", None)  # no token: printed apart (every link here has one)
        if short is not None:
            links.short[s.id] = short
    return links


def session_links(session: Session, settings: Settings, signer: Signer, expires: int
                  ) -> dict[str, str]:
    """One session's links by role: the participants' (unless the public link is off) and its
    short address for the room's printed sheet, then the private ones."""
    base = settings.base_url
    roles: dict[str, str] = {}
    if settings.public_link:
        roles["participant"] = participant_link(session, settings, signer, expires)
        roles["short"] = short_address(base, signer, session.id)
    if session.interactive:
        roles["moderator"] = (f"{base}/moderate/{session.id}?t="
                              f"{quote(signer.issue(Role.MODERATOR, session.id, expires))}")
        roles["stage"] = (f"{base}/stage/{session.id}?t="
                          f"{quote(signer.issue(Role.STAGE, session.id, expires))}")
    if session.streamed:
        studio = signer.issue(Role.STUDIO, session.id, expires)
        roles["studio"] = f"{base}/studio/{session.id}?t={quote(studio)}"
        # For OBS or a hardware encoder: the WHIP URL, with the studio token as Bearer token.
        roles["whip"] = f"{base}/sessions/{session.id}/whip  Bearer {studio}"
        roles.update(language_links(session, base, signer, expires))
    return roles


def participant_link(session: Session, settings: Settings, signer: Signer, expires: int) -> str:
    public = quote(signer.issue(Role.PARTICIPANT, EVENT_SCOPE, expires))
    mine = _session_participant(signer, session.id, public, expires)
    return f"{settings.base_url}/s/{session.id}?t={mine}"


def short_address(base: str, signer: Signer, session_id: str) -> str:
    """The address printed under a room's QR code, short enough to type from a phone: it opens
    the session's participant page as asked from the room (live/web/linkdesk.py)."""
    generation = signer.generations.of(Role.PARTICIPANT.value, session_id)
    return f"{base}/j/{signer.short_code(session_id, generation)}"


def language_links(session: Session, base: str, signer: Signer, expires: int) -> dict[str, str]:
    """A streamed session's interpreter links (one per interpretation language, each for its
    own channel), its captioner link and its remote guests' links."""
    roles: dict[str, str] = {}
    for lang in session.interpretations:
        token = signer.issue(Role.INTERPRETER, session.id, expires, language=lang)
        roles[f"interpreter {lang}"] = f"{base}/interpret/{session.id}?t={quote(token)}"
    token = signer.issue(Role.CAPTIONER, session.id, expires)
    roles["captioner"] = f"{base}/caption/{session.id}?t={quote(token)}"
    for name in session.guests:  # remote speakers: the studio page makes more
        token = signer.issue(Role.GUEST, session.id, expires,
                             guest=(signer.guest_id(session.id, name), name))
        roles[f"guest {name}"] = f"{base}/guest/{session.id}?t={quote(token)}"
    return roles


def registrant_link(registrant: Registrant, settings: Settings, signer: Signer,
                    expires: int) -> str:
    """A registrant's personal link: the programme, in their language, with a token naming them
    (by id: their email appears in no link)."""
    token = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, expires, registrant=registrant.id)
    return f"{settings.base_url}/?{urlencode({'t': token, 'lang': registrant.language})}"


def write_registrant_links(path: Path, registry: Registry, settings: Settings,
                           signer: Signer) -> None:
    """The mail-merge file: each registrant and their personal link, readable by its owner only
    (each link lets its holder take part as that registrant)."""
    expires = int(time.time()) + settings.token_days * 86400
    text = links_csv(registry, lambda r: registrant_link(r, settings, signer, expires))
    path.touch(mode=0o600)
    path.write_text(text, "utf-8")
