"""The moderators' CSV exports of one session: its questions, its poll results.

The organiser's reports (every session, XLSX, CSV and JSON, in the reader's language and the
event's time zone, with attendance) are live/reports, from the control room."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from live.domain.state import RoomState
from live.reports.polls import results
from live.reports.render import defuse


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else ""


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet: quote it as text.
        writer.writerow([defuse(v) if isinstance(v, str) else v for v in row])
    return "\ufeff" + out.getvalue()  # BOM: spreadsheets then read the accents right


def questions_csv(state: RoomState) -> str:
    rows: list[list[object]] = [["id", "status", "text", "author", "organisation", "anonymous",
                                 "votes", "starred", "asked_at", "answered_at", "reply"]]
    for q in state.questions.values():
        rows.append([q.id, q.status, q.text, "" if q.anonymous else q.author_name or "",
                     "" if q.anonymous else q.organisation or "", q.anonymous, len(q.voters),
                     q.starred, _when(q.asked_at), _when(q.answered_at), q.reply or ""])
    return _csv(rows)


def polls_csv(state: RoomState) -> str:
    rows: list[list[object]] = [["poll_id", "question", "status", "multiple", "ballots", "option",
                                 "votes"]]
    for p in state.polls.values():
        for result in results(p):
            rows.append([p.id, p.question, p.status, p.multiple, p.voters, result.answer,
                         result.count])
    return _csv(rows)
