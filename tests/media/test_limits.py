"""WHEP floods, through the real server: viewers per network address and per private link are
bounded before any peer connection exists, and a viewer whose peer never answers ICE gives its
slot back within 10 s.

Client addresses are played with X-Forwarded-For from loopback (a trusted proxy by default), with
documentation addresses only; all media stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest

from live.domain import Role
from live.media.client import Peer, TestPatternTrack, publish, watch
from live.web.auth import EVENT_SCOPE
from tests.media.conftest import MediaServer, make_offer, serving
from tests.waiting import wait_for

PER_ADDRESS = PER_LINK = 2


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A UDP port on 127.0.0.1 that reads nothing and answers nothing: a peer that never
    completes ICE (the relay's checks reach it and get no response)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def silent_offer(port: int) -> str:
    """A valid viewer offer whose only candidate is the silent port."""
    offer = re.sub(r"a=candidate:.*\r\n", "", await make_offer("recvonly", ("video",)))
    return offer.replace("a=ice-ufrag:", f"a=candidate:1 1 udp 2130706431 127.0.0.1 {port} "
                         "typ host\r\na=ice-ufrag:", 1)


class Limited:
    def __init__(self, server: MediaServer, studio: Peer) -> None:
        self.server, self.studio = server, studio
        self.peers_made = 0
        relay = server.relay
        make = relay._peer

        def counting(*args: Any) -> Any:  # every peer connection the relay creates
            self.peers_made += 1
            return make(*args)

        relay._peer = counting  # type: ignore[method-assign]

    async def post(self, offer: str, token: str, address: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.post(self.server.whep(), content=offer, headers={
                "authorization": f"Bearer {token}", "content-type": "application/sdp",
                "x-forwarded-for": address})


@pytest.fixture
async def limited() -> AsyncIterator[Limited]:
    with serving(max_viewers_per_address=PER_ADDRESS, max_viewers_per_token=PER_LINK) as server:
        studio = await publish(server.whip(), server.token(Role.STUDIO),
                               [TestPatternTrack(160, 120)])
        try:
            await wait_for(lambda: server.relay.broadcast("pleniere-geopolitique").live, 5,
                           "the studio on air")
            yield Limited(server, studio)
        finally:
            await studio.close()


def refused(response: httpx.Response, words: str) -> bool:
    return (response.status_code == 429 and int(response.headers["retry-after"]) > 0
            and words in response.text and response.headers["access-control-allow-origin"] == "*")


async def test_viewers_per_network_address_are_bounded(limited: Limited, silent_port: int) -> None:
    offer = await silent_offer(silent_port)
    participant = limited.server.token(Role.PARTICIPANT)
    first = [await limited.post(offer, participant, "203.0.113.7") for _ in range(PER_ADDRESS)]
    assert [r.status_code for r in first] == [201] * PER_ADDRESS
    made = limited.peers_made
    over = await limited.post(offer, participant, "203.0.113.7")
    assert refused(over, "network address"), (over.status_code, over.text)
    assert limited.peers_made == made, "refused before any peer connection is made"
    assert (await limited.post(offer, participant, "198.51.100.9")).status_code == 201
    # IPv6: one /64 is one client (it may use every address in it).
    for address, status in (("2001:db8:1:2::1", 201), ("2001:db8:1:2::ffff", 201),
                            ("2001:db8:1:2:abcd::9", 429), ("2001:db8:1:3::1", 201)):
        assert (await limited.post(offer, participant, address)).status_code == status, address
    # A viewer who leaves gives the address its slot back.
    async with httpx.AsyncClient(base_url=limited.server.base_url, timeout=10) as http:
        gone = await http.delete(first[0].headers["location"],
                                 headers={"authorization": f"Bearer {participant}"})
    assert gone.status_code == 200
    assert (await limited.post(offer, participant, "203.0.113.7")).status_code == 201


async def test_viewers_per_personal_link_are_bounded_not_the_public_one(limited: Limited,
                                                                        silent_port: int) -> None:
    offer = await silent_offer(silent_port)
    moderator = limited.server.token(Role.MODERATOR)
    for i in range(PER_LINK):
        assert (await limited.post(offer, moderator, f"203.0.113.{10 + i}")).status_code == 201
    made = limited.peers_made
    over = await limited.post(offer, moderator, "203.0.113.20")  # another address, same link
    assert refused(over, "this link"), (over.status_code, over.text)
    assert limited.peers_made == made
    # Another moderator link (the same role) has its own bound.
    other = limited.server.signer.issue(Role.MODERATOR, "pleniere-geopolitique",
                                        int(time.time()) + 7200)
    assert (await limited.post(offer, other, "203.0.113.21")).status_code == 201
    # The participant link is everyone's: it is never bounded as a link.
    participant = limited.server.token(Role.PARTICIPANT)
    statuses = [(await limited.post(offer, participant, f"198.51.100.{i}")).status_code
                for i in range(1, PER_LINK + 3)]
    assert statuses == [201] * (PER_LINK + 2)
    # A registrant's personal participant link is one person's: bounded as a link.
    personal = limited.server.signer.issue(Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) + 7200,
                                           registrant="r-0001")
    statuses = [(await limited.post(offer, personal, f"192.0.2.{i}")).status_code
                for i in range(1, PER_LINK + 2)]
    assert statuses == [201] * PER_LINK + [429]


async def test_a_viewer_that_never_answers_ice_frees_its_slot_within_10_s(
        silent_port: int) -> None:
    with serving(max_viewers=1) as server:
        studio = await publish(server.whip(), server.token(Role.STUDIO),
                               [TestPatternTrack(160, 120)])
        viewer = None
        try:
            await wait_for(lambda: server.relay.broadcast("pleniere-geopolitique").live, 5,
                           "the studio on air")
            offer = await silent_offer(silent_port)
            headers = {"authorization": f"Bearer {server.token(Role.PARTICIPANT)}",
                       "content-type": "application/sdp"}
            async with httpx.AsyncClient(timeout=10) as http:
                answered = await http.post(server.whep(), content=offer, headers=headers)
                posted = time.monotonic()
                assert answered.status_code == 201
                (resource,) = [r for r in server.relay.resources.values() if r.kind == "whep"]
                full = await http.post(server.whep(), content=offer, headers=headers)
                assert full.status_code == 503  # the silent viewer holds the only slot
            # Within 10 s of the answer (the test's own time since counts against it).
            await wait_for(lambda: server.relay.viewer_count == 0, 10 - (time.monotonic() - posted),
                           "the silent viewer's slot given back")
            assert resource.pc.connectionState == "closed"
            viewer = await watch(server.whep(), server.token(Role.PARTICIPANT), kinds=["video"])
            await asyncio.wait_for(viewer.first_frame.wait(), 5)  # the slot serves a real viewer
        finally:
            if viewer is not None:
                await viewer.close()
            await studio.close()
