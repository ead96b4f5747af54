"""Interpretation channels across two relay workers sharing Redis: the floor ingested on A, the
English booth on B, a listener on A who chooses English hears B's channel through A (a feed
followed only while someone here wants it), its choice sent to B's port reaches A, and the floor
comes back when the interpreter leaves."""

from __future__ import annotations

import json

import httpx2 as httpx
import pytest
from aiortc.mediastreams import AudioStreamTrack

from live.domain import Role
from live.media.client import TestPatternTrack, ToneTrack, publish, watch
from tests.media.conftest import SESSION, MediaServer
from tests.media.test_channels import hears, interpreter_token
from tests.media.test_cluster import cluster, workers  # noqa: F401 (a fixture)
from tests.waiting import wait_for

pytestmark = pytest.mark.redis
ENGLISH = f"{SESSION}@en"


async def test_a_listener_hears_a_channel_ingested_by_another_worker(
        workers: tuple[MediaServer, MediaServer]) -> None:  # noqa: F811 (the fixture)
    a, b = workers
    studio = await publish(a.whip(), a.token(Role.STUDIO),
                           [TestPatternTrack(160, 120, fps=15), AudioStreamTrack()])
    listener = interpreter = None
    try:
        await wait_for(lambda: a.relay.broadcast(SESSION).live, 10, "the floor on air on A")
        listener = await watch(f"{a.whep()}?language=en", a.token(Role.PARTICIPANT),
                               kinds=("video", "audio", "audio"))
        await wait_for(lambda: hears(listener, "audio", "silence"), 10, "the floor, nobody in the booth")
        interpreter = await publish(f"{b.base_url}/sessions/{ENGLISH}/whip",
                                    interpreter_token(b, "en"), [ToneTrack()])
        await wait_for(lambda: ENGLISH in cluster(b).origins, 10, "B the English channel's origin")
        await wait_for(lambda: hears(listener, "audio", "tone"), 10, "English, through A's feed from B")
        assert ENGLISH in cluster(a).followers

        # The choice goes to B's port; B forwards it to A, which holds the player.
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.put(
                listener.resource_url.replace(a.base_url, b.base_url) + "/audio",
                content=json.dumps({"language": None}).encode(),
                headers={"content-type": "application/json",
                         "authorization": f"Bearer {listener.token}"})
        assert response.status_code == 204, response.text
        await wait_for(lambda: hears(listener, "audio", "silence"), 5, "the original again")
        await wait_for(lambda: ENGLISH not in cluster(a).followers, 5,
                       "A stops following English once nobody there listens to it")

        async with httpx.AsyncClient(timeout=5) as http:
            await http.put(f"{listener.resource_url}/audio", content=b'{"language": "en"}',
                           headers={"content-type": "application/json",
                                    "authorization": f"Bearer {listener.token}"})
        await wait_for(lambda: hears(listener, "audio", "tone"), 10, "English once more")
        await interpreter.close()
        interpreter = None
        await wait_for(lambda: hears(listener, "audio", "silence"), 10,
                       "the floor once the interpreter left B")
    finally:
        for peer in (listener, interpreter, studio):
            if peer is not None:
                await peer.close()
