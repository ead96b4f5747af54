"""Serving: one process, or N worker processes on one port under a supervisor.

With `--workers N` the parent binds the listening socket once and starts N workers (spawned, so
none inherits another's event loop or threads), each running uvicorn on that socket; the kernel
hands each new connection to whichever worker accepts it first. Workers share state and fan-out
through Redis, so any of them can serve any client. The parent only supervises: a worker that
exits (a crash, kill -9) is started again under the same index after a backoff; SIGTERM or SIGINT
stops every worker gracefully (uvicorn's shutdown: clients get 1012 and reconnect).
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

from live.config import Settings, resolve_secret
from live.protocol import MAX_FRAME_BYTES
from live.web.lean_socket import LeanWebSocketProtocol
from live.web.slowloris import head_deadline_protocol

log = logging.getLogger(__name__)

RESTART_DELAY, RESTART_DELAY_MAX = 0.5, 15.0  # doubling while a worker keeps dying young
STABLE_AFTER = 30.0  # seconds up after which a worker's next exit restarts it without delay
STOP_TIMEOUT = 15.0  # uvicorn's graceful shutdown takes up to 10 s, then the worker is killed
BACKLOG = 2048  # pending connections: a reconnect wave after a worker dies lands at once


class WorkersError(Exception):
    """The configuration cannot run several workers."""


def uvicorn_options(settings: Settings, log_level: str) -> dict[str, Any]:
    """The uvicorn options every worker (and the single process, and the tests' server) runs with."""
    return dict(
        log_level=log_level, ws=LeanWebSocketProtocol, ws_max_size=MAX_FRAME_BYTES,
        ws_per_message_deflate=False, ws_ping_interval=20.0, ws_ping_timeout=25.0,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        server_header=False, timeout_graceful_shutdown=10,
        # libuv's loop, not asyncio's: in a vote burst of 5,000 participants a question reached the
        # moderator in 19 ms at p99 instead of 1.2 s, for the same CPU (docs/performance.md).
        loop="uvloop",
        # A connection that sends no complete request head in time is closed (slowloris).
        http=head_deadline_protocol(settings.request_head_timeout))


def serve(settings: Settings, log_level: str) -> None:
    """Run the service in this process, or supervise `settings.workers` worker processes."""
    if settings.workers < 1:
        raise WorkersError("--workers must be at least 1")
    # Here, once: every worker, restarted ones included, gets this secret from the supervisor.
    try:
        settings = resolve_secret(settings)
    except (OSError, ValueError) as exc:
        raise WorkersError(f"signing secret: {exc}") from None
    if settings.workers == 1:
        from live.app import create_app  # here, not at the top: the supervisor never needs it

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                    **uvicorn_options(settings, log_level))
        return
    if settings.redis_url is None:
        raise WorkersError("--workers above 1 needs --redis (or TRIBUNE_REDIS_URL): the "
                           "in-memory state lives in one process and cannot be shared")
    Supervisor(settings, log_level).run()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    """Linux: have the kernel stop this worker if the supervisor dies (even by kill -9), so no
    orphan keeps serving the port with nobody to restart it."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _worker_main(settings: Settings, log_level: str, sock: socket.socket, parent: int) -> None:
    """A worker process: the service under uvicorn, on the socket the supervisor bound."""
    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        return
    logging.basicConfig(level=log_level.upper(),
                        format=f"%(asctime)s %(levelname)s w{settings.worker} %(name)s: %(message)s")
    from live.app import create_app

    config = uvicorn.Config(create_app(settings), **uvicorn_options(settings, log_level))
    uvicorn.Server(config).run(sockets=[sock])


@dataclasses.dataclass
class Worker:
    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    delay: float = RESTART_DELAY
    restart_at: float | None = None  # when it is due to be started again (after an exit)
    starts: int = 0

    def exited(self, now: float) -> float:
        """Schedule the restart of a worker that exited at `now`: in how many seconds."""
        if now - self.started > STABLE_AFTER:  # a one-off: restart at once, forget earlier exits
            self.delay = RESTART_DELAY
            self.restart_at = now
            return 0.0
        wait = self.delay  # dying young again and again: wait longer each time
        self.restart_at = now + wait
        self.delay = min(self.delay * 2, RESTART_DELAY_MAX)
        return wait


class Supervisor:
    def __init__(self, settings: Settings, log_level: str) -> None:
        self.settings = settings
        self.log_level = log_level
        self.workers = [Worker(i) for i in range(settings.workers)]
        self._context = multiprocessing.get_context("spawn")
        self._stopping = False

    def run(self) -> None:
        try:
            sock = _bind(self.settings.host, self.settings.port)
        except OSError as exc:
            raise WorkersError(f"cannot listen on {self.settings.host}:{self.settings.port}: "
                               f"{exc.strerror or exc}") from None
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("supervising %d workers on %s:%d (pid %d)", len(self.workers),
                 self.settings.host, self.settings.port, os.getpid())
        try:
            for worker in self.workers:
                self._start(worker, sock)
            while not self._stopping:
                self._watch(sock)
        finally:
            self._stop_all()
            sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _start(self, worker: Worker, sock: socket.socket) -> None:
        # Links are printed once, by worker 0 when the service starts (not on its restarts).
        settings = dataclasses.replace(
            self.settings, worker=worker.index,
            print_links=self.settings.print_links and worker.index == 0 and worker.starts == 0)
        # In the worker's environment too, so that tools outside it (ps, /proc) can tell which
        # process is which worker.
        os.environ["TRIBUNE_WORKER"] = str(worker.index)
        try:
            process = self._context.Process(
                target=_worker_main, args=(settings, self.log_level, sock, os.getpid()),
                name=f"tribune-worker-{worker.index}")
            process.start()
        finally:
            del os.environ["TRIBUNE_WORKER"]
        worker.process, worker.started, worker.restart_at = process, time.monotonic(), None
        worker.starts += 1
        log.info("worker %d started (pid %s)", worker.index, process.pid)

    def _watch(self, sock: socket.socket) -> None:
        """Wait a moment for a worker to exit; restart those whose backoff is over."""
        now = time.monotonic()
        due = [w.restart_at for w in self.workers if w.restart_at is not None]
        timeout = max(0.0, min([*due, now + 0.5]) - now)
        sentinels = [w.process.sentinel for w in self.workers
                     if w.process is not None and w.restart_at is None]
        wait(sentinels, timeout)  # a signal only sets a flag: back here within 0.5 s at most
        if self._stopping:
            return
        now = time.monotonic()
        for worker in self.workers:
            process = worker.process
            if worker.restart_at is None and process is not None and not process.is_alive():
                process.join()
                uptime = now - worker.started
                restart_in = worker.exited(now)
                log.warning("worker %d (pid %s) exited with %s after %.1f s; restarting in %.1f s",
                            worker.index, process.pid, process.exitcode, uptime, restart_in)
            if worker.restart_at is not None and worker.restart_at <= now:
                self._start(worker, sock)

    def _stop_all(self) -> None:
        alive = [w.process for w in self.workers if w.process is not None and w.process.is_alive()]
        for process in alive:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker pid %s did not stop in time: killed", process.pid)
                process.kill()
                process.join(5)
        log.info("all workers stopped")
