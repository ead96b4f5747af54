"""Run by tests/media/test_candidates.py inside a network namespace of its own (`ip netns exec`):
the real server, its relay on 192.0.2.1 (on the namespace's `lo`: nothing leaves it),
a studio on air, then a WHIP and a WHEP offer and PATCHes carrying candidates in private ranges.
Prints one JSON line: the remote candidates the relay's ICE agents hold, per resource kind.

    python -m tests.media.candidates_scenario RELAY_ADDRESS [--private]
"""

from __future__ import annotations

import asyncio
import json
import re
import sys

import httpx2 as httpx

from live.domain import Role
from live.media.client import TestPatternTrack, publish
from live.media.relay import Relay
from tests.media.conftest import SESSION, make_offer, serving
from tests.waiting import wait_for

# What a hostile (or merely LAN-bound) client may offer, and one control address in the
# namespace's own documentation network, which the relay must keep.
OFFERED = ["10.1.2.3", "192.168.1.20", "172.16.0.9", "100.64.0.1", "169.254.1.1", "fd00::1",
           "fe80::1", "127.0.0.1", "4a1e0c4d-5b52-4b6a-9f1e-0d6e2f6b9e11.local", "192.0.2.99"]
TRICKLED = ["10.9.9.9", "192.168.7.7", "fe80::2", "127.0.0.2", "192.0.2.98"]


def candidates(hosts: list[str], first_port: int) -> str:
    return "".join(f"a=candidate:{i} 1 udp 2130706431 {host} {first_port + i} typ host\r\n"
                   for i, host in enumerate(hosts))


def crafted(offer: str) -> str:
    """The offer with its own candidates replaced by ours (and open to trickling)."""
    offer = re.sub(r"a=(candidate:.*|end-of-candidates)\r\n", "", offer)
    return offer.replace("a=ice-ufrag:", candidates(OFFERED, 40000) + "a=ice-ufrag:", 1)


def remote_hosts(relay: Relay, location: str) -> list[str]:
    """Every remote candidate the ICE agents of the resource at `location` were given."""
    resource = relay.resources[location.rsplit("/", 1)[1]]
    agents = [t.receiver.transport.transport._connection for t in resource.pc.getTransceivers()]
    return sorted({c.host for agent in agents for c in agent.remote_candidates})


async def scenario(relay_address: str, private: bool) -> dict[str, list[str]]:
    with serving(media_addresses=(relay_address,), private_candidates=private) as server:
        studio = await publish(server.whip(), server.token(Role.STUDIO), [TestPatternTrack(160, 120)])
        try:
            await wait_for(lambda: server.relay.broadcast(SESSION).live, 10, "the studio on air")
            held = {}
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                for kind, role, direction in (("whep", Role.PARTICIPANT, "recvonly"),
                                              ("whip", Role.STUDIO, "sendonly")):
                    token = server.token(role)
                    offer = crafted(await make_offer(direction, ("video",)))
                    posted = await http.post(f"/sessions/{SESSION}/{kind}", content=offer, headers={
                        "authorization": f"Bearer {token}", "content-type": "application/sdp"})
                    assert posted.status_code == 201, (kind, posted.status_code, posted.text)
                    patched = await http.patch(
                        posted.headers["location"], content="a=mid:0\r\n" + candidates(TRICKLED, 41000),
                        headers={"authorization": f"Bearer {token}",
                                 "content-type": "application/trickle-ice-sdpfrag"})
                    assert patched.status_code == 204, (kind, patched.status_code, patched.text)
                    held[kind] = remote_hosts(server.relay, posted.headers["location"])
            return held
        finally:
            await studio.close()


if __name__ == "__main__":
    result = asyncio.run(scenario(sys.argv[1], "--private" in sys.argv[2:]))
    print(json.dumps(result))
