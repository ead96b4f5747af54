"""Network namespaces for the deployment tests: loopback only, made and removed by the test.

Inside one, 127.0.0.0/8 is routed to its own `lo`: 127.0.0.2, 127.0.0.3… are distinct hosts for
coturn, the relay and the browser, nothing reaches the machine's real network or its Redis, and
nftables rules there touch no one else. The tests run a scenario module inside (`ip netns exec`)
that prints one JSON line, its verdict.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count()


def require(*tools: str) -> None:
    """These tests fail, never skip, without their tools: scripts/test installs them."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    assert not missing, f"missing {missing}: install Debian's packages as scripts/test does"
    assert os.geteuid() == 0, "network namespaces need root (CI runs the suite as root)"


@contextlib.contextmanager
def namespace() -> Iterator[str]:
    require("ip")
    name = f"tribune-test-{os.getpid()}-{next(_names)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        # Whatever the scenario left running in there goes with it.
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
        for pid in pids.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", name], check=False)


def run_scenario(ns: str, module: str, *args: str, timeout: float = 40) -> dict[str, Any]:
    """Runs `python -m tests.deploy.<module>` inside the namespace; its last line is JSON."""
    command = ["ip", "netns", "exec", ns, sys.executable, "-m", f"tests.deploy.{module}", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, (
        f"{module} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    verdict: dict[str, Any] = json.loads(lines[-1])
    return verdict
