"""Shared fixtures: a real server on a free port, and per-run Redis key prefixes; the session the
tests use, and the token a printed link carries."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import uvicorn
import uvloop

from live.app import create_app
from live.config import Settings
from live.links import Links
from live.workers import uvicorn_options
from tests.waiting import wait_for_sync

REDIS_URL = os.environ.get("TRIBUNE_TEST_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]  # the checkout: run.py runs from here
SESSION = "pleniere-geopolitique"  # takes questions and polls, and is streamed, in the demo programme


def token_of(link: str) -> str:
    """The token a printed link carries (its `t` parameter)."""
    return parse_qs(urlsplit(link).query)["t"][0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The options production runs with (live.workers), on this test's port."""
    return uvicorn.Config(app, host="127.0.0.1", port=settings.port, lifespan="on",
                          **uvicorn_options(settings, "warning"))


@dataclass
class RunningServer:
    base_url: str
    links: Links
    app: Any

    def link(self, role: str, session_id: str) -> str:
        return self.links.link(role, session_id)

    @property
    def ws_base(self) -> str:
        return self.base_url.replace("http://", "ws://")


class ServerThread:
    """uvicorn in a thread with its own event loop: the real server, real sockets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.server = uvicorn.Server(uvicorn_config(self.app, settings))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # The loop production runs (live.workers: uvloop), which `serve` alone would not set up.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(self.server.serve())

    def __enter__(self) -> RunningServer:
        self.thread.start()
        wait_for_sync(self._started, 15, "the server started", interval=0.02)
        return RunningServer(self.settings.base_url, self.app.state.links, self.app)

    def _started(self) -> bool:
        if not self.thread.is_alive():
            raise RuntimeError("the server's thread ended before the server started")
        return bool(self.server.started)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


# -- in CI, nothing skips ----------------------------------------------------------------------
# A test that skips on CI (a missing browser, Node, codec or service) proves nothing while the run
# looks green: there, any skip fails the run, naming what skipped and why.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and os.environ.get("CI") and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped and os.environ.get("CI"):
        terminalreporter.section("skipped in CI: each one fails the run")
        for line in _skipped:
            terminalreporter.write_line(line)


def redis_prefix() -> str:
    return f"tribune-test-{uuid.uuid4().hex[:10]}"


def delete_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def key_prefix() -> Iterator[str]:
    prefix = redis_prefix()
    yield prefix
    delete_prefix(prefix)


@pytest.fixture
def live_server() -> Iterator[RunningServer]:
    """The service on the embedded in-memory store with the demo programme."""
    with ServerThread(Settings(port=free_port())) as running:
        yield running
