"""Clients' ICE candidates in private ranges are never tried (unless the event is on a LAN), in
offers and in trickled fragments alike, through the real server.

The relay must offer a non-loopback address for this (a loopback relay tries loopback only), so
the server runs in a network namespace made by the test, whose only interface, `lo`, also holds
192.0.2.1/24 (a documentation network). Whatever the relay might send to the candidates below,
were the rule broken, stays in that namespace: there is no route out of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import netns

RELAY_ADDRESS = "192.0.2.1"


@pytest.fixture(scope="module")
def relay_namespace() -> Iterator[str]:
    with netns.namespace(f"{RELAY_ADDRESS}/24") as name:
        yield name


def held_candidates(namespace: str, *flags: str) -> dict[str, list[str]]:
    return netns.run_module(namespace, "tests.media.candidates_scenario", RELAY_ADDRESS, *flags,
                            timeout=60)


def test_private_candidates_never_reach_the_relays_ice_agent(relay_namespace: str) -> None:
    held = held_candidates(relay_namespace)
    # Only the two documentation addresses (one offered, one trickled) were kept.
    assert held == {"whep": ["192.0.2.98", "192.0.2.99"], "whip": ["192.0.2.98", "192.0.2.99"]}


def test_an_event_on_a_lan_lets_them_through(relay_namespace: str) -> None:
    held = held_candidates(relay_namespace, "--private")
    for kind in ("whep", "whip"):
        assert {"10.1.2.3", "192.168.1.20", "fd00::1", "10.9.9.9", "fe80::2"} <= set(held[kind])
        assert not {"127.0.0.1", "127.0.0.2"} & set(held[kind])  # loopback: never, on a LAN
