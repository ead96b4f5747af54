"""The supervisor's restart policy and the options every worker runs with (live/workers.py).

Whole supervised services (a worker killed, restarted, the port shared) are in tests/e2e/.
"""

from __future__ import annotations

import pytest

from live.config import Settings
from live.protocol import MAX_FRAME_BYTES
from live.workers import (
    RESTART_DELAY,
    RESTART_DELAY_MAX,
    STABLE_AFTER,
    Worker,
    WorkersError,
    serve,
    uvicorn_options,
)


def test_a_worker_dying_young_waits_longer_each_time_up_to_the_cap() -> None:
    worker = Worker(0, started=100.0)
    waits = []
    now = 100.0
    for _ in range(8):
        now += 1.0  # up one second, then gone
        worker.exited(now)
        assert worker.restart_at is not None
        waits.append(worker.restart_at - now)
        worker.started, worker.restart_at = worker.restart_at, None
        now = worker.started
    assert waits == [min(RESTART_DELAY * 2**i, RESTART_DELAY_MAX) for i in range(8)]
    assert waits[-1] == RESTART_DELAY_MAX


def test_a_worker_that_ran_a_while_restarts_at_once_and_forgets_earlier_exits() -> None:
    worker = Worker(1, started=0.0, delay=RESTART_DELAY_MAX)
    worker.exited(STABLE_AFTER + 1)
    assert worker.restart_at == STABLE_AFTER + 1 and worker.delay == RESTART_DELAY


def test_every_worker_runs_bounded_frames_without_compression_and_behind_known_proxies() -> None:
    options = uvicorn_options(Settings(trusted_proxies=("10.0.0.5",)), "info")
    assert options["ws_max_size"] == MAX_FRAME_BYTES and options["ws_per_message_deflate"] is False
    assert options["proxy_headers"] is True and options["forwarded_allow_ips"] == "10.0.0.5"
    assert options["server_header"] is False
    none = uvicorn_options(Settings(trusted_proxies=()), "info")
    assert none["proxy_headers"] is False  # nobody's X-Forwarded-For is believed


@pytest.mark.parametrize("settings, message", [
    (Settings(workers=0), "at least 1"),
    (Settings(workers=2), "needs --redis"),
])
def test_impossible_worker_counts_are_refused(settings: Settings, message: str) -> None:
    with pytest.raises(WorkersError, match=message):
        serve(settings, "info")
