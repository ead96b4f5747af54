"""Attendance, recorded for the reports: participants connected and stream viewers, per minute.

Each worker records its own counts, once a minute, for each session it holds (a loaded session, or
a broadcast it relays), taken from the figures it reports every second (live/metrics.py
`Reporter`): participants are the people connected through this worker, viewers the players of
the session's video here. The store keeps one sample per worker and minute and the reports sum a
minute's samples (live/store/base.py `attendance`): connections are spread over the workers, so
each is counted once, by the worker that holds it. Interpretation channels (`session@lang`) are not
sessions: their listeners are counted with the floor's players when they play it, not twice.

A sample is the reading at the first heartbeat of the minute: every worker's is within a second
of the others', so the sum is the attendance at that moment. A worker that stops recording leaves
its minutes out (the report shows fewer people, never more); a slow store delays no heartbeat: the
writes run in a task of their own, and a minute whose writes are still under way is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from live.store import Store

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 10.0  # seconds for one minute's writes; past it, that minute is lost for this worker


def samples(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """A worker's report (live/metrics.py) as its counts per session: participants and viewers."""
    out: dict[str, dict[str, int]] = {}
    for key, figures in report.get("sessions", {}).items():
        if "@" in key:  # an interpretation channel, not a session
            continue
        out[key] = {"participants": int(figures.get("participants", 0)),
                    "viewers": int(figures.get("viewers", 0))}
    return out


class AttendanceRecorder:
    """This worker's part of the attendance: `note` its report every beat, it records once a
    minute."""

    def __init__(self, store: Store, node: str) -> None:
        self.store, self.node = store, node
        self._minute: int | None = None
        self._task: asyncio.Task[None] | None = None

    def note(self, report: dict[str, Any], now: float) -> None:
        """The report of this beat, at `now` (seconds since the epoch): recorded if it is the
        first of its minute."""
        minute = int(now // 60)
        if minute == self._minute:
            return
        self._minute = minute
        if self._task is not None and not self._task.done():
            log.warning("attendance of the minute before still being written: minute %d skipped",
                        minute)
            return
        counts = samples(report)
        if counts:
            self._task = asyncio.create_task(self._write(minute, counts), name="attendance")

    async def _write(self, minute: int, counts: dict[str, dict[str, int]]) -> None:
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await asyncio.gather(*(self.store.record_attendance(session_id, self.node, minute,
                                                                    figures)
                                       for session_id, figures in counts.items()))
        except Exception as exc:  # the store away: this minute is missing from the reports
            log.warning("attendance of minute %d not recorded: %r", minute, exc)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
