"""Network namespaces made and removed by the test: nothing inside reaches the machine's real
network or its Redis, and nftables rules there touch no one else.

Inside one, 127.0.0.0/8 is routed to its own `lo`: 127.0.0.2, 127.0.0.3… are distinct hosts (for
coturn, the relay and the browser of the deployment tests). A test that needs an address that is
not loopback gets one from a documentation network (RFC 5737), which is routed nowhere: on `lo`,
or on a bridge with no ports (libnice gathers no candidate on a loopback interface); a packet to
it loops back inside the namespace. The tests run a module inside (`ip netns exec`) that prints
one JSON line, its verdict, or start processes there (`inside`).
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
from typing import Any

from tests.conftest import ROOT

_names = itertools.count()


def require(*tools: str) -> None:
    """These tests fail, never skip, without their tools: scripts/test installs them."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    assert not missing, f"missing {missing}: install Debian's packages as scripts/test does"
    assert os.geteuid() == 0, "network namespaces need root (CI runs the suite as root)"


def inside(name: str, *argv: str) -> list[str]:
    """The command line running `argv` in the namespace."""
    return ["ip", "netns", "exec", name, *argv]


@contextlib.contextmanager
def namespace(address: str | None = None, *, bridge: bool = False) -> Iterator[str]:
    """A namespace with `lo` up, and `address` (with its prefix length: "192.0.2.1/24") on `lo`,
    or on a bridge of its own; its name. Whatever still runs inside at the end is killed."""
    require("ip")
    name = f"tribune-test-{os.getpid()}-{next(_names)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        commands = [["ip", "link", "set", "lo", "up"]]
        if address and bridge:
            commands += [["ip", "link", "add", "br0", "type", "bridge"],
                         ["ip", "link", "set", "br0", "addrgenmode", "none"],  # no IPv6 address
                         ["ip", "addr", "add", address, "dev", "br0"],
                         ["ip", "link", "set", "br0", "up"]]
        elif address:
            commands.append(["ip", "addr", "add", address, "dev", "lo"])
        for command in commands:
            subprocess.run(inside(name, *command), check=True, capture_output=True, timeout=10)
        yield name
    finally:
        # Anything still inside was started by this test (`ip netns exec` keeps the pid).
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
        for pid in pids.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=10)


def run_module(name: str, module: str, *args: str, timeout: float = 40) -> dict[str, Any]:
    """Runs `python -m module` inside the namespace; its last line is JSON, returned."""
    result = subprocess.run(inside(name, sys.executable, "-m", module, *args), cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, (
        f"{module} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    verdict: dict[str, Any] = json.loads(lines[-1])
    return verdict
