"""The reports' tables, built from sessions' states and attendance: pure, no I/O.

A report is a list of `Table`s (sessions, questions, polls, attendance), each a header row and data
rows, in the reader's language and the event's time zone: the writers (live/reports/render.py)
lay them out as XLSX sheets, one CSV or JSON. Cells are plain values: text, whole numbers,
decimals (shares in percent), local times (naive `datetime`, in the event's zone) or None (empty);
yes/no, statuses, origins and kinds are already words of the reader's language.

What is left out on purpose: an anonymous question's author and organisation (whatever the state
holds), and who voted for what (only counts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from live.domain.programme import Programme, Session
from live.domain.state import ANSWERED, RoomState
from live.reports.polls import kind_of, results
from live.store.base import AttendanceMinute

Cell = str | int | float | datetime | None
Translate = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Table:
    # "sessions", "questions", "polls", "attendance", "moderation": the sheet's and section's key
    name: str
    title: str  # in the reader's language
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a report says of one session: the programme's entry, its state, its attendance."""

    session: Session
    state: RoomState
    attendance: list[AttendanceMinute]


@dataclass(frozen=True, slots=True)
class Peak:
    count: int
    at: int | None  # the first minute (since the epoch) it was reached; None without samples


def event_zone(programme: Programme) -> tzinfo:
    """The event's time zone (the programme's), UTC if the machine does not know that name."""
    try:
        return ZoneInfo(programme.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class Words:
    """The reader's words for the report: headers, yes/no, statuses, and the event's clock."""

    def __init__(self, t: Translate, lang: str, zone: tzinfo) -> None:
        self.t, self.lang, self.zone = t, lang, zone

    def __call__(self, key: str) -> str:
        return self.t(key)

    def word(self, key: str, fallback: str) -> str:
        """The catalog's word for `key`, or `fallback` (a status or kind added since)."""
        text = self.t(key)
        return fallback if text == key else text

    def yes_no(self, value: bool) -> str:
        return self.t("report.yes") if value else self.t("report.no")

    def local(self, epoch_seconds: float | None) -> datetime | None:
        if epoch_seconds is None:
            return None
        moment = datetime.fromtimestamp(epoch_seconds, UTC).astimezone(self.zone)
        return moment.replace(tzinfo=None)

    def local_ms(self, epoch_ms: int | None) -> datetime | None:
        return self.local(epoch_ms / 1000) if epoch_ms else None

    def title(self, session: Session) -> str:
        return session.title.get(self.lang) or session.title["fr"]


def peak(attendance: Sequence[AttendanceMinute], name: str) -> Peak:
    """The highest count of `name` and the first minute it was reached (no minute when nobody
    was ever counted)."""
    best = Peak(0, None)
    for minute, counts in attendance:
        if counts.get(name, 0) > best.count:
            best = Peak(counts.get(name, 0), minute)
    return best


def _session_columns(session: Session, with_session: bool) -> list[Cell]:
    return [session.id] if with_session else []


def sessions_table(items: Sequence[SessionData], words: Words) -> Table:
    headers = [words(f"report.col.{name}") for name in (
        "session", "title", "date", "start", "end", "room", "kind", "questions", "answered",
        "polls", "peak_participants", "peak_participants_at", "peak_viewers", "peak_viewers_at")]
    table = Table("sessions", words("report.sheet.sessions"), headers)
    for item in items:
        s = item.session
        people, viewers = peak(item.attendance, "participants"), peak(item.attendance, "viewers")
        questions = item.state.questions.values()
        table.rows.append([
            s.id, words.title(s), s.day.isoformat(), s.start.strftime("%H:%M"),
            s.end.strftime("%H:%M"), s.room, words.word(f"kind.{s.kind}", s.kind),
            len(questions), sum(1 for q in questions if q.status == ANSWERED),
            len(item.state.polls), people.count,
            words.local(people.at * 60) if people.at is not None else None, viewers.count,
            words.local(viewers.at * 60) if viewers.at is not None else None])
    return table


def questions_table(items: Sequence[SessionData], words: Words, *, with_session: bool) -> Table:
    names = ["id", "status", "origin", "text", "author", "organisation", "anonymous", "votes",
             "starred", "edited", "asked_at", "answered_at", "reply", "replied_at", "merged_into"]
    headers = [words(f"report.col.{n}") for n in (["session"] if with_session else []) + names]
    table = Table("questions", words("report.sheet.questions"), headers)
    for item in items:
        for q in sorted(item.state.questions.values(), key=lambda q: (q.asked_at, q.id)):
            table.rows.append([
                *_session_columns(item.session, with_session),
                q.id, words.word(f"status.{q.status}", q.status),
                words.word(f"report.origin.{q.origin}", q.origin), q.text,
                None if q.anonymous else q.author_name,
                None if q.anonymous else q.organisation,
                words.yes_no(q.anonymous), len(q.voters), words.yes_no(q.starred),
                words.yes_no(q.edited), words.local_ms(q.asked_at), words.local_ms(q.answered_at),
                q.reply, words.local_ms(q.replied_at), q.merged_into])
    return table


def polls_table(items: Sequence[SessionData], words: Words, *, with_session: bool) -> Table:
    names = ["poll", "poll_question", "poll_kind", "status", "multiple", "ballots", "opened_at",
             "answer", "count", "share"]
    headers = [words(f"report.col.{n}") for n in (["session"] if with_session else []) + names]
    table = Table("polls", words("report.sheet.polls"), headers)
    for item in items:
        for poll in sorted(item.state.polls.values(), key=lambda p: (p.created_at, p.id)):
            kind = kind_of(poll)
            about: list[Cell] = [
                *_session_columns(item.session, with_session), poll.id, poll.question,
                words.word(f"report.poll_kind.{kind}", kind),
                words.word(f"poll.status.{poll.status}", poll.status),
                words.yes_no(poll.multiple), poll.voters, words.local_ms(poll.opened_at)]
            rows = results(poll)
            if not rows:
                table.rows.append([*about, None, None, None])
            for result in rows:
                table.rows.append([*about, result.answer, result.count, result.share])
    return table


def attendance_table(items: Sequence[SessionData], words: Words, *, with_session: bool) -> Table:
    names = ["minute", "participants", "viewers"]
    headers = [words(f"report.col.{n}") for n in (["session"] if with_session else []) + names]
    table = Table("attendance", words("report.sheet.attendance"), headers)
    for item in items:
        for minute, counts in item.attendance:
            table.rows.append([*_session_columns(item.session, with_session),
                               words.local(minute * 60), counts.get("participants", 0),
                               counts.get("viewers", 0)])
    return table


def moderation_table(items: Sequence[SessionData], words: Words, *, with_session: bool) -> Table:
    """The moderation log: who did what, when, on which question or poll and its text then."""
    names = ["at", "by", "action", "target", "detail"]
    headers = [words(f"report.col.{n}") for n in (["session"] if with_session else []) + names]
    table = Table("moderation", words("report.sheet.moderation"), headers)
    for item in items:
        for entry in item.state.log:
            table.rows.append([*_session_columns(item.session, with_session),
                               words.local_ms(entry.at), words.word(f"log.by.{entry.by}", entry.by),
                               words.word(f"log.action.{entry.action}", entry.action),
                               entry.target, entry.detail])
    return table


def report_tables(items: Sequence[SessionData], words: Words, *, whole_event: bool = False
                  ) -> list[Table]:
    """A report's tables: one session's, or the whole event's, which name the session on each
    row of its questions, polls and attendance."""
    with_session = whole_event
    return [sessions_table(items, words),
            questions_table(items, words, with_session=with_session),
            polls_table(items, words, with_session=with_session),
            attendance_table(items, words, with_session=with_session),
            moderation_table(items, words, with_session=with_session)]
