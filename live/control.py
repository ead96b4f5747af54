"""The control room's picture of the event: each room's card and what needs the organiser now.

Pure: the web layer (live/web/control.py) gathers the figures (the session's state, the relay's
readout, who is connected over every worker, from the registry's reports) and this module decides
what they mean. An alert is a code the page words and sounds:

- `no_signal`: a streamed session in its time slot with nothing on air, and the studio did not end
  it (a drop, or a studio that has not started);
- `no_moderator`: a session with questions, starting within MODERATOR_LEAD or running, and no
  moderator connected;
- `queue_unscreened`: UNSCREENED_QUEUE questions or more waiting and no moderator connected;
- `no_keyframe`: on air with video, and no keyframe for KEYFRAME_STALE seconds (new viewers cannot
  start, and the picture of those with losses stays broken).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from live.domain.programme import Session

MODERATOR_LEAD = timedelta(minutes=5)
UNSCREENED_QUEUE = 5
KEYFRAME_STALE = 10.0  # seconds
ROLES = ("moderator", "stage", "studio", "interpreter", "captioner", "guest", "participant")


@dataclass
class RoomFigures:
    """What the web layer gathered for one session."""

    pending: int = 0
    open_poll: str | None = None  # the open poll's question
    stage_question: str | None = None
    readout: dict[str, Any] | None = None  # the relay's (streamed sessions)
    ended: bool = False  # the studio ended the broadcast on purpose
    connected: dict[str, int] = field(default_factory=dict)  # role -> connections, all workers


def alerts(session: Session, figures: RoomFigures, now: datetime) -> list[str]:
    codes = []
    on_air = bool(figures.readout and figures.readout.get("live"))
    running = session.live_at(now)
    starts_in = datetime.combine(session.day, session.start) - now
    moderators = figures.connected.get("moderator", 0) + figures.connected.get("admin", 0)
    if session.streamed and running and not on_air and not figures.ended:
        codes.append("no_signal")
    if session.interactive and moderators == 0 and (
            running or timedelta(0) <= starts_in <= MODERATOR_LEAD):
        codes.append("no_moderator")
    if session.interactive and moderators == 0 and figures.pending >= UNSCREENED_QUEUE:
        codes.append("queue_unscreened")
    if on_air and figures.readout is not None and figures.readout.get("video") is not None:
        age = figures.readout.get("keyframe_age")
        if age is None or age > KEYFRAME_STALE:
            codes.append("no_keyframe")
    return codes


def room_card(session: Session, figures: RoomFigures, now: datetime, lang: str = "fr"
              ) -> dict[str, Any]:
    readout = figures.readout or {}
    return {
        "id": session.id, "title": session.title.get(lang, session.title["fr"]),
        "date": session.day.isoformat(), "start": session.start.strftime("%H:%M"),
        "end": session.end.strftime("%H:%M"), "room": session.room, "kind": session.kind,
        "interactive": session.interactive, "streamed": session.streamed,
        "languages": list(session.languages), "live_now": session.live_at(now),
        "on_air": bool(readout.get("live")), "ended": figures.ended,
        "video": readout.get("video"), "audio": readout.get("audio"),
        "keyframe_age": readout.get("keyframe_age"), "viewers": readout.get("viewers", 0),
        "recording": readout.get("recording"),
        "connected": {role: figures.connected.get(role, 0) for role in ROLES},
        "pending": figures.pending, "open_poll": figures.open_poll,
        "stage_question": figures.stage_question,
        "alerts": alerts(session, figures, now),
    }


def connected_by_session(reports: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Connections per session and role, summed over the workers' reports (live/metrics.py)."""
    out: dict[str, dict[str, int]] = {}
    for report in reports:
        for session_id, figures in report.get("sessions", {}).items():
            roles = out.setdefault(session_id, {})
            for key, value in figures.items():
                if key.startswith("role_"):
                    role = key.removeprefix("role_")
                    roles[role] = roles.get(role, 0) + int(value)
    return out
