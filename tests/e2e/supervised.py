"""Helpers for tests of `run.py --workers N`: the supervised service, its workers, a private Redis."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis

from live.domain import Role
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import SESSION, free_port
from tests.processes import RunPy
from tests.waiting import wait_for_sync
from tests.wsclient import Client


class Service(RunPy):
    """`run.py --workers N --redis URL` on a free port, with its output in a file."""

    def __init__(self, redis_url: str, prefix: str, logs: Path, workers: int = 2, *,
                 configured_secret: bool = True, secret: str | None = None,
                 name: str = "service") -> None:
        """Without `configured_secret` the service generates its own, in a file, as by default."""
        super().__init__(logs, ["--workers", str(workers), "--redis", redis_url,
                                "--log-level", "warning"], {"TRIBUNE_KEY_PREFIX": prefix}, name)
        self.redis_url, self.prefix, self.workers = redis_url, prefix, workers
        self.configured_secret = configured_secret
        self.secret = secret or secrets.token_urlsafe(24)
        self.secret_path = logs / f"secret-{self.port}"
        if configured_secret:
            self.env["TRIBUNE_SECRET"] = self.secret
        else:  # the service generates one in this file, the supervisor gives it to the workers
            self.env["TRIBUNE_SECRET_FILE"] = str(self.secret_path)
        self.tokens: dict[str, str] = {}
        self._issue_tokens()

    def _issue_tokens(self) -> None:
        signer, expires = Signer(self.secret), int(time.time()) + 3600
        self.tokens = {
            "participant": signer.issue(Role.PARTICIPANT, EVENT_SCOPE, expires),
            "moderator": signer.issue(Role.MODERATOR, SESSION, expires),
            "stage": signer.issue(Role.STAGE, SESSION, expires),
        }

    def start(self, timeout: float = 30) -> None:
        super().start(timeout)
        if not self.configured_secret:  # the one the service generated, as an operator's links are
            self.secret = self.secret_path.read_text("utf-8").strip()
            self._issue_tokens()

    def health(self) -> tuple[int, dict[str, Any]]:
        status, body = self.get("/healthz")
        return status, json.loads(body) if status else {}

    def failing_health(self) -> dict[str, Any] | None:
        """The /healthz body if it answers 503, else None."""
        status, body = self.health()
        return body if status == 503 else None

    def metrics(self) -> dict[str, float]:
        """The /metrics samples by series (`name{labels}`)."""
        status, body = self.get("/metrics")
        assert status == 200, (status, body)
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                for line in body.splitlines() if line and not line.startswith("#")}

    def worker_pids(self) -> dict[int, int]:
        """Worker index -> pid, from the supervisor's children and their TRIBUNE_WORKER."""
        assert self.proc is not None
        pids: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) != self.proc.pid:
                    continue
                found = re.search(rb"(?:^|\0)TRIBUNE_WORKER=(\d+)\0", (entry / "environ").read_bytes())
                if found:
                    pids[int(found.group(1))] = int(entry.name)
        return pids

    async def connect(self, role: str, **hello: Any) -> Client:
        return await Client(self.ws_base, SESSION, self.tokens[role]).connect(**hello)


def gone(pid: int) -> bool:
    """The process has exited (a zombie, not yet reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@contextlib.asynccontextmanager
async def paused(pid: int) -> AsyncIterator[None]:
    """Freeze a worker (SIGSTOP): the other workers accept every new connection meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


class PrivateRedis:
    """A redis-server of the test's own, without persistence: restarting it loses everything."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            wait_for_sync(answers, 10, f"redis-server answering on port {self.port}")
        finally:
            client.close()

    def everything(self) -> str:
        """Every key and value this Redis holds, as text (to look for what must not be there)."""
        client = redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)
        readers = {"string": client.get, "hash": client.hgetall, "set": client.smembers,
                   "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                   "list": lambda k: client.lrange(k, 0, -1),
                   "stream": lambda k: client.xrange(k)}
        try:
            return repr([(key, readers[client.type(key)](key)) for key in client.scan_iter()])
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
