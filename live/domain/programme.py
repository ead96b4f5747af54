"""The programme: an event, its days and sessions, parsed from plain data the organiser edits."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from live.domain.errors import DomainError
from live.domain.polls import checked_poll
from live.domain.state import CHOICE, GUEST_NAME_CHARS, MAX_GUESTS, POLLS_MAX
from live.domain.text import clean_text

KINDS = frozenset({"plenary", "workshop", "micro-workshop", "meeting", "interview", "break"})
_SESSION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")  # an ISO 639 code: "fr", "en", "es", "ar"…
MAX_LANGUAGES = 8  # the floor and up to seven interpretation channels
# Titles and descriptions may be given in these languages beside French (`title_en`, `title_es`).
TEXT_LANGUAGES = ("en", "es")


class ProgrammeError(ValueError):
    """The programme file is not valid; the message says where."""


@dataclass(frozen=True, slots=True)
class PreparedPoll:
    """A poll written in the programme: created as a draft in its session when the programme that
    first lists it is stored, to be opened when its moment comes."""

    question: str
    kind: str = CHOICE
    options: tuple[str, ...] = ()
    multiple: bool = False

    @property
    def key(self) -> str:
        """Its client key in the session: the same poll stored twice is created once, an edited
        one is a new draft."""
        digest = hashlib.sha256(repr((self.kind, self.question, self.options, self.multiple))
                                .encode()).hexdigest()
        return f"prepared:{digest[:24]}"


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    title: dict[str, str]  # language -> text; "fr" is always present
    description: dict[str, str]
    day: date
    start: time
    end: time
    kind: str
    room: str
    interactive: bool
    streamed: bool
    premoderation: bool
    # The floor language first, then the languages interpreted into (one audio channel each).
    languages: tuple[str, ...] = ("fr",)
    # Remote speakers known in advance: each gets a guest link printed with the others (more
    # can be invited from the studio page during the event).
    guests: tuple[str, ...] = ()
    polls: tuple[PreparedPoll, ...] = ()  # prepared before the event (`[[sessions.polls]]`)

    @property
    def floor_language(self) -> str:
        return self.languages[0]

    @property
    def interpretations(self) -> tuple[str, ...]:
        return self.languages[1:]

    def live_at(self, moment: datetime) -> bool:
        """Whether the session is running at `moment` (local time of the event, naive)."""
        return moment.date() == self.day and self.start <= moment.time() < self.end


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    title: dict[str, str]


@dataclass(frozen=True, slots=True)
class Programme:
    id: str
    title: dict[str, str]
    venue: str
    timezone: str
    days: tuple[Day, ...]
    sessions: tuple[Session, ...]

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    def sessions_on(self, day: date) -> list[Session]:
        return sorted((s for s in self.sessions if s.day == day), key=lambda s: (s.start, s.id))


def localized(data: dict[str, Any], key: str, where: str, *, required: bool = True
              ) -> dict[str, str]:
    """`title` (French, the default) plus optional `title_en` → {"fr": …, "en": …}."""
    value = data.get(key)
    if value is None:
        if required:
            raise ProgrammeError(f"{where}: missing '{key}'")
        return {}
    if not isinstance(value, str):
        raise ProgrammeError(f"{where}: '{key}' must be text")
    texts = {"fr": value}
    for lang in TEXT_LANGUAGES:
        other = data.get(f"{key}_{lang}")
        if isinstance(other, str):
            texts[lang] = other
    return texts


def _parse_languages(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ("fr",)
    if not isinstance(raw, list) or not raw or not all(
            isinstance(x, str) and _LANGUAGE.match(x) for x in raw):
        raise ProgrammeError(f"{where}: 'languages' must be a list of language codes like "
                             '["fr", "en"], the floor language first')
    if len(set(raw)) != len(raw):
        raise ProgrammeError(f"{where}: a language is listed twice in 'languages'")
    if len(raw) > MAX_LANGUAGES:
        raise ProgrammeError(f"{where}: at most {MAX_LANGUAGES} languages")
    return tuple(raw)


def _parse_guests(raw: Any, streamed: bool, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ProgrammeError(f"{where}: 'guests' must be a list of names")
    if raw and not streamed:
        raise ProgrammeError(f"{where}: only a streamed session has remote guests")
    names = []
    for name in raw:
        try:
            cleaned = clean_text(name, GUEST_NAME_CHARS, "a guest's name")
        except DomainError as exc:
            raise ProgrammeError(f"{where}: {exc.message}") from None
        names.append(" ".join(str(cleaned).split()))
    if len(set(names)) != len(names):
        raise ProgrammeError(f"{where}: a guest is listed twice in 'guests'")
    if len(names) > MAX_GUESTS:
        raise ProgrammeError(f"{where}: at most {MAX_GUESTS} guests")
    return tuple(names)


def _parse_time(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ProgrammeError(f"{where}: '{value}' is not a time like 09:30") from None


def _parse_date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ProgrammeError(f"{where}: '{value}' is not a date like 2020-09-22") from None


def _flag(raw: dict[str, Any], key: str, default: bool, where: str) -> bool:
    # Checked rather than bool(): the JSON string "false" would otherwise read as true.
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ProgrammeError(f"{where}: '{key}' must be true or false")
    return value


def _parse_session(raw: dict[str, Any], index: int, days: set[date]) -> Session:
    where = f"session #{index + 1}"
    session_id = raw.get("id")
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise ProgrammeError(f"{where}: 'id' must be lowercase letters, digits and dashes")
    where = f"session '{session_id}'"
    day = _parse_date(raw.get("date"), where)
    if day not in days:
        raise ProgrammeError(f"{where}: date {day} is not one of the programme's days")
    start, end = _parse_time(raw.get("start"), where), _parse_time(raw.get("end"), where)
    if end <= start:
        raise ProgrammeError(f"{where}: ends before it starts")
    kind = raw.get("kind", "plenary")
    if kind not in KINDS:
        raise ProgrammeError(f"{where}: kind '{kind}' is not one of {sorted(KINDS)}")
    room = raw.get("room", "")
    if not isinstance(room, str):
        raise ProgrammeError(f"{where}: 'room' must be text")
    streamed = _flag(raw, "streamed", False, where)
    return Session(
        id=session_id, title=localized(raw, "title", where),
        description=localized(raw, "description", where, required=False),
        day=day, start=start, end=end, kind=kind, room=room,
        interactive=_flag(raw, "interactive", True, where), streamed=streamed,
        premoderation=_flag(raw, "premoderation", True, where),
        languages=_parse_languages(raw.get("languages"), where),
        guests=_parse_guests(raw.get("guests"), streamed, where),
        polls=_parse_polls(raw.get("polls"), where),
    )


def _parse_polls(raw: Any, where: str) -> tuple[PreparedPoll, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ProgrammeError(f"{where}: every entry of [[sessions.polls]] must be a table")
    if len(raw) > POLLS_MAX:
        raise ProgrammeError(f"{where}: at most {POLLS_MAX} polls")
    polls = []
    for index, entry in enumerate(raw):
        kind, options = entry.get("kind", CHOICE), entry.get("options", [])
        multiple = entry.get("multiple", False)
        try:
            if not isinstance(kind, str) or not isinstance(options, list) or not all(
                    isinstance(o, str) for o in options) or not isinstance(multiple, bool):
                raise DomainError("invalid", "'kind' is text, 'options' a list of texts, "
                                  "'multiple' true or false")
            question, cleaned, multiple = checked_poll(
                kind, str(entry.get("question", "")), options, multiple)
        except DomainError as exc:
            raise ProgrammeError(f"{where}: poll #{index + 1}: {exc.message}") from None
        polls.append(PreparedPoll(question, kind, cleaned, multiple))
    return tuple(polls)


def parse_programme(data: dict[str, Any]) -> Programme:
    """Build a programme from the parsed TOML (or JSON) document; raise ProgrammeError if wrong."""
    event = data.get("event")
    if not isinstance(event, dict):
        raise ProgrammeError("missing [event] table")
    raw_days = data.get("days") or []
    raw_sessions = data.get("sessions") or []
    for what, entries in (("days", raw_days), ("sessions", raw_sessions)):
        if not isinstance(entries, list) or not all(isinstance(x, dict) for x in entries):
            raise ProgrammeError(f"every entry of [[{what}]] must be a table")
    days = tuple(
        Day(_parse_date(d.get("date"), f"day #{i + 1}"), localized(d, "title", f"day #{i + 1}",
                                                                   required=False))
        for i, d in enumerate(raw_days)
    )
    if not days:
        raise ProgrammeError("the programme has no [[days]]")
    if len({d.day for d in days}) != len(days):
        raise ProgrammeError("a day is listed twice in [[days]]")
    sessions = tuple(
        _parse_session(raw, i, {d.day for d in days}) for i, raw in enumerate(raw_sessions))
    ids = [s.id for s in sessions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ProgrammeError(f"duplicate session ids: {', '.join(duplicates)}")
    return Programme(
        id=str(event.get("id", "event")), title=localized(event, "title", "[event]"),
        venue=str(event.get("venue", "")), timezone=str(event.get("timezone", "UTC")),
        days=tuple(sorted(days, key=lambda d: d.day)), sessions=sessions,
    )
