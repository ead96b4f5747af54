"""Interpretation channels through the real server on loopback: an interpreter publishes a
language's channel, a player of the floor switches to it and back on the same connection, hears
the floor under it when it asks, falls back to the floor when nobody is on air, and a booth
partner takes over. The floor is silence and the interpreter a tone, told apart by the size of
the Opus packets that arrive (a tone's are many times larger), without decoding."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest
from aiortc.mediastreams import AudioStreamTrack

from live.domain import Role
from live.media.client import Peer, TestPatternTrack, ToneTrack, publish, watch
from tests.media.conftest import SESSION, MediaServer
from tests.waiting import holds_for, wait_for

SILENCE, TONE = 20, 60  # bytes: the floor's packets are under the first, the tone's over the second


def interpreter_token(server: MediaServer, language: str) -> str:
    return server.signer.issue(Role.INTERPRETER, SESSION, int(time.time()) + 3600,
                               language=language)


def channel(server: MediaServer, language: str) -> str:
    return f"{server.base_url}/sessions/{SESSION}@{language}/whip"


def hears(peer: Peer, section: str, what: str) -> bool:
    """Whether the latest packets on `section` ("audio", or "audio#2": the floor under) are
    recent and are the tone or the floor's silence."""
    received = peer.received.get(section)
    if received is None or received.last_at is None or time.monotonic() - received.last_at > 0.3:
        return False
    size = received.recent_size
    return size > TONE if what == "tone" else size < SILENCE


def silent(peer: Peer, section: str) -> bool:
    """Nothing arrived on `section` over the last half second."""
    received = peer.received.get(section)
    return received is None or received.last_at is None \
        or time.monotonic() - received.last_at > 0.5


async def choose(server: MediaServer, peer: Peer, body: object, *,
                 content_type: str = "application/json", token: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.put(f"{peer.resource_url}/audio", content=json.dumps(body).encode(),
                              headers={"content-type": content_type,
                                       "authorization": f"Bearer {token or peer.token}"})


async def readout(server: MediaServer, key: str = SESSION, token: str | None = None
                  ) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{server.base_url}/sessions/{key}/broadcast", headers={
            "authorization": f"Bearer {token or server.token(Role.PARTICIPANT)}"})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


@pytest.fixture
async def floor(media_server: MediaServer) -> AsyncIterator[Peer]:
    """The studio on air: a small picture and silence."""
    studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                           [TestPatternTrack(160, 120, fps=15), AudioStreamTrack()])
    try:
        await wait_for(lambda: media_server.relay.broadcast(SESSION).live, 10, "the studio on air")
        yield studio
    finally:
        await studio.close()


async def test_a_listener_switches_to_a_channel_and_back_without_renegotiating(
        media_server: MediaServer, floor: Peer) -> None:
    player = await watch(f"{media_server.whep()}?language=en", media_server.token(Role.PARTICIPANT),
                         kinds=("video", "audio", "audio"))
    interpreter: Peer | None = None
    try:
        # Nobody in the English booth yet: the floor, nothing under it, and the readout says so.
        await wait_for(lambda: hears(player, "audio", "silence"), 10, "the floor while nobody interprets")
        assert silent(player, "audio#2")
        assert (await readout(media_server))["channels"] == {"en": False, "es": False}

        interpreter = await publish(channel(media_server, "en"), interpreter_token(media_server, "en"),
                                    [ToneTrack()])
        await wait_for(lambda: hears(player, "audio", "tone"), 10, "the interpretation")
        await wait_for(lambda: hears(player, "audio#2", "silence"), 5, "the floor under it")
        assert (await readout(media_server))["channels"] == {"en": True, "es": False}
        channel_readout = await readout(media_server, f"{SESSION}@en")
        assert channel_readout["live"] is True

        video_before = player.received["video"].frames
        assert (await choose(media_server, player, {"language": None})).status_code == 204
        await wait_for(lambda: hears(player, "audio", "silence"), 5, "back to the original")
        await wait_for(lambda: silent(player, "audio#2"), 5, "nothing under the original")

        response = await choose(media_server, player, {"language": "en", "floor": False})
        assert response.status_code == 204
        await wait_for(lambda: hears(player, "audio", "tone"), 5, "the interpretation again")
        await holds_for(lambda: silent(player, "audio#2") or not hears(player, "audio#2", "silence"),
                        0.8, "no floor under it when its level is zero")
        # One connection all along: the video went on through every switch.
        await wait_for(lambda: player.received["video"].frames > video_before + 10, 5, "video frames")
        assert [r.kind for r in media_server.relay.resources.values()].count("whep") == 1
    finally:
        await player.close()
        if interpreter is not None:
            await interpreter.close()


