"""The JSON export for the archives: everything a report knows, versioned (docs/protocol.md,
"Reports").

Each session's state is the domain's own (`RoomState.to_dict`, so fields added to the state later
come along), with three changes that keep people's privacy: who voted is replaced by counts (a
question's `votes`, a poll's `ballot_count` and `results`), an anonymous question carries no
author or organisation, and no participant id or client key is kept (`banned` becomes a list).
Times inside the state are milliseconds since the epoch, as the domain keeps them; times the
report adds (attendance minutes, peaks, `generated_at`) are ISO 8601 in the event's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from live.domain.programme import Programme
from live.domain.state import RoomState
from live.reports.polls import kind_of, results
from live.reports.tables import SessionData, peak

SCHEMA = "tribune.report"
VERSION = 1


def _iso(epoch_seconds: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).astimezone(zone).isoformat(timespec="seconds")


def archived_state(state: RoomState) -> dict[str, Any]:
    data = state.to_dict()
    for question in data.get("questions", []):
        question["votes"] = len(question.pop("voters", []))
        question.pop("author_id", None)
        question.pop("client_key", None)
        if question.get("anonymous"):
            question["author_name"] = question["organisation"] = None
    by_id = {poll.id: poll for poll in state.polls.values()}
    for entry in data.get("polls", []):
        poll = by_id[entry["id"]]
        entry.pop("client_key", None)
        # Who gave which ballot stays out of the archive: the counts and each answer do not.
        entry.pop("ballots", None)
        entry.pop("answers", None)
        entry.pop("screened", None)
        entry["ballot_count"] = poll.voters
        entry["kind"] = kind_of(poll)
        if poll.answers:
            entry["answers"] = [{"text": text, "count": count, "shown": poll.shown(text)}
                                for text, count in poll.answer_counts().items()]
        entry["results"] = [r.to_dict() for r in results(poll)]
    data["banned"] = list(data.get("banned", {}).values())
    for messages in data.get("booth", {}).values():
        for message in messages:
            message.pop("client_key", None)
    for caption in [*data.get("captions", []), *data.get("partials", {}).values()]:
        caption.pop("client_key", None)
    return data


def _attendance(item: SessionData, zone: tzinfo) -> dict[str, Any]:
    peaks = {}
    for name in ("participants", "viewers"):
        top = peak(item.attendance, name)
        peaks[name] = {"count": top.count,
                       "at": _iso(top.at * 60, zone) if top.at is not None else None}
    return {
        "minutes": [{"at": _iso(minute * 60, zone), "participants": counts.get("participants", 0),
                     "viewers": counts.get("viewers", 0)} for minute, counts in item.attendance],
        "peak": peaks,
    }


def archive(programme: Programme, items: Sequence[SessionData], generated_at: float,
            zone: tzinfo) -> dict[str, Any]:
    """The document: the event, then each session of the report with its state and attendance."""
    return {
        "schema": SCHEMA, "version": VERSION, "generated_at": _iso(generated_at, zone),
        "event": {"id": programme.id, "title": dict(programme.title), "venue": programme.venue,
                  "timezone": programme.timezone},
        "sessions": [{
            "id": s.id, "title": dict(s.title), "day": s.day.isoformat(),
            "start": s.start.strftime("%H:%M"), "end": s.end.strftime("%H:%M"), "room": s.room,
            "kind": s.kind, "interactive": s.interactive, "streamed": s.streamed,
            "languages": list(s.languages),
            "state": archived_state(item.state),
            "attendance": _attendance(item, zone),
        } for item in items for s in (item.session,)],
    }
