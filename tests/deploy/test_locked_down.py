"""A participant in a network that blocks UDP (a town hall, a ministry) still gets the video: Debian's
Chromium, all its UDP dropped by nftables, plays the stream through coturn over TCP, with TURN
credentials tribune minted for its page before the first offer. Runs in a network namespace made
for the test (tests/deploy/scenario_locked_down.py)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.chromium import CHROMIUM
from tests.netns import namespace, require, run_module

pytestmark = pytest.mark.browser  # selectable with -m; never skipped: require() fails instead


def test_a_viewer_without_udp_plays_through_turn_over_tcp() -> None:
    require("turnserver", "nft", CHROMIUM)
    with namespace() as ns:
        verdict = run_module(ns, "tests.deploy.scenario_locked_down", timeout=60)
    peers = verdict["peers"]
    assert peers, "the page made no peer connection"
    first = peers[0]
    # The page's first connection already had TURN, with credentials minted for it.
    (server,) = first["servers"]
    assert server["urls"] == "turn:127.0.0.3:3478?transport=tcp" and server["credential"]
    expiry, _, user = server["username"].partition(":")
    assert int(expiry) > time.time() and user.startswith("viewer-"), server
    # It connected, through a relay candidate allocated over TCP, and decoded frames.
    assert first["state"] == "connected" and first["frames"] > 0, peers
    assert first["local"] == {"type": "relay", "relayProtocol": "tcp", "address": "127.0.0.3"}
    assert first["remote"]["address"] == "127.0.0.2"  # the relay's media address
    # coturn accepted the page's minted credentials, and the relay's own.
    assert verdict["viewer_allocated"] and verdict["relay_allocated"], verdict
    assert verdict["dropped_udp_packets"] > 0, "the browser did try UDP, and it was dropped"
