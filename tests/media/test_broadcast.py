"""The fan-out without a network: keyframe requests coalesced, slow viewers bounded, one continuous
timeline across studio connections."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc.mediastreams import MediaStreamError

from live.media.broadcast import KEYFRAME_INTERVAL, QUEUE_LIMIT, Broadcast, ForwardTrack, Source
from live.media.frames import Size
from tests.waiting import holds_for, wait_for

KEY = b"\x10\x02\x00\x9d\x01\x2a\x40\x01\xf0\x00" + b"k" * 50  # a VP8 keyframe of 320x240
DELTA = b"\x11\x02\x00" + b"d" * 50


class FakeReceiver:
    """Records the PLIs the broadcast sends to the studio."""

    def __init__(self) -> None:
        self.plis: list[int] = []

    async def _send_rtcp_pli(self, ssrc: int) -> None:
        self.plis.append(ssrc)

    def getSynchronizationSources(self) -> list[Any]:
        return []


def on_air() -> tuple[Broadcast, FakeReceiver]:
    broadcast = Broadcast("s")
    receiver = FakeReceiver()
    broadcast.start(Source(video_receiver=receiver, video_ssrc=1234))  # type: ignore[arg-type]
    return broadcast, receiver


async def test_keyframe_requests_are_coalesced_to_one_per_interval() -> None:
    broadcast, receiver = on_air()
    for _ in range(50):  # fifty viewers join at once
        broadcast.request_keyframe()
    await wait_for(lambda: receiver.plis, 1, "the first PLI")
    assert receiver.plis == [1234]
    for _ in range(50):
        broadcast.request_keyframe()
    # Negative check: the next request waits for the interval...
    await holds_for(lambda: receiver.plis == [1234], 0.1, "no second PLI at once")
    await wait_for(lambda: len(receiver.plis) > 1, KEYFRAME_INTERVAL + 1, "the second PLI")
    assert receiver.plis == [1234, 1234], "...but is not lost"
    # Negative check: and it was one for all fifty, over the interval after it too.
    await holds_for(lambda: len(receiver.plis) == 2, KEYFRAME_INTERVAL + 0.1, "no third PLI")


async def test_a_viewer_starts_on_a_keyframe_and_asks_for_one_while_waiting() -> None:
    broadcast, receiver = on_air()
    track = ForwardTrack("video", broadcast.request_keyframe)
    broadcast.attach(track)
    broadcast.forward("video", "video/vp8", DELTA, 0)
    broadcast.forward("video", "video/vp8", DELTA, 3000)
    await wait_for(lambda: receiver.plis, 1, "a PLI while the viewer waits")
    assert receiver.plis == [1234]
    broadcast.forward("video", "video/vp8", KEY, 6000)
    broadcast.forward("video", "video/vp8", DELTA, 9000)
    first = await asyncio.wait_for(track.recv(), 1)
    assert bytes(first) == KEY
    assert bytes(await asyncio.wait_for(track.recv(), 1)) == DELTA
    assert broadcast.size == Size(320, 240)


async def test_a_stalled_viewer_is_bounded_and_never_holds_back_the_others() -> None:
    broadcast, _ = on_air()
    stalled = ForwardTrack("video", broadcast.request_keyframe)
    reader = ForwardTrack("video", broadcast.request_keyframe)
    broadcast.attach(stalled)
    broadcast.attach(reader)
    got = []
    for i in range(QUEUE_LIMIT["video"] * 3):
        broadcast.forward("video", "video/vp8", KEY if i % 60 == 0 else DELTA, i * 3000)
        got.append(await asyncio.wait_for(reader.recv(), 1))
    assert len(got) == QUEUE_LIMIT["video"] * 3
    assert len(stalled._queue) <= QUEUE_LIMIT["video"]
    assert stalled.dropped > 0


async def test_the_timeline_continues_when_the_studio_reconnects() -> None:
    broadcast, _ = on_air()
    track = ForwardTrack("video", broadcast.request_keyframe)
    broadcast.attach(track)
    for ts in (0, 3000, 6000):
        broadcast.forward("video", "video/vp8", KEY if ts == 0 else DELTA, ts)
    broadcast.start(Source())  # a new connection: its timestamps start again at 0
    for ts in (0, 3000):
        broadcast.forward("video", "video/vp8", KEY if ts == 0 else DELTA, ts)
    pts = [(await track.recv()).pts for _ in range(5)]
    assert pts == [0, 3000, 6000, 9000, 12000]


async def test_a_stopped_track_ends_its_reader() -> None:
    broadcast, _ = on_air()
    track = ForwardTrack("audio", broadcast.request_keyframe)
    broadcast.attach(track)
    reader = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.01)  # the reader gets to wait in recv() before the stop: the case tested
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(reader, 1)
    assert track not in broadcast.tracks["audio"]


async def test_after_studio_data_is_lost_viewers_wait_for_the_next_keyframe() -> None:
    broadcast, _ = on_air()
    track = ForwardTrack("video", broadcast.request_keyframe)
    broadcast.attach(track)
    broadcast.forward("video", "video/vp8", KEY, 0)
    broadcast.lost_video(broadcast.source)  # type: ignore[arg-type]
    broadcast.forward("video", "video/vp8", DELTA, 3000)  # refers to what was lost: held back
    broadcast.forward("video", "video/vp8", KEY, 6000)
    assert [bytes(await track.recv()) for _ in range(2)] == [KEY, KEY]


async def test_the_readout_gives_the_last_keyframe_s_age() -> None:
    broadcast, _ = on_air()
    assert broadcast.stats()["keyframe_age"] is None  # on air, no keyframe yet
    broadcast.forward("video", "video/vp8", DELTA, 0)
    assert broadcast.stats()["keyframe_age"] is None  # a delta frame is not one
    broadcast.forward("video", "video/vp8", KEY, 3000)
    assert broadcast.stats()["keyframe_age"] == 0.0
    assert broadcast.last_keyframe is not None
    broadcast.last_keyframe -= 12.3  # as if it came 12 s ago (the control room's no_keyframe)
    assert broadcast.stats()["keyframe_age"] == 12.3
