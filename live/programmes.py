"""The programme edited live by the organiser: validated TOML in the store, a version per save,
picked up by every worker (a version poll, so workers sharing Redis follow within POLL_SECONDS).

At start the stored programme wins over the file if there is one (the log says so); otherwise the
file's programme is stored as version 1. The TOML text stays the way to prepare an event: the editor
exports it, and imports or saves a whole text, checked before it is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import tomllib
from collections.abc import Callable, Iterable
from typing import Any

from live.domain import Actor, DomainError, Role
from live.domain.commands import CreatePoll
from live.domain.programme import Programme, ProgrammeError, Session, parse_programme
from live.domain.ratelimit import TokenBucket
from live.service import Service
from live.store import Store
from live.store.programme_doc import ProgrammeDoc
from live.views import session_view

log = logging.getLogger(__name__)

MAX_TEXT = 200_000  # characters of TOML
MAX_SESSIONS = 300
MAX_TITLE = 300  # characters of a title, a room or a day's name
MAX_DESCRIPTION = 4000
EDITS_PER_MINUTE = 20  # saves a worker accepts per minute (all editors together)
POLL_SECONDS = 2.0


def parse_text(text: str) -> Programme:
    """The programme of a TOML text, or ProgrammeError naming the field that is wrong."""
    if len(text) > MAX_TEXT:
        raise ProgrammeError(f"the programme is longer than {MAX_TEXT} characters")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"not valid TOML: {exc}") from None
    return parse_data(data)


def parse_data(data: dict[str, Any]) -> Programme:
    """The programme of plain data (what TOML gives, or the editor's form sends as JSON), within
    the editor's bounds, or ProgrammeError naming the field that is wrong."""
    programme = parse_programme(data)
    if len(programme.sessions) > MAX_SESSIONS:
        raise ProgrammeError(f"at most {MAX_SESSIONS} sessions")
    for session in programme.sessions:
        where = f"session '{session.id}'"
        for lang, title in session.title.items():
            if len(title) > MAX_TITLE:
                raise ProgrammeError(f"{where}: 'title{_suffix(lang)}' is longer than {MAX_TITLE}")
        for lang, text_ in session.description.items():
            if len(text_) > MAX_DESCRIPTION:
                raise ProgrammeError(f"{where}: 'description{_suffix(lang)}' is too long")
        if len(session.room) > MAX_TITLE:
            raise ProgrammeError(f"{where}: 'room' is longer than {MAX_TITLE}")
    return programme


def _suffix(lang: str) -> str:
    return "" if lang == "fr" else f"_{lang}"


def _value(value: Any) -> str:
    """A TOML value: true/false, a list, or a quoted string (dates and times too: TOML has no bare
    "09:30", and the parser reads both from text anyway)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped) + '"'


def _pairs(table: dict[str, Any]) -> list[str]:
    """A table's keys as TOML lines; empty lists (no guests, a poll's options) are left out."""
    return [f"{key} = {_value(value)}" for key, value in table.items() if value != []]


def to_toml(programme: Programme) -> str:
    """The programme as the TOML file it could have been read from (parse_text reads it back):
    `to_data`'s tables, each poll after its session's keys (a table belongs to the last session)."""
    data = to_data(programme)
    lines = ["[event]", *_pairs(data["event"])]
    for day in data["days"]:
        lines += ["", "[[days]]", *_pairs(day)]
    for session in data["sessions"]:
        polls = session.pop("polls")
        lines += ["", "[[sessions]]", *_pairs(session)]
        for poll in polls:
            lines += ["", "[[sessions.polls]]", *_pairs(poll)]
    return "\n".join(lines) + "\n"


def _data_texts(key: str, texts: dict[str, str]) -> dict[str, str]:
    return {f"{key}{_suffix(lang)}": text for lang, text in texts.items()}


def _session_data(session: Session) -> dict[str, Any]:
    return {
        "id": session.id, **_data_texts("title", session.title),
        **_data_texts("description", session.description),
        "date": session.day.isoformat(), "start": session.start.strftime("%H:%M"),
        "end": session.end.strftime("%H:%M"), "kind": session.kind, "room": session.room,
        "interactive": session.interactive, "streamed": session.streamed,
        "premoderation": session.premoderation, "languages": list(session.languages),
        "guests": list(session.guests),
        "polls": [{"question": poll.question, "kind": poll.kind, "options": list(poll.options),
                   "multiple": poll.multiple} for poll in session.polls]}


def to_data(programme: Programme) -> dict[str, Any]:
    """The programme as the plain data TOML would give for it (dates "YYYY-MM-DD", times "HH:MM"),
    which the editor's form shows and sends back: parse_data reads it back."""
    return {
        "event": {"id": programme.id, **_data_texts("title", programme.title),
                  "venue": programme.venue, "timezone": programme.timezone},
        "days": [{"date": day.day.isoformat(), **_data_texts("title", day.title)}
                 for day in programme.days],
        "sessions": [_session_data(session) for session in programme.sessions],
    }


