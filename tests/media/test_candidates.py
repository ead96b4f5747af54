"""Clients' ICE candidates in private ranges are never tried (unless the event is on a LAN), in
offers and in trickled fragments alike, through the real server.

The relay must offer a non-loopback address for this (a loopback relay tries loopback only), so
the server runs in a network namespace made by the test, whose only interface, `lo`, also holds
192.0.2.1/24 (a documentation network). Whatever the relay might send to the candidates below,
were the rule broken, stays in that namespace: there is no route out of it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELAY_ADDRESS = "192.0.2.1"
_names = itertools.count()


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    assert os.geteuid() == 0, "network namespaces need root (CI runs the suite as root)"
    name = f"tribune-media-{os.getpid()}-{next(_names)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for command in (["ip", "link", "set", "lo", "up"],
                        ["ip", "addr", "add", f"{RELAY_ADDRESS}/24", "dev", "lo"]):
            subprocess.run(["ip", "netns", "exec", name, *command], check=True)
        yield name
    finally:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
        for pid in pids.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), 9)
        subprocess.run(["ip", "netns", "del", name], check=False)


def held_candidates(namespace: str, *flags: str) -> dict[str, list[str]]:
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-m",
         "tests.media.candidates_scenario", RELAY_ADDRESS, *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    held: dict[str, list[str]] = json.loads(lines[-1])
    return held


def test_private_candidates_never_reach_the_relays_ice_agent(namespace: str) -> None:
    held = held_candidates(namespace)
    # Only the two documentation addresses (one offered, one trickled) were kept.
    assert held == {"whep": ["192.0.2.98", "192.0.2.99"], "whip": ["192.0.2.98", "192.0.2.99"]}


def test_an_event_on_a_lan_lets_them_through(namespace: str) -> None:
    held = held_candidates(namespace, "--private")
    for kind in ("whep", "whip"):
        assert {"10.1.2.3", "192.168.1.20", "fd00::1", "10.9.9.9", "fe80::2"} <= set(held[kind])
        assert not {"127.0.0.1", "127.0.0.2"} & set(held[kind])  # loopback: never, on a LAN
