"""live/monitor.py on its own: what /healthz decides from the heartbeats and the store, and that
answering it never hangs on a Redis that is gone or silent. The service and relay are real (in
memory, or on a Redis the test names); Redis is the real one, or a port where none answers.

Whole services (a worker frozen, Redis killed under `run.py --workers 2`) are in tests/e2e/."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from starlette.testclient import TestClient

from live import monitor as monitor_module
from live.app import create_app
from live.bus.memory import MemoryBus
from live.config import Settings, load_programme
from live.media.relay import Relay
from live.monitor import CHECK_TIMEOUT, STALE_AFTER, Monitor
from live.registry import open_registry
from live.service import Service
from live.store import Store
from live.store.memory import MemoryStore
from live.store.redis import RedisStore
from tests.conftest import REDIS_URL, free_port
from tests.waiting import wait_for

PROGRAMME = load_programme(None)


def monitor_of(settings: Settings, store: Store | None = None) -> Monitor:
    service = Service(PROGRAMME, store or MemoryStore(), MemoryBus())
    registry = open_registry(settings.redis_url or "memory://", prefix=settings.key_prefix,
                             timeout=CHECK_TIMEOUT)
    return Monitor(settings, service, Relay(settings), registry)


def loopback(**fields: object) -> Settings:
    return Settings(port=8000, media_addresses=("127.0.0.1",), **fields)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(monitor: Monitor) -> AsyncIterator[Monitor]:
    await monitor.start()
    try:
        yield monitor
    finally:
        await shut(monitor)


async def shut(monitor: Monitor) -> None:
    """Stop it and close its registry (the app closes its own; here the test opened it)."""
    try:
        await monitor.stop()
    finally:
        await monitor.registry.close()


async def test_a_stuck_loop_fails_the_loop_check_by_name() -> None:
    monitor = monitor_of(loopback())  # not started: the test sets the beat
    ok, body = await monitor.health()
    assert ok and body["failed"] == [] and body["loop"] is True
    monitor.last_beat = time.monotonic() - STALE_AFTER - 0.5
    ok, body = await monitor.health()
    assert not ok and body["failed"] == ["loop"] and body["loop"] is False
    assert body["heartbeat_age"]["0"] >= STALE_AFTER
    monitor.last_beat = time.monotonic() - STALE_AFTER + 1  # late, not yet stale
    assert (await monitor.health())[0]
    # The service's own clock (its tallies' tick) stopping is the loop being stuck too.
    monitor.service.last_tick = time.monotonic() - STALE_AFTER - 0.5
    ok, body = await monitor.health()
    assert not ok and body["failed"] == ["loop"]


def test_healthz_answers_503_with_the_failed_check() -> None:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as client:
        monitor: Monitor = client.app.state.monitor  # type: ignore[attr-defined]
        assert client.get("/healthz").status_code == 200
        client.portal.call(monitor.stop)  # type: ignore[union-attr]  # the beat stops: stuck
        monitor.last_beat = time.monotonic() - STALE_AFTER - 0.5
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["ok"] is False and body["failed"] == ["loop"], body
        assert response.headers["content-type"] == "application/json"


async def test_redis_unreachable_fails_the_store_and_workers_checks_at_once() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    store = RedisStore(url, prefix="tribune-test-monitor")
    monitor = monitor_of(loopback(redis_url=url), store)
    try:
        started = time.monotonic()
        ok, body = await monitor.health()
        assert time.monotonic() - started < monitor_module.CHECK_TIMEOUT
        assert not ok and body["failed"] == ["store", "workers"], body
        assert body["loop"] is True and body["bus"] is True  # what still works says so
    finally:
        await shut(monitor)
        await store.close()


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a Redis stuck, or a black hole."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()


async def test_a_silent_redis_cannot_hang_healthz(silent_redis: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor_module, "CHECK_TIMEOUT", 0.3)
    store = RedisStore(silent_redis, prefix="tribune-test-monitor")  # no timeout of its own
    monitor = monitor_of(loopback(redis_url=silent_redis), store)
    try:
        started = time.monotonic()
        ok, body = await asyncio.wait_for(monitor.health(), 5)
        assert time.monotonic() - started < 2  # each check bounded, not the sockets' defaults
        assert not ok and body["failed"] == ["store", "workers"], body
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(shut(monitor), 2)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(store.close(), 2)


async def test_the_heartbeat_goes_on_while_redis_is_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis away must read as Redis away, not as a stuck loop: the beat keeps its time."""
    monkeypatch.setattr(monitor_module, "BEAT_EVERY", 0.05)
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with running(monitor_of(loopback(redis_url=url))) as monitor:
        first = monitor.last_beat
        await wait_for(lambda: monitor.last_beat > first + 0.2, 5, "beats after failed writes")
        ok, body = await monitor.health()
        assert not ok and body["loop"] is True and body["failed"] == ["workers"], body


@pytest.fixture
def beats(key_prefix: str) -> Iterator[tuple[str, redis.Redis]]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        yield key_prefix, client
    finally:
        client.close()


async def test_each_worker_s_heartbeat_is_checked_and_named(
        beats: tuple[str, redis.Redis], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor_module, "BEAT_EVERY", 0.05)
    prefix, client = beats

    def settings(worker: int) -> Settings:
        return loopback(redis_url=REDIS_URL, key_prefix=prefix, workers=2, worker=worker)

    async with running(monitor_of(settings(0))) as zero:
        key = f"{prefix}:workers:{zero.host}"
        await wait_for(lambda: client.hget(key, "0"), 5, "worker 0's heartbeat in Redis")
        ok, body = await zero.health()  # worker 1 never beat: not ready
        assert not ok and body["failed"] == ["workers"], body
        assert body["heartbeat_age"]["1"] is None and body["heartbeat_age"]["0"] < 1
        async with running(monitor_of(settings(1))) as one:
            await wait_for(lambda: client.hget(key, "1"), 5, "worker 1's heartbeat in Redis")
            for monitor in (zero, one):  # either worker answers for both
                ok, body = await monitor.health()
                assert ok and set(body["heartbeat_age"]) == {"0", "1"}, body
        # Worker 1 stuck: its last beat ages past STALE_AFTER (written as it would have aged).
        client.hset(key, "1", f"{time.time() - STALE_AFTER - 1:.3f}")
        ok, body = await zero.health()
        assert not ok and body["failed"] == ["workers"], body
        assert body["heartbeat_age"]["1"] >= STALE_AFTER > body["heartbeat_age"]["0"]
        client.hset(key, "1", f"{time.time() - STALE_AFTER + 1:.3f}")  # late, not yet stale
        assert (await zero.health())[0]
        # A worker index beyond the configured count is left from a bigger setup: ignored.
        client.hset(key, "5", f"{time.time() - 600:.3f}")
        ok, body = await zero.health()
        assert ok and "5" not in body["heartbeat_age"], body


async def test_a_stopped_worker_leaves_the_metrics_at_once(
        beats: tuple[str, redis.Redis], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor_module, "BEAT_EVERY", 0.05)
    prefix, _ = beats

    def settings(worker: int) -> Settings:
        return loopback(redis_url=REDIS_URL, key_prefix=prefix, workers=2, worker=worker)

    async with running(monitor_of(settings(0))) as zero:

        async def reported() -> list[int]:
            return sorted(r["worker"] for r in await zero.reports())

        async def both() -> bool:
            return await reported() == [0, 1]

        async with running(monitor_of(settings(1))):
            await wait_for(both, 5, "both workers' reports in Redis")
        assert await reported() == [0]  # at once, not after the reports' TTL