def serve(programme: Programme, service: Service, holders: Iterable[Any]) -> None:
    """Make `programme` the one this worker serves: the service (a session added gets its room on
    first use), every object that reads it (pages, media and caption routes), and the session
    description each loaded session gives its new clients."""
    service.programme = programme
    for holder in holders:
        holder.programme = programme
    for hub in service.hubs:
        session = programme.session(hub.session_id)
        if session is not None:
            hub.session_view = session_view(programme, hub.session_id)
            # What the programme decides of a loaded room, as a room loaded now would have it
            # (live/service.py `_reload`): every worker follows the same version, so they agree.
            hub.room.state.interactive = session.interactive
            hub.room.languages = session.languages


async def create_prepared_polls(service: Service, programme: Programme,
                                before: Programme | None) -> int:
    """Create, as drafts, the polls `programme` prepares that `before` did not: a poll deleted
    from a session stays deleted until a programme lists it anew. Each has its key, so that two
    workers storing the same programme create it once. Returns how many were created."""
    created = 0
    for session in programme.sessions:
        if not session.polls or not session.interactive:
            continue
        earlier = before.session(session.id) if before is not None else None
        known = {poll.key for poll in earlier.polls} if earlier is not None else set()
        for poll in session.polls:
            if poll.key in known:
                continue
            command = CreatePoll(poll.question, list(poll.options), poll.multiple,
                                 client_key=poll.key, kind=poll.kind)
            try:
                await service.execute(session.id, command, Actor(Role.ADMIN))
            except DomainError as exc:  # a full session, say: the others still get theirs
                log.warning("programme: session %s: prepared poll not created (%s)",
                            session.id, exc.message)
            except Exception:  # the store away: the service starts all the same, the log says
                log.exception("programme: session %s: prepared poll not created", session.id)
            else:
                created += 1
    return created


class ProgrammeDesk:
    """This worker's programme: stored, saved, and followed when another worker saves."""

    def __init__(self, store: Store, apply: Callable[[Programme], None]) -> None:
        self.store, self.apply = store, apply
        self.version = 0
        self.stored_file = False  # whether start() stored the file's programme as the first version
        self._saves = TokenBucket(EDITS_PER_MINUTE, EDITS_PER_MINUTE / 60)
        self._poller: asyncio.Task[None] | None = None

    async def start(self, file_programme: Programme) -> Programme:
        stored = await self.store.programme_docs.get()
        if stored is not None:
            try:
                programme = parse_text(stored.text)
            except ProgrammeError as exc:  # stored by another release, say: serve the file's
                log.error("programme: the stored version %d is not valid (%s), serving the file's"
                          " until it is saved again", stored.version, exc)
                programme = file_programme
            else:
                log.info("programme: the stored version %d (saved by %s) wins over the file",
                         stored.version, stored.by)
            self.version = stored.version
        else:
            with contextlib.suppress(Exception):  # another worker stored it first: follow theirs
                self.version = (await self.store.programme_docs.save(
                    to_toml(file_programme), 0, "file", "import")).version
                self.stored_file = True
            programme = file_programme
            log.info("programme: none stored, the file's is stored")
            await self.refresh()
        self.apply(programme)
        self._poller = asyncio.create_task(self._poll())
        return programme

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def refresh(self) -> None:
        """Take the stored programme if it is newer than this worker's."""
        stored = await self.store.programme_docs.get()
        if stored is not None and stored.version != self.version:
            programme = parse_text(stored.text)
            self.version = stored.version
            self.apply(programme)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await self.refresh()
            except Exception:  # the store away or a bad text: keep the programme we have
                log.warning("programme: could not refresh", exc_info=True)

    def rate_limited(self) -> bool:
        return not self._saves.take(time.monotonic())

    async def save(self, current: Programme, text: str, base: int, by: str, what: str
                   ) -> ProgrammeDoc:
        """Validate and store; ProgrammeError if wrong, StaleProgramme if someone saved since."""
        programme = parse_text(text)
        removed = {s.id for s in current.sessions} - {s.id for s in programme.sessions}
        for session_id in sorted(removed):
            _, seq = await self.store.head(session_id)
            if seq > 0:
                raise ProgrammeError(f"session '{session_id}': has questions or polls already, "
                                     "it cannot be removed (rename it or make it a break)")
        doc = await self.store.programme_docs.save(text, base, by, what)
        self.version = doc.version
        self.apply(programme)
        return doc
