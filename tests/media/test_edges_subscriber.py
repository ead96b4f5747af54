"""live/media/edges.py's `Subscriber`, an origin's end of the feed to an edge, over a real feed
connection on 127.0.0.1 (live/media/feed.py): the edge starts on a keyframe (the studio is asked
for one), gets each frame once, starts again on a keyframe when the codecs change, and a slow edge
is skipped to the next keyframe instead of growing the origin's memory. The edge's end:
tests/media/test_edges_follower.py; both workers whole: tests/media/test_cluster.py."""

from __future__ import annotations

import asyncio
import os

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media import feed
from live.media.broadcast import Broadcast, Source
from live.media.edges import WRITE_BACKLOG, Subscriber
from tests.media.test_feed import connected
from tests.waiting import wait_for

SESSION = "pleniere-geopolitique"
VP8 = {"video": RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)}
H264 = {"video": RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102,
                                       parameters={"packetization-mode": "1"})}


class Studio:
    """What a broadcast's keyframe requests reach (a studio's PLI, as an edge's upstream would)."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self) -> None:
        self.requests += 1


def on_air() -> tuple[Broadcast, Studio]:
    broadcast, studio = Broadcast(SESSION), Studio()
    broadcast.start(Source(codecs=VP8, upstream=studio))
    return broadcast, studio


async def frame(channel: feed.Channel) -> tuple[str, bool, int, bytes]:
    kind, payload = await asyncio.wait_for(channel.receive(), 5)
    assert kind == feed.FRAME, kind
    return feed.unpack_frame(payload)


async def test_an_edge_starts_on_a_keyframe_and_gets_each_frame_once() -> None:
    broadcast, studio = on_air()
    async with connected() as (edge, origin):
        sub = Subscriber(broadcast, "edge-1", origin)
        sub.codecs(VP8)
        assert await asyncio.wait_for(edge.receive(), 5) == (feed.CODECS, (
            b'{"codecs":{"video":{"mimeType":"video/VP8","clockRate":90000,"channels":null,'
            b'"payloadType":96,"parameters":{}}}}'))
        sub.push("video", b"delta-1", 3000, False)  # joined mid-stream: not decodable
        sub.push("audio", b"opus-1", 960, False)  # audio needs no keyframe
        await wait_for(lambda: studio.requests == 1, 2, "a keyframe asked of the studio")
        sub.push("video", b"key-1", 6000, True)
        sub.push("video", b"delta-2", 9000, False)
        assert await frame(edge) == ("audio", False, 960, b"opus-1")
        assert await frame(edge) == ("video", True, 6000, b"key-1")
        assert await frame(edge) == ("video", False, 9000, b"delta-2")
        assert sub.frames_sent == 3
        # New codecs (a studio replaced): the edge must start again on a keyframe.
        sub.codecs(H264)
        assert (await asyncio.wait_for(edge.receive(), 5))[0] == feed.CODECS
        sub.push("video", b"delta-3", 12000, False)
        sub.push("video", b"key-2", 15000, True)
        assert await frame(edge) == ("video", True, 15000, b"key-2")
        assert sub.frames_sent == 4


async def test_a_slow_edge_is_skipped_to_a_keyframe_not_buffered() -> None:
    broadcast, studio = on_air()
    big = os.urandom(512 * 1024)
    async with connected() as (edge, origin):
        sub = Subscriber(broadcast, "edge-1", origin)
        sub.push("video", big, 0, True)
        buffered = origin.writer.transport.get_write_buffer_size
        # The edge reads nothing meanwhile (no await: its loop does not run): the kernel's
        # buffers fill, then the origin's own, up to the bound.
        for i in range(1, 200):
            sub.push("video", big, i * 3000, False)
            assert buffered() <= WRITE_BACKLOG + len(big) + 1024
            if sub.dropped:
                break
        assert sub.dropped == 1 and sub.waiting_for_keyframe
        sent = sub.frames_sent
        sub.push("audio", b"opus", 0, False)  # still over the bound: skipped too
        sub.push("video", big, 0, True)
        assert sub.frames_sent == sent and sub.dropped == 3
        await wait_for(lambda: studio.requests >= 1, 2, "a keyframe asked for the skipped edge")
        for _ in range(sent):  # the edge catches up on what was sent: frames in order
            await frame(edge)
        assert buffered() == 0
        sub.push("video", b"delta", 0, False)  # not after a gap: skipped, a keyframe asked
        sub.push("video", b"key", 3000, True)
        assert await frame(edge) == ("video", True, 3000, b"key")
        assert sub.frames_sent == sent + 1


async def test_nothing_is_written_to_an_edge_that_closed() -> None:
    broadcast, _ = on_air()
    async with connected() as (_, origin):
        sub = Subscriber(broadcast, "edge-1", origin)
        origin.close()
        sub.push("video", b"key", 0, True)
        assert sub.frames_sent == 0 and sub.dropped == 0
