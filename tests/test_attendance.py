"""live/attendance.py: each worker records its own participants and viewers once a minute, and the
store's sum over workers is the session's attendance (the store's part is in
tests/store/test_store_attendance.py, for memory and Redis)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from live.attendance import AttendanceRecorder, samples
from live.domain import Actor, Role
from live.domain import commands as c
from live.store.memory import MemoryStore
from tests.test_monitor import loopback, monitor_of, running
from tests.waiting import wait_for

NOON = 1_758_801_600.0  # 2025-09-25 12:00:00 UTC, at the start of a minute


def report(**sessions: dict[str, float]) -> dict[str, Any]:
    return {"host": "h:8000", "worker": 0, "sessions": sessions}


def test_samples_take_participants_and_viewers_of_sessions_not_channels() -> None:
    figures = report(**{"pleniere": {"participants": 12, "viewers": 30, "events_per_second": 1.5},
                        "atelier": {"participants": 4, "connections_participant": 5},
                        "relayed-only": {"viewers": 7, "relay_in_kbps": 900.0},
                        "pleniere@en": {"viewers": 3}})
    assert samples(figures) == {"pleniere": {"participants": 12, "viewers": 30},
                                "atelier": {"participants": 4, "viewers": 0},
                                "relayed-only": {"participants": 0, "viewers": 7}}


async def settle(*recorders: AttendanceRecorder) -> None:
    for recorder in recorders:
        if recorder._task is not None:
            await recorder._task


async def test_two_workers_record_once_a_minute_and_the_store_sums_them() -> None:
    store = MemoryStore()
    first, second = AttendanceRecorder(store, "h:8000:0"), AttendanceRecorder(store, "h:8000:1")
    for second_of_minute in range(0, 120, 1):  # two minutes of heartbeats, one a second
        now = NOON + second_of_minute
        # The counts change every second: only the first reading of each minute is kept.
        first.note(report(s1={"participants": 10 + second_of_minute, "viewers": 1}), now)
        second.note(report(s1={"participants": 5, "viewers": 2}, s2={"participants": 1}), now)
        await settle(first, second)
    minute = int(NOON // 60)
    assert await store.attendance("s1") == [(minute, {"participants": 15, "viewers": 3}),
                                            (minute + 1, {"participants": 75, "viewers": 3})]
    assert await store.attendance("s2") == [(minute, {"participants": 1, "viewers": 0}),
                                            (minute + 1, {"participants": 1, "viewers": 0})]


class SlowStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def record_attendance(self, session_id: str, node: str, minute: int,
                                counts: dict[str, int]) -> None:
        await self.release.wait()
        await super().record_attendance(session_id, node, minute, counts)


class BrokenStore(MemoryStore):
    async def record_attendance(self, session_id: str, node: str, minute: int,
                                counts: dict[str, int]) -> None:
        raise ConnectionError("the store is away")


async def test_a_slow_store_skips_a_minute_and_never_blocks_the_beat() -> None:
    store = SlowStore()
    recorder = AttendanceRecorder(store, "w0")
    recorder.note(report(s1={"participants": 1}), NOON)  # returns at once: the write waits
    recorder.note(report(s1={"participants": 2}), NOON + 60)  # the first still under way: skipped
    store.release.set()
    await settle(recorder)
    recorder.note(report(s1={"participants": 3}), NOON + 120)
    await settle(recorder)
    minute = int(NOON // 60)
    assert await store.attendance("s1") == [(minute, {"participants": 1, "viewers": 0}),
                                            (minute + 2, {"participants": 3, "viewers": 0})]


async def test_a_failing_store_loses_the_minute_not_the_recorder(caplog: Any) -> None:
    recorder = AttendanceRecorder(BrokenStore(), "w0")
    recorder.note(report(s1={"participants": 1}), NOON)
    await settle(recorder)
    assert "attendance of minute" in caplog.text
    recorder.note(report(s1={"participants": 1}), NOON + 60)  # tries again the next minute
    assert recorder._task is not None and not recorder._task.done()
    await recorder.stop()


async def test_the_monitor_records_the_sessions_this_worker_holds() -> None:
    store = MemoryStore()
    monitor = monitor_of(loopback(), store)
    session = "pleniere-geopolitique"
    await monitor.service.execute(session, c.AskQuestion("Une question ?"),
                                  Actor(Role.PARTICIPANT, "u_1"))  # the session is held here
    async with running(monitor):
        async def recorded() -> bool:
            return bool(await store.attendance(session))

        await wait_for(recorded, 5, lambda: "no attendance recorded at the first beat")
    [(minute, counts)] = await store.attendance(session)
    assert abs(minute - time.time() // 60) <= 1 and counts == {"participants": 0, "viewers": 0}
