"""A studio camera for the benchmarks that costs no encoding: the test pattern, encoded once.

`live.media.client.TestPatternTrack` makes raw frames that aiortc encodes with libvpx as they are
sent, a fifth of a core or more at 640x480 and 1 Mbps: the load generator's work, not the server's.
Here a few seconds of the same pattern are encoded once, with the settings aiortc's VP8 encoder
uses (bitrate fixed by minrate = maxrate, realtime; a keyframe at most 3 frames' worth of bits,
`max-intra-rate`), into an IVF file kept in the cache directory
(`TRIBUNE_BENCH_CACHE`, /tmp/tribune-bench-cache; rebuilt when missing). `EncodedVideoTrack` then
returns the clip's frames as `av.Packet`s, paced at the frame rate, looping with timestamps that
keep increasing: `RTCRtpSender` only packetises a packet, it does not encode it.

Keyframes: the clip's first frame is its only one (measured: 10 s at 1 Mbps average 1.01 Mbps, the
keyframe 67 KB; a keyframe every 2 s made them 2.7 Mbps), so each loop restarts on a keyframe.
When the server asks for one (PLI/FIR, which aiortc would turn into a flag only an encoder reads),
the track's next packet is a keyframe: the clip starts over, timestamps still increasing, so the
pictures jump back and the stream stays decodable.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import time
from pathlib import Path
from typing import Any

import av
from aiortc import MediaStreamTrack

CACHE = Path(os.environ.get("TRIBUNE_BENCH_CACHE", "/tmp/tribune-bench-cache"))
CLIP_SECONDS = 10
VIDEO_RATE = 90000  # RTP clock of video


def clip_path(width: int, height: int, fps: int, bitrate: int) -> Path:
    return CACHE / f"testpattern-{width}x{height}-{fps}fps-{bitrate}bps-{CLIP_SECONDS}s" \
                   f"-intra300.ivf"


async def _pattern(width: int, height: int, fps: int, count: int) -> list[av.VideoFrame]:
    from live.media.client import TestPatternTrack

    track = TestPatternTrack(width, height, fps)
    track._started = time.monotonic() - count  # frames are due at once: no pacing
    return [await track.recv() for _ in range(count)]


def encode_clip(path: Path, width: int, height: int, fps: int, bitrate: int) -> None:
    """Encode the clip as aiortc's `Vp8Encoder` would, its first frame the only keyframe."""
    frames = asyncio.run(_pattern(width, height, fps, CLIP_SECONDS * fps))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    with av.open(str(partial), "w", format="ivf") as output:
        stream: Any = output.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        context = stream.codec_context
        context.gop_size = 3000  # as aiortc's: no keyframe but the first in the clip
        context.qmin, context.qmax = 2, 56
        context.options = {"bufsize": str(bitrate), "cpu-used": "-6", "deadline": "realtime",
                           "lag-in-frames": "0", "minrate": str(bitrate), "maxrate": str(bitrate),
                           "noise-sensitivity": "4", "overshoot-pct": "15", "partitions": "0",
                           "static-thresh": "1", "undershoot-pct": "100",
                           "max-intra-rate": "300"}
        for index, frame in enumerate(frames):
            frame.pts, frame.time_base = index, fractions.Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    partial.rename(path)  # whole or absent: another process may be building the same clip


def load_clip(width: int, height: int, fps: int, bitrate: int) -> list[tuple[bytes, bool]]:
    """The clip's frames (VP8 data, keyframe?), encoded first if the cache has none."""
    path = clip_path(width, height, fps, bitrate)
    if not path.exists():
        encode_clip(path, width, height, fps, bitrate)
    with av.open(str(path)) as clip:
        frames = [(bytes(p), bool(p.is_keyframe)) for p in clip.demux(video=0) if p.size]
    if len(frames) != CLIP_SECONDS * fps or not frames[0][1]:
        raise RuntimeError(f"{path}: {len(frames)} frames, first a keyframe: {frames[:1] and frames[0][1]}"
                           " (delete it to encode it again)")
    return frames


class EncodedVideoTrack(MediaStreamTrack):
    """The clip, looped at `fps`, as VP8 packets with 90 kHz timestamps (aiortc packs them)."""

    kind = "video"

    def __init__(self, frames: list[tuple[bytes, bool]], fps: int) -> None:
        super().__init__()
        self._frames, self._fps = frames, fps
        self._index = 0  # the next frame of the clip
        self._count = 0  # frames sent
        self._started: float | None = None
        self._keyframe_wanted = False
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self._keyframe_wanted = True
        self.keyframe_requests += 1

    async def recv(self) -> av.Packet[Any]:
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._count / self._fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if self._keyframe_wanted:
            self._keyframe_wanted = False
            self._index = 0
        data, _ = self._frames[self._index]
        packet = av.Packet(data)
        packet.pts = self._count * VIDEO_RATE // self._fps
        packet.time_base = fractions.Fraction(1, VIDEO_RATE)
        self._index = (self._index + 1) % len(self._frames)
        self._count += 1
        return packet


def route_keyframe_requests() -> None:
    """In this process, a PLI/FIR to a sender of an `EncodedVideoTrack` asks the track itself."""
    from aiortc import RTCRtpSender

    original = RTCRtpSender._send_keyframe

    def send_keyframe(sender: Any) -> None:
        track = sender.track
        if isinstance(track, EncodedVideoTrack):
            track.request_keyframe()
        else:
            original(sender)

    RTCRtpSender._send_keyframe = send_keyframe  # type: ignore[method-assign,assignment]


async def studio_video(source: str, bitrate: int, times: list[float]) -> MediaStreamTrack:
    """The studio's 640x480 video at 30 fps and `bitrate`: the clip ("file") or the test pattern
    encoded as it is sent ("encoder", aiortc's VP8 encoder held at `bitrate` whatever the relay's
    REMB says). `times` gets when each frame left the track (time.time())."""
    import aiortc.codecs.vpx as vpx

    from live.media.client import TestPatternTrack

    if source == "encoder":
        vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = bitrate

        class CountedPattern(TestPatternTrack):
            async def recv(self) -> av.VideoFrame:
                frame = await super().recv()
                times.append(time.time())
                return frame

        return CountedPattern(640, 480, 30)
    frames = await asyncio.to_thread(load_clip, 640, 480, 30, bitrate)
    route_keyframe_requests()

    class CountedClip(EncodedVideoTrack):
        async def recv(self) -> av.Packet[Any]:
            packet = await super().recv()
            times.append(time.time())
            return packet

    return CountedClip(frames, 30)
