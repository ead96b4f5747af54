"""Inside a test's network namespace: a viewer whose network drops UDP still gets the video,
through coturn over TCP, with TURN credentials tribune minted for its page. Prints one JSON line.

Who is where: coturn (deploy/turnserver.conf) on 127.0.0.3, the tribune server with its relay's
media on 127.0.0.2, an aiortc studio on 127.0.0.2, and Debian's Chromium, whose only address is
127.0.0.1 (the namespace's `lo`). nftables drops every UDP packet from or to 127.0.0.1, and all IPv6
UDP: the viewer can reach nothing over UDP, only TCP (the page, and coturn's TURN port). The studio
and coturn's relayed side (127.0.0.3 -> 127.0.0.2) keep UDP, as the relay has on a server.
Run by tests/deploy/test_locked_down.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import time
from typing import Any

from live.config import Settings
from live.domain import Role
from live.media.client import TestPatternTrack, publish
from live.web.auth import Signer
from tests.conftest import SESSION, ServerThread, free_port
from tests.deploy.coturn import TURN_SECRET, coturn
from tests.e2e.chromium import MEDIA_ARGS, launched
from tests.waiting import wait_for

SECRET = "locked-down-network-secret-0123"
TURN, RELAY, VIEWER = "127.0.0.3", "127.0.0.2", "127.0.0.1"
NO_UDP_FOR_THE_VIEWER = f"""
table inet tribune_locked_down {{
  chain output {{
    type filter hook output priority 0; policy accept;
    ip saddr {VIEWER} meta l4proto udp counter drop
    ip daddr {VIEWER} meta l4proto udp counter drop
    meta nfproto ipv6 meta l4proto udp counter drop
  }}
}}
"""

# Records every peer connection the page makes, with the ICE servers it was created with.
RECORD_PEERS = """
window.__peers = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (config, ...rest) {
  const pc = new Native(config, ...rest);
  const servers = JSON.parse(JSON.stringify((config && config.iceServers) || []));
  window.__peers.push({ pc, servers });
  return pc;
};
window.RTCPeerConnection.prototype = Native.prototype;
"""

PEERS = """async () => {
  const out = [];
  for (const { pc, servers } of window.__peers) {
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    let frames = 0, pair = null;
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0;
      if (s.type === "transport" && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
    });
    const local = pair && byId.get(pair.localCandidateId);
    const remote = pair && byId.get(pair.remoteCandidateId);
    out.push({
      state: pc.connectionState, frames,
      servers: servers.map((s) => ({
        urls: s.urls, username: s.username || null, credential: Boolean(s.credential) })),
      local: local ? {
        type: local.candidateType, relayProtocol: local.relayProtocol || null, address: local.address,
      } : null,
      remote: remote ? { type: remote.candidateType, address: remote.address } : null,
    });
  }
  return out;
}"""


def nft(script: str) -> None:
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)


def dropped_udp_packets() -> int:
    listing = subprocess.run(["nft", "list", "table", "inet", "tribune_locked_down"],
                             capture_output=True, text=True, check=True).stdout
    return sum(int(n) for n in re.findall(r"counter packets (\d+)", listing))


async def main() -> None:
    verdict: dict[str, Any] = {}
    nft(NO_UDP_FOR_THE_VIEWER)
    settings = Settings(port=free_port(), secret=SECRET, media_addresses=(RELAY,),
                        ice_servers=(f"turn:{TURN}:3478?transport=tcp",), turn_secret=TURN_SECRET)
    signer = Signer(SECRET)
    studio_token = signer.issue(Role.STUDIO, SESSION, int(time.time()) + 600)
    with coturn(TURN, allowed_peer=RELAY) as turn, ServerThread(settings) as server:
        studio = await publish(f"{server.base_url}/sessions/{SESSION}/whip", studio_token,
                               [TestPatternTrack(320, 240)])
        try:
            async with launched(MEDIA_ARGS) as browser:
                context = await browser.new_context()
                await context.add_init_script(RECORD_PEERS)
                page = await context.new_page()
                await page.goto(server.link("participant", SESSION))
                peers: list[dict[str, Any]] = []

                async def playing() -> bool:
                    nonlocal peers
                    peers = await page.evaluate(PEERS)
                    return any(p["state"] == "connected" and p["frames"] > 0 for p in peers)

                with contextlib.suppress(AssertionError):  # the test's checks say what failed
                    await wait_for(playing, 25, "a connected peer with frames", interval=0.25)
                verdict["peers"] = peers
                await context.close()
        finally:
            await studio.close()
        # Whose minted credentials coturn accepted: the page's, and the relay's own.
        log = turn.log.read_text()
        for who in ("viewer", "relay"):
            verdict[f"{who}_allocated"] = bool(re.search(
                rf"user <\d+:{who}-[0-9a-f]+>: incoming packet ALLOCATE processed, success", log))
    verdict["dropped_udp_packets"] = dropped_udp_packets()
    print(json.dumps(verdict))


if __name__ == "__main__":
    asyncio.run(main())
