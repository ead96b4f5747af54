"""`run.py --workers 2`: two service processes on one port, sharing state through Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SESSION
from tests.e2e.supervised import Service, gone, paused
from tests.processes import service_env
from tests.waiting import wait_for

pytestmark = pytest.mark.redis

FAN_OUT = 3.0  # seconds for a change made through one worker to reach clients of the other


def worker_series(name: str, metrics: dict[str, float]) -> dict[str, float]:
    """The per-worker samples of a metric, by worker index."""
    return {key.split('worker="')[1].split('"')[0]: value for key, value in metrics.items()
            if key.startswith(name + "{")}


async def test_two_workers_serve_one_port_and_share_questions_health_and_metrics(
        service: Service) -> None:
    pids = service.worker_pids()
    assert sorted(pids) == [0, 1], service.log()
    assert service.output().count("tribune is running.") == 1  # the links, once, not per worker
    # While one worker is frozen the other accepts every connection: clients land where we say.
    async with paused(pids[1]):
        moderator = await service.connect("moderator")
        here = await asyncio.gather(*(service.connect("participant") for _ in range(3)))
    async with paused(pids[0]):
        there = await asyncio.gather(*(service.connect("participant") for _ in range(3)))
    everyone = [moderator, *here, *there]
    assert len({c.epoch for c in everyone}) == 1  # one history, in Redis

    await moderator.ok("SetPremoderation", enabled=False)
    await here[0].ok("AskQuestion", text="Question posée au worker 0")
    await there[0].ok("AskQuestion", text="Question posée au worker 1")
    for client in everyone:
        for text in ("Question posée au worker 0", "Question posée au worker 1"):
            await client.wait_for(lambda c=client, t=text: c.question(t), timeout=FAN_OUT)

    # /metrics, wherever it is answered, sums both workers' figures (published every second: the
    # connections may be there a publication before the events each worker has applied since).
    def summed() -> dict[str, float] | None:
        metrics = service.metrics()
        connections = worker_series("tribune_worker_connections", metrics)
        events = worker_series("tribune_events_total", metrics)
        if connections != {"0": 4, "1": 3} or set(events) != {"0", "1"}:
            return None
        return metrics if all(v >= 3 for v in events.values()) else None

    metrics = await wait_for(summed, 5, "both workers' connections and events in /metrics",
                             blocking=True)
    assert metrics[f'tribune_participants{{session="{SESSION}"}}'] == 6
    assert metrics[f'tribune_moderator_connections{{session="{SESSION}"}}'] == 1
    assert metrics["tribune_workers"] == 2
    assert worker_series("tribune_slow_clients_dropped_total", metrics) == {"0": 0, "1": 0}

    # A stuck worker (frozen: its loop stops beating) fails /healthz answered by the other one.
    status, body = service.health()
    assert status == 200 and body["failed"] == [] and set(body["heartbeat_age"]) == {"0", "1"}
    async with paused(pids[1]):
        body = await wait_for(service.failing_health, 10, "/healthz 503 while worker 1 is stuck",
                              blocking=True)
        assert body["worker"] == 0 and body["failed"] == ["workers"], body
        assert body["heartbeat_age"]["1"] >= 5 > body["heartbeat_age"]["0"], body
    await wait_for(lambda: service.health()[0] == 200, 5, "/healthz 200 once worker 1 runs again",
                   blocking=True)
    # Its clients were held, not lost: a question asked there still reaches the moderator.
    await there[1].ok("AskQuestion", text="Encore là ?")
    await moderator.wait_for(lambda: moderator.question("Encore là ?"), timeout=FAN_OUT)

    # SIGTERM to the supervisor stops every worker gracefully; clients are told to reconnect.
    assert service.proc is not None
    started = time.monotonic()
    assert await asyncio.to_thread(service.stop) == 0, service.log()
    assert time.monotonic() - started < 12
    for client in everyone:
        await client.wait_for(lambda c=client: c.closed_code is not None, timeout=5)
        assert client.closed_code == 1012
    assert all(gone(pid) for pid in pids.values())


def test_several_workers_need_redis(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "run.py", "--workers", "2", "--port", "1"], cwd=ROOT, env=service_env(),
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--workers above 1 needs --redis" in result.stderr
