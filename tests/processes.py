"""Processes the tests start: `run.py` as an organiser runs it, and the other servers (coturn,
Caddy), each waited for until it serves and stopped whatever happens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import ROOT, free_port
from tests.waiting import wait_for_sync


def service_env(**settings: str) -> dict[str, str]:
    """This process's environment without any TRIBUNE_ setting (the shell running the tests may
    hold some, which would change what is tested), unbuffered output, and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUNE_")}
    env.update(PYTHONUNBUFFERED="1", **settings)
    return env


def stop_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float) -> int:
    """SIGTERM, and `timeout` seconds to finish (a graceful stop), then SIGKILL: its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def wait_listening(proc: subprocess.Popen[bytes], address: str, port: int, what: str,
                   timeout: float = 10) -> None:
    """Until `proc` accepts TCP connections on `address`:`port`; fails at once if it exits."""
    def listening() -> bool:
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        with socket.socket() as probe:
            return probe.connect_ex((address, port)) == 0

    wait_for_sync(listening, timeout, f"{what} listening on {address}:{port}")


class RunPy:
    """`run.py` as a subprocess on 127.0.0.1 and a free port, with its output in a file; `args`
    after the address, `env` on top of `service_env()` (it may be set until `start`)."""

    def __init__(self, logs: Path, args: Sequence[str], env: dict[str, str] | None = None,
                 name: str = "service") -> None:
        self.args, self.env, self.name = list(args), dict(env or {}), name
        self.port = free_port()
        self.log_path = logs / f"{name}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def log(self) -> str:
        return self.output()[-4000:]

    def start(self, timeout: float = 30) -> None:
        """Start, and wait until /healthz answers 200 (with workers: every worker is up)."""
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(self.port),
                 *self.args], cwd=ROOT, env=service_env(**self.env), stdout=out,
                stderr=subprocess.STDOUT)
        wait_for_sync(self._healthy, timeout, lambda: f"{self.name} healthy\n{self.log()}",
                      interval=0.1)

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log()}")
        return self.get("/healthz")[0] == 200

    def get(self, path: str) -> tuple[int, str]:
        """(status, body); status 0 when nothing answered."""
        try:
            with urllib.request.urlopen(f"{self.base_url}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def stop(self, timeout: float = 20) -> int | None:
        """A graceful stop (`timeout` seconds before SIGKILL): the exit code."""
        return None if self.proc is None else stop_process(self.proc, timeout)