async def test_the_floor_comes_back_when_the_interpreter_leaves(
        media_server: MediaServer, floor: Peer) -> None:
    interpreter = await publish(channel(media_server, "es"), interpreter_token(media_server, "es"),
                                [ToneTrack(330)])
    player = await watch(f"{media_server.whep()}?language=es&floor=0",
                         media_server.token(Role.PARTICIPANT), kinds=("video", "audio", "audio"))
    try:
        await wait_for(lambda: hears(player, "audio", "tone"), 10, "the Spanish channel")
        await interpreter.close()
        await wait_for(lambda: hears(player, "audio", "silence"), 5, "the floor, the booth empty")
        assert (await readout(media_server))["channels"] == {"en": False, "es": False}
    finally:
        await player.close()
        await interpreter.close(delete=False)


async def test_a_booth_partner_takes_over_and_the_first_is_off_air(
        media_server: MediaServer, floor: Peer) -> None:
    token = interpreter_token(media_server, "en")
    first = await publish(channel(media_server, "en"), token, [ToneTrack()])
    second: Peer | None = None
    try:
        await wait_for(lambda: media_server.relay.broadcast(f"{SESSION}@en").live, 10, "first on air")
        first_id = first.resource_url.rsplit("/", 1)[1]
        assert (await readout(media_server, f"{SESSION}@en", token))["publisher"] == \
            hashlib.sha256(first_id.encode()).hexdigest()[:16]
        # What a participant's player sees of a channel: whether it is on air, not who speaks.
        assert "publisher" not in await readout(media_server, f"{SESSION}@en")
        second = await publish(channel(media_server, "en"), token, [ToneTrack(550)])
        second_id = second.resource_url.rsplit("/", 1)[1]
        await wait_for(lambda: first_id not in media_server.relay.resources, 10,
                       "the first interpreter's connection ended")
        assert (await readout(media_server, f"{SESSION}@en", token))["publisher"] == \
            hashlib.sha256(second_id.encode()).hexdigest()[:16]
    finally:
        await first.close(delete=False)
        if second is not None:
            await second.close()


async def test_an_audio_only_listener_gets_its_language_and_no_video(
        media_server: MediaServer, floor: Peer) -> None:
    interpreter = await publish(channel(media_server, "en"), interpreter_token(media_server, "en"),
                                [ToneTrack()])
    player = await watch(f"{media_server.whep()}?language=en&floor=0",
                         media_server.token(Role.PARTICIPANT), kinds=("audio",))
    try:
        await wait_for(lambda: hears(player, "audio", "tone"), 10, "the interpretation, audio only")
        assert "video" not in player.received
        (resource,) = [r for r in media_server.relay.resources.values() if r.kind == "whep"]
        assert [t.kind for t in resource.tracks] == ["audio"]
    finally:
        await player.close()
        await interpreter.close()


