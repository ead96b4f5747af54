"""Attendance samples under the store's contract (memory and Redis): each node records its own
counts once a minute, readers get one total per minute, and a session's samples are bounded."""

from __future__ import annotations

import pytest

import live.store.memory
import live.store.redis_attendance
from live.store import Store
from live.store.memory import MemoryStore
from live.store.redis import RedisStore
from tests.conftest import REDIS_URL, delete_prefix, redis_prefix

MINUTE = 29_313_000  # 2025-09-25 a little after noon, in minutes since the epoch


async def test_a_session_without_samples_has_no_attendance(store: Store) -> None:
    assert await store.attendance("nobody-came") == []


async def test_nodes_samples_are_summed_per_minute_oldest_first(store: Store) -> None:
    await store.record_attendance("s1", "host:8000:1", MINUTE + 1, {"participants": 5, "viewers": 2})
    await store.record_attendance("s1", "host:8000:0", MINUTE, {"participants": 3, "viewers": 0})
    await store.record_attendance("s1", "host:8000:1", MINUTE, {"participants": 4, "viewers": 7})
    await store.record_attendance("s1", "other:8000:0", MINUTE + 1, {"participants": 1})
    await store.record_attendance("s2", "host:8000:0", MINUTE, {"participants": 100})
    assert await store.attendance("s1") == [
        (MINUTE, {"participants": 7, "viewers": 7}),
        (MINUTE + 1, {"participants": 6, "viewers": 2}),
    ]
    assert await store.attendance("s2") == [(MINUTE, {"participants": 100})]


async def test_a_node_recording_a_minute_again_replaces_its_sample(store: Store) -> None:
    # A restarted worker takes its old name: its new sample replaces, never adds to, its old one.
    await store.record_attendance("s1", "host:8000:0", MINUTE, {"participants": 3})
    await store.record_attendance("s1", "host:8000:0", MINUTE, {"participants": 4})
    assert await store.attendance("s1") == [(MINUTE, {"participants": 4})]


@pytest.mark.parametrize("engine", ["memory", "redis"])
async def test_past_the_cap_the_oldest_samples_go(engine: str, monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    module = live.store.memory if engine == "memory" else live.store.redis_attendance
    monkeypatch.setattr(module, "ATTENDANCE_SAMPLES", 4)
    prefix = redis_prefix()
    store: Store = MemoryStore() if engine == "memory" else RedisStore(REDIS_URL, prefix=prefix)
    try:
        for offset in range(3):
            for node in ("a", "b"):
                await store.record_attendance("s1", node, MINUTE + offset, {"participants": 1})
        assert await store.attendance("s1") == [(MINUTE + 1, {"participants": 2}),
                                                (MINUTE + 2, {"participants": 2})]
    finally:
        await store.close()
        delete_prefix(prefix)


async def test_redis_samples_expire_and_are_shared_by_processes(key_prefix: str) -> None:
    first, second = RedisStore(REDIS_URL, prefix=key_prefix), RedisStore(REDIS_URL, prefix=key_prefix)
    try:
        await first.record_attendance("s1", "w0", MINUTE, {"participants": 2, "viewers": 1})
        await second.record_attendance("s1", "w1", MINUTE, {"participants": 3, "viewers": 4})
        assert await first.attendance("s1") == [(MINUTE, {"participants": 5, "viewers": 5})]
        redis = first._redis  # the keys' lifetime: no sample outlives ATTENDANCE_TTL
        for key in (f"{key_prefix}:{{s1}}:attendance", f"{key_prefix}:{{s1}}:attendance-counts"):
            ttl = await redis.ttl(key)
            assert 0 < ttl <= live.store.redis_attendance.ATTENDANCE_TTL, key
        # Something else in the hash (a hand edit, an older format) is left out, not a crash.
        await redis.hset(f"{key_prefix}:{{s1}}:attendance-counts", "garbage", "not json")
        assert await second.attendance("s1") == [(MINUTE, {"participants": 5, "viewers": 5})]
    finally:
        await first.close()
        await second.close()
