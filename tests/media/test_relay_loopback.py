"""A studio and several viewers on loopback, through the real server: frames flow as the studio
encoded them, every viewer starts on a keyframe, and no viewer gets an encoder."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import RTCRtpSender
from aiortc.codecs import h264, opus, vpx
from aiortc.mediastreams import AudioStreamTrack

from live.domain import Role
from live.media.broadcast import KEYFRAME_INTERVAL
from live.media.client import Peer, TestPatternTrack, publish, watch
from tests.media.conftest import MediaServer, frames, go_live, in_order, video_timestamps
from tests.waiting import holds_for, wait_for

VIEWERS = 3


def viewer_senders(server: MediaServer) -> list[RTCRtpSender]:
    relay = server.relay
    return [s for r in relay.resources.values() if r.kind == "whep"
            for s in r.pc.getSenders()]


@pytest.fixture
def encoders_used(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """The ids of every aiortc encoder object that encoded a frame (the studio's included)."""
    used: set[int] = set()
    for cls in (vpx.Vp8Encoder, h264.H264Encoder, opus.OpusEncoder):
        def counted(self: Any, *args: Any, _original: Any = cls.encode, **kwargs: Any) -> Any:
            used.add(id(self))
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(cls, "encode", counted)
    return used


async def test_viewers_receive_the_studio_frames_from_a_keyframe_without_encoders(
        media_server: MediaServer, encoders_used: set[int],
        rtp_timestamps: dict[int, list[int]]) -> None:
    """What the relay delivers, not how fast: the rates (frames delivered per viewer, the
    readout's fps and kbps) are bench/relay.py's figures."""
    studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                           [TestPatternTrack(320, 240), AudioStreamTrack()])
    viewers: list[Peer] = []
    try:
        await wait_for(lambda: media_server.relay.broadcasts["pleniere-geopolitique"].live, 10,
                       "the studio on air")
        token = media_server.token(Role.PARTICIPANT)
        viewers = list(await asyncio.gather(*(watch(media_server.whep(), token)
                                              for _ in range(VIEWERS))))
        await asyncio.gather(*(asyncio.wait_for(v.first_frame.wait(), 5) for v in viewers))
        before = [frames(v) for v in viewers]
        await wait_for(lambda: all(frames(v) > start + 30 for v, start in zip(viewers, before, strict=True)),
                       10, "30 more frames at every viewer: the stream keeps flowing")
        for viewer in viewers:
            assert in_order(video_timestamps(rtp_timestamps, viewer)), "frames out of order"
            assert viewer.received["video"].first_is_keyframe
            assert viewer.received["video"].mime_type.lower() == "video/vp8"
            assert frames(viewer, "audio") > 0
        # The viewers' senders only packetised: none of their encoders ever encoded a frame,
        # while the studio's did (so the counting works).
        senders = viewer_senders(media_server)
        assert len(senders) == 2 * VIEWERS
        assert len(encoders_used) == 2
        for sender in senders:
            assert id(sender._RTCRtpSender__encoder) not in encoders_used  # type: ignore[attr-defined]
        # Viewers' own keyframe requests (PLI/FIR) reach the studio, coalesced into one.
        requests = media_server.relay.stats("pleniere-geopolitique")["keyframe_requests"]
        keyframes = [v.received["video"].keyframes for v in viewers]
        for sender in senders:
            if sender.kind == "video":
                for _ in range(10):
                    sender._send_keyframe()
        await wait_for(lambda: all(v.received["video"].keyframes > k
                                   for v, k in zip(viewers, keyframes, strict=True)), 5,
                       "a new keyframe at every viewer")
        # Negative check: one request, and no other over the next interval either.
        await holds_for(lambda: media_server.relay.stats("pleniere-geopolitique")[
            "keyframe_requests"] == requests + 1, KEYFRAME_INTERVAL + 0.2, "one keyframe request")
        stats = media_server.relay.stats("pleniere-geopolitique")
        assert stats["live"] and stats["viewers"] == VIEWERS
        assert stats["video"]["width"] == 320 and stats["video"]["height"] == 240
        assert stats["video"]["fps"] > 0 and stats["video"]["kbps"] > 0  # the readout measures it
    finally:
        for viewer in viewers:
            await viewer.close()
        await studio.close()