async def test_an_interpreter_can_listen_to_another_channel_alone(
        media_server: MediaServer, floor: Peer) -> None:
    """Relay interpreting: the Spanish booth takes the English channel as its source."""
    english = await publish(channel(media_server, "en"), interpreter_token(media_server, "en"),
                            [ToneTrack()])
    await wait_for(lambda: media_server.relay.broadcast(f"{SESSION}@en").live, 10, "English on air")
    spanish_ear = await watch(f"{media_server.base_url}/sessions/{SESSION}@en/whep",
                              interpreter_token(media_server, "es"), kinds=("audio",))
    try:
        await wait_for(lambda: hears(spanish_ear, "audio", "tone"), 10, "the English channel")
    finally:
        await spanish_ear.close()
        await english.close()


async def post(url: str, token: str | None, body: bytes = b"v=0\r\n",
               content_type: str = "application/sdp") -> httpx.Response:
    headers = {"content-type": content_type}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.post(url, content=body, headers=headers)


async def test_who_may_publish_a_channel(media_server: MediaServer) -> None:
    base = media_server.base_url
    english = interpreter_token(media_server, "en")
    refusals = [
        (channel(media_server, "en"), media_server.token(Role.STUDIO), 401),  # the studio: the floor
        (channel(media_server, "en"), media_server.token(Role.PARTICIPANT), 401),
        (channel(media_server, "en"), media_server.token(Role.MODERATOR), 401),
        (channel(media_server, "es"), english, 401),  # another language's booth
        (media_server.whip(), english, 401),  # the floor
        (channel(media_server, "en"), None, 401),
        (f"{base}/sessions/{SESSION}@de/whip", english, 404),  # not interpreted into German
        (f"{base}/sessions/atelier-1@en/whip", english, 404),  # no interpretation there
    ]
    for url, token, status in refusals:
        response = await post(url, token)
        assert response.status_code == status, (url, response.status_code, response.text)
    # The right booth, with a video track: a channel carries one audio track only.
    video = await post(channel(media_server, "en"), english, body=VIDEO_OFFER.encode())
    assert video.status_code == 400 and "one audio track" in video.text


async def test_bad_audio_choices_are_refused(media_server: MediaServer, floor: Peer) -> None:
    player = await watch(media_server.whep(), media_server.token(Role.PARTICIPANT),
                         kinds=("video", "audio", "audio"))
    try:
        cases = [
            ({"language": "de"}, "application/json", 400, "not interpreted into"),
            ({"language": 7}, "application/json", 400, "language must be"),
            ({"floor": "yes"}, "application/json", 400, "floor must be"),
            ({"language": "en", "volume": 3}, "application/json", 400, "expected"),
            ([], "application/json", 400, "expected"),
            ({"language": "en"}, "text/plain", 415, "application/json"),
            ({"language": "en" * 200}, "application/json", 413, "larger than"),
        ]
        for body, content_type, status, message in cases:
            response = await choose(media_server, player, body, content_type=content_type)
            assert (response.status_code, message in response.text) == (status, True), \
                (body, response.status_code, response.text)
        other = await choose(media_server, player, {"language": "en"},
                             token=media_server.token(Role.STUDIO, "atelier-1"))
        assert other.status_code == 401
        async with httpx.AsyncClient(timeout=5) as http:
            missing = await http.put(f"{media_server.whep()}/nope/audio", content=b'{"language":null}',
                                     headers={"content-type": "application/json",
                                              "authorization": f"Bearer {player.token}"})
            not_json = await http.put(f"{player.resource_url}/audio", content=b"{",
                                      headers={"content-type": "application/json",
                                               "authorization": f"Bearer {player.token}"})
        assert missing.status_code == 404
        assert not_json.status_code == 400 and "not JSON" in not_json.text
        refused = await post(f"{media_server.whep()}?language=de", player.token)
        assert refused.status_code == 400 and "not interpreted into" in refused.text
    finally:
        await player.close()


VIDEO_OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\na=rtcp-mux\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n"
    "a=rtpmap:96 VP8/90000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\na=rtcp-mux\r\n"
)
