"""What the benchmarks share: the server under test as a subprocess, load-generating processes
driven over a pipe, /proc readings of a process, the bench's own tokens, free ports, percentiles."""

from __future__ import annotations

import asyncio
import collections
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")

Json = dict[str, Any]


def environment() -> Json:
    """What a figure was measured with: the lock (its digest), the interpreter, the machine, the
    date. Printed first by every benchmark and stored in its JSON, so a committed figure names the
    lock it came from (bench/results/README.md)."""
    import hashlib
    import platform

    lock = ROOT / "requirements-test.lock"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16] if lock.exists() else "none"
    return {"lock": f"requirements-test.lock sha256:{digest}", "python": platform.python_version(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def print_environment() -> Json:
    env = environment()
    print("measured with " + ", ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    return env


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def machine_busy_s() -> float:
    """CPU seconds every core of the machine spent busy so far (all processes, this bench's and
    anyone else's), from /proc/stat: what is neither idle nor waiting on I/O."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle, iowait
    return (sum(ticks[:8]) - idle) / CLK_TCK  # guest time is already inside user time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def issue_tokens(secret: str, grants: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Tokens signed with the server's secret, valid a day: name -> (role, session or "*")."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from live.domain import Role
    from live.web.auth import Signer

    signer = Signer(secret)
    expires = int(time.time()) + 86_400
    return {name: signer.issue(Role(role), session, expires) for name, (role, session) in grants.items()}


class ServerProcess:
    """A server as a subprocess; its output is kept (tail) and scanned for warnings.

    `env` is added to this process's environment, minus the names in `unset` (settings the
    caller's shell may hold that would change what is measured)."""

    def __init__(self, cmd: list[str], env: dict[str, str], port: int, unset: Iterable[str] = ()) -> None:
        self.port = port
        self.tail: collections.deque[str] = collections.deque(maxlen=60)
        self.warnings: collections.Counter[str] = collections.Counter()
        self.warning_lines: list[str] = []
        child_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        for name in unset:
            child_env.pop(name, None)
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.pid = self.process.pid
        # read its output all along: a full pipe would block the server
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.tail.append(line.rstrip())
            for level in ("WARNING", "ERROR", "CRITICAL", "Traceback"):
                if level in line:
                    self.warnings[level] += 1
                    if len(self.warning_lines) < 20:
                        self.warning_lines.append(line.rstrip()[:300])

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    async def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + "\n".join(self.tail))
            if await asyncio.to_thread(self._healthy):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("server not healthy in time:\n" + "\n".join(self.tail))

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid)

    def rss_kb(self) -> int:
        return proc_rss_kb(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._drain.join(2)
        if self.process.stdout is not None and not self._drain.is_alive():
            self.process.stdout.close()  # read to its end: the file is ours to close


class PipeProcess:
    """A child process that answers commands over a pipe: `(command, arguments)` in, a dict out,
    `{"error": ...}` when the command failed. `target(pipe, *args)` runs in the child."""

    def __init__(self, ctx: Any, target: Callable[..., None], *args: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()
        child.close()
        self.pid: int = self.process.pid
        self.lock = threading.Lock()  # one command at a time: answers come back in order

    def request(self, cmd: str, arg: Json) -> Json:
        """Send a command and wait for its answer (blocking: call it in a thread)."""
        with self.lock:
            self.conn.send((cmd, arg))
            result: Json = self.conn.recv()
        if "error" in result:
            raise RuntimeError(f"{cmd} failed in pid {self.pid}: {result['error']}")
        return result


def descendant_pids(pid: int) -> list[int]:
    """`pid` and every process below it (workers under a supervisor), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
            except OSError:
                continue
    return found


def tree_rss_kb(pid: int) -> int:
    """VmRSS of `pid` and its descendants together (a process that just exited counts 0)."""
    total = 0
    for each in descendant_pids(pid):
        try:
            total += proc_rss_kb(each)
        except (OSError, RuntimeError):
            continue
    return total


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its descendants together."""
    total = 0.0
    for each in descendant_pids(pid):
        try:
            total += proc_cpu_s(each)
        except (OSError, IndexError, ValueError):
            continue
    return total


class ServerTree(ServerProcess):
    """`run.py`, one process or a supervisor with its workers: measured all together."""

    def pids(self) -> list[int]:
        return descendant_pids(self.pid)

    def cpu_by_pid(self) -> dict[int, float]:
        out = {}
        for pid in self.pids():
            try:
                out[pid] = proc_cpu_s(pid)
            except (OSError, IndexError, ValueError):
                continue
        return out

    def cpu_s(self) -> float:
        return tree_cpu_s(self.pid)

    def rss_kb(self) -> int:
        return tree_rss_kb(self.pid)
