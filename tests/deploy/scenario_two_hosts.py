"""The two machines of tests/deploy/test_two_hosts.py: run inside their network namespaces.

    python -m tests.deploy.scenario_two_hosts studio ORIGIN_URL STUDIO_TOKEN
    python -m tests.deploy.scenario_two_hosts edge ORIGIN_URL EDGE_URL MODERATOR_TOKEN PARTICIPANT_TOKEN

`studio`, on the origin's machine: waits for the origin server, publishes a test pattern to it
over WHIP, prints "on air" and stays on air until it is killed.
`edge`, on the edge's machine: a viewer plays the session from the edge server over WHEP; a
participant connected to the edge's WebSocket asks a question and votes in a poll that a
moderator connected to the origin's WebSocket opened. Prints one JSON line: what each one saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import httpx2 as httpx

from live.media.client import Peer, SignallingError, TestPatternTrack, publish, watch
from tests.conftest import SESSION
from tests.waiting import wait_for
from tests.wsclient import Client, open_poll, poll_of

QUESTION = "La question vient-elle de l'autre machine ?"


async def healthy(base_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{base_url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_healthy(base_url: str) -> None:
    await wait_for(lambda: healthy(base_url), 25, f"{base_url}/healthz answering 200",
                   interval=0.2)


async def studio(origin: str, token: str) -> None:
    await wait_healthy(origin)
    peer = await publish(f"{origin}/sessions/{SESSION}/whip", token, [TestPatternTrack(160, 120)])
    print("on air", flush=True)
    try:
        await asyncio.Event().wait()  # until the test kills this process
    finally:
        await peer.close()


def remote_host(peer: Peer) -> str | None:
    """The address the viewer's media comes from: its nominated ICE pair's remote end."""
    for transceiver in peer.pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        for pair in connection._nominated.values():
            return str(pair.remote_candidate.host)
    return None


async def viewer(edge: str, token: str) -> Peer:
    """Plays from the edge, once the origin is registered (until then WHEP answers 409)."""
    peer: Peer | None = None

    async def joined() -> bool:
        nonlocal peer
        try:
            peer = await watch(f"{edge}/sessions/{SESSION}/whep", token, kinds=("video",))
        except SignallingError as exc:
            assert exc.status == 409, exc  # no studio on air yet: anything else is a failure
            return False
        return True

    await wait_for(joined, 20, "the edge answering WHEP with the studio's stream", interval=0.3)
    assert peer is not None
    return peer


async def edge_side(origin: str, edge: str, moderator_token: str,
                    participant_token: str) -> dict[str, Any]:
    await wait_healthy(edge)
    verdict: dict[str, Any] = {}
    peer = await viewer(edge, participant_token)
    moderator = participant = None
    try:
        await asyncio.wait_for(peer.first_frame.wait(), 10)
        video = peer.received["video"]
        await wait_for(lambda: video.frames >= 30, 10, lambda: f"30 frames ({video.frames})")
        verdict.update(frames=video.frames, first_is_keyframe=video.first_is_keyframe,
                       media_from=remote_host(peer))
        ws = {"origin": origin.replace("http://", "ws://"), "edge": edge.replace("http://", "ws://")}
        moderator = await Client(ws["origin"], SESSION, moderator_token).connect()
        participant = await Client(ws["edge"], SESSION, participant_token).connect()
        poll_id = await open_poll(moderator)  # opened at the origin...
        await participant.wait_for(lambda: any(p["id"] == poll_id for p in participant.view["polls"]))
        await participant.ok("CastBallot", poll_id=poll_id, choices=[1])  # ...voted at the edge
        await participant.ok("AskQuestion", text=QUESTION)
        question = await moderator.wait_for(lambda: moderator.question(QUESTION), 10)
        verdict["question"] = {"text": question["text"], "status": question["status"]}
        await moderator.wait_for(lambda: poll_of(moderator, poll_id)["counts"] == [0, 1], 10)
        verdict["tally"] = poll_of(moderator, poll_id)["counts"]
    finally:
        for client in (participant, moderator):
            if client is not None:
                await client.close()
        await peer.close()
    return verdict


if __name__ == "__main__":
    if sys.argv[1] == "studio":
        asyncio.run(studio(*sys.argv[2:4]))
    else:
        print(json.dumps(asyncio.run(edge_side(*sys.argv[2:6]))))