@pytest.mark.parametrize("goes", ["stops", "drops"])
async def test_viewers_resume_on_the_same_connection_when_the_studio_returns(
        media_server: MediaServer, goes: str) -> None:
    studio = await go_live(media_server)
    viewer = await watch(media_server.whep(), media_server.token(Role.PARTICIPANT), kinds=["video"])
    try:
        await asyncio.wait_for(viewer.first_frame.wait(), 5)
        # Off air by DELETE, or by the connection closing under it: the viewer's connection stays.
        await studio.close(delete=goes == "stops")
        await wait_for(lambda: not media_server.relay.broadcasts["pleniere-geopolitique"].live, 10,
                       "off air")
        await asyncio.sleep(0.3)  # what was already on its way still arrives
        paused = frames(viewer)
        # Negative check: off air, no frame comes.
        await holds_for(lambda: frames(viewer) == paused, 0.5, "no frame while off air")
        keyframes = viewer.received["video"].keyframes
        studio = await go_live(media_server)
        await wait_for(lambda: frames(viewer) > paused + 15, 5, "frames again")
        assert viewer.received["video"].keyframes > keyframes  # restarted on a keyframe
        assert viewer.pc.connectionState == "connected"
    finally:
        await viewer.close()
        await studio.close()


async def test_a_second_studio_connection_replaces_the_first(media_server: MediaServer) -> None:
    first = await go_live(media_server)
    viewer = await watch(media_server.whep(), media_server.token(Role.PARTICIPANT), kinds=["video"])
    second: Peer | None = None
    try:
        await asyncio.wait_for(viewer.first_frame.wait(), 5)
        second = await go_live(media_server)  # the studio page reloaded, say
        await wait_for(lambda: first.pc.connectionState in ("closed", "failed"), 10,
                       "the first studio connection closed")
        count = frames(viewer)
        await wait_for(lambda: frames(viewer) > count + 15, 5, "frames from the second one")
        whips = [r for r in media_server.relay.resources.values() if r.kind == "whip"]
        assert len(whips) == 1
    finally:
        await viewer.close()
        await first.close(delete=False)
        if second:
            await second.close()


async def test_h264_is_forwarded_and_a_codec_change_sends_viewers_back_to_negotiate(
        media_server: MediaServer) -> None:
    studio = await go_live(media_server, video_codec="video/H264")
    viewer = await watch(media_server.whep(), media_server.token(Role.PARTICIPANT), kinds=["video"])
    try:
        await asyncio.wait_for(viewer.first_frame.wait(), 5)
        assert viewer.received["video"].mime_type.lower() == "video/h264"
        assert viewer.received["video"].first_is_keyframe
        assert media_server.relay.stats("pleniere-geopolitique")["video"]["width"] == 320
        await studio.close()
        studio = await go_live(media_server, video_codec="video/VP8")
        # An H.264 viewer cannot be switched to VP8 in place: its connection is closed, and a
        # new offer gets VP8.
        await wait_for(lambda: viewer.pc.connectionState in ("closed", "failed"), 10,
                       "the H.264 viewer's connection closed")
        again = await watch(media_server.whep(), media_server.token(Role.PARTICIPANT),
                            kinds=["video"])
        await asyncio.wait_for(again.first_frame.wait(), 5)
        assert again.received["video"].mime_type.lower() == "video/vp8"
        await again.close()
    finally:
        await viewer.close(delete=False)
        await studio.close()


async def test_sessions_are_relayed_independently(media_server: MediaServer) -> None:
    plenary = await go_live(media_server)
    workshop = await publish(media_server.whip("atelier-1"),
                             media_server.token(Role.STUDIO, "atelier-1"), [TestPatternTrack(160, 120)])
    await wait_for(lambda: media_server.relay.broadcasts["atelier-1"].live, 10, "the workshop on air")
    viewer = await watch(media_server.whep("atelier-1"), media_server.token(Role.PARTICIPANT),
                         kinds=["video"])
    try:
        await asyncio.wait_for(viewer.first_frame.wait(), 5)
        stats = media_server.relay.stats("atelier-1")
        assert stats["viewers"] == 1 and stats["video"]["width"] == 160
        assert media_server.relay.stats("pleniere-geopolitique")["viewers"] == 0
    finally:
        await viewer.close()
        await workshop.close()
        await plenary.close()
