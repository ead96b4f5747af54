"""A WHIP publisher and WHEP viewer on aiortc: rehearsals without a camera, tests and benchmarks.

    python -m live.media.client publish URL TOKEN   # a moving test pattern and silence, on air
    python -m live.media.client watch URL TOKEN     # counts what arrives, prints it every second

Viewers count encoded frames without decoding them (the same tap the relay uses), so hundreds of
them fit on one machine and what they measure is the relay, not their decoders.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import fractions
import functools
import math
import os
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import av
import httpx2 as httpx
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media import internals
from live.media.frames import NAL_IDR, h264_nal_units, nal_type, vp8_is_keyframe
from live.media.ice import rtc_configuration


class SignallingError(Exception):
    def __init__(self, status: int, body: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {body.strip()[:200]}")
        self.status, self.body, self.retry_after = status, body, retry_after


def is_keyframe(mime_type: str, data: bytes) -> bool:
    kind = mime_type.lower()
    if kind == "video/vp8":
        return vp8_is_keyframe(data)
    if kind == "video/h264":
        return any(nal_type(u) == NAL_IDR for u in h264_nal_units(data))
    return kind.startswith("audio/")


@dataclass
class Received:
    frames: int = 0
    keyframes: int = 0
    bytes: int = 0
    first_at: float | None = None  # time.monotonic() of the first frame
    first_is_keyframe: bool | None = None
    mime_type: str = ""
    recent: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=10))
    last_at: float | None = None  # time.monotonic() of the latest frame

    @property
    def recent_size(self) -> float:
        """The mean size of the last frames (a tone's Opus packets are many times silence's)."""
        return sum(self.recent) / len(self.recent) if self.recent else 0.0


@dataclass
class Peer:
    """One WHIP or WHEP session: the peer connection and the resource URL the server gave."""

    pc: RTCPeerConnection
    resource_url: str
    token: str
    offered_at: float
    received: dict[str, Received] = field(default_factory=dict)
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self, *, delete: bool = True) -> None:
        if delete:
            try:
                async with httpx.AsyncClient(timeout=5, verify=tls_context()) as http:
                    await http.delete(self.resource_url,
                                      headers={"authorization": f"Bearer {self.token}"})
            except httpx.HTTPError:
                pass  # the server drops the session itself when the connection goes away
        await self.pc.close()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for the process: an HTTP client makes its own otherwise, loading the system's
    CA certificates each time, a third of a viewer's CPU while it joins (bench/relay.py, py-spy)."""
    return ssl.create_default_context()


async def _negotiate(pc: RTCPeerConnection, url: str, token: str, timeout: float) -> str:
    await pc.setLocalDescription(await pc.createOffer())  # gathers every candidate: no trickle
    async with httpx.AsyncClient(timeout=timeout, verify=tls_context()) as http:
        response = await http.post(url, content=pc.localDescription.sdp.encode(), headers={
            "content-type": "application/sdp", "authorization": f"Bearer {token}"})
    if response.status_code != 201:
        retry = response.headers.get("retry-after")
        raise SignallingError(response.status_code, response.text,
                              float(retry) if retry and retry.isdigit() else None)
    await pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
    return str(response.url.join(response.headers["location"]))


async def publish(url: str, token: str, tracks: Iterable[MediaStreamTrack], *,
                  video_codec: str | None = None, ice_servers: Sequence[str] = (),
                  timeout: float = 10) -> Peer:
    """Go on air; `video_codec` ("video/H264", "video/VP8") restricts what is offered."""
    pc = RTCPeerConnection(rtc_configuration(ice_servers))
    for track in tracks:
        transceiver = pc.addTransceiver(track, direction="sendonly")
        if track.kind == "video" and video_codec:
            transceiver.setCodecPreferences([
                c for c in RTCRtpSender.getCapabilities("video").codecs
                if c.mimeType.lower() in (video_codec.lower(), "video/rtx")])
    offered = time.monotonic()
    try:
        resource = await _negotiate(pc, url, token, timeout)
    except BaseException:
        await pc.close()
        raise
    return Peer(pc, resource, token, offered)


async def watch(url: str, token: str, *, kinds: Sequence[str] = ("video", "audio"),
                ice_servers: Sequence[str] = (), timeout: float = 10) -> Peer:
    """Play; `kinds` may name "audio" twice (a language, then the floor under it), counted
    apart as "audio" and "audio#2"."""
    configuration = rtc_configuration(ice_servers)
    # One transport for every section, as browsers do: aiortc's "balanced" default leaves a
    # second audio section on a transport that BUNDLE discards (live/media/relay.py, _peer).
    configuration.bundlePolicy = RTCBundlePolicy.MAX_BUNDLE
    pc = RTCPeerConnection(configuration)
    peer = Peer(pc, "", token, 0.0)
    names: dict[int, str] = {}
    for kind in kinds:
        transceiver = pc.addTransceiver(kind, direction="recvonly")
        same = sum(name.split("#")[0] == kind for name in names.values())
        names[id(transceiver)] = kind if same == 0 else f"{kind}#{same + 1}"

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        transceiver = next(t for t in pc.getTransceivers() if t.receiver.track is track)
        receiver = transceiver.receiver
        received = peer.received.setdefault(names[id(transceiver)], Received())

        def count(codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
            key = is_keyframe(codec.mimeType, frame.data)
            if received.first_at is None:
                received.first_at, received.first_is_keyframe = time.monotonic(), key
                received.mime_type = codec.mimeType
                if track.kind == "video" or "video" not in kinds:
                    peer.first_frame.set()
            received.frames += 1
            received.keyframes += key
            received.bytes += len(frame.data)
            received.recent.append(len(frame.data))
            received.last_at = time.monotonic()

        internals.tap_receiver(receiver, count)

    peer.offered_at = time.monotonic()
    try:
        peer.resource_url = await _negotiate(pc, url, token, timeout)
    except BaseException:
        await pc.close()
        raise
    return peer


class TestPatternTrack(VideoStreamTrack):
    """A moving noise texture: costs the encoder real bits, like a camera, unlike a flat colour."""

    __test__ = False  # a media source, not a pytest test class

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._texture = os.urandom(width * height * 2)
        self._chroma = bytes([128]) * (width * height // 4)
        self._count = 0
        self._started: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._count / self.fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        size = self.width * self.height
        shift = (self._count * 7 * self.width) % size  # scroll 7 rows a frame
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        frame.planes[0].update(self._texture[shift:shift + size])
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts, frame.time_base = self._count * 3000, fractions.Fraction(1, 90000)
        self._count += 1
        return frame


class ToneTrack(AudioStreamTrack):
    """A steady sine tone (48 kHz, 20 ms frames): an interpreter's voice in tests and benchmarks,
    told apart from the floor's silence by the size of its Opus packets, without decoding."""

    __test__ = False

    RATE, SAMPLES = 48000, 960

    def __init__(self, frequency: float = 440.0) -> None:
        super().__init__()
        phase = [int(12000 * math.sin(2 * math.pi * frequency * i / self.RATE))
                 for i in range(self.RATE)]  # one second, repeated: whole cycles for integer Hz
        self._second = array.array("h", phase).tobytes()
        self._count = 0
        self._started: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._count * self.SAMPLES / self.RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        offset = (self._count * self.SAMPLES) % self.RATE * 2
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.SAMPLES)
        frame.planes[0].update(self._second[offset:offset + self.SAMPLES * 2])
        frame.pts, frame.sample_rate = self._count * self.SAMPLES, self.RATE
        frame.time_base = fractions.Fraction(1, self.RATE)
        self._count += 1
        return frame


async def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("publish", "watch"))
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--ice-server", action="append", default=[])
    args = parser.parse_args()
    if args.action == "publish":
        peer = await publish(args.url, args.token, [TestPatternTrack(), AudioStreamTrack()],
                             ice_servers=args.ice_server)
        print(f"on air: {peer.resource_url} (Ctrl-C to stop)")
    else:
        peer = await watch(args.url, args.token, ice_servers=args.ice_server)
        print(f"watching: {peer.resource_url} (Ctrl-C to stop)")
    try:
        while True:
            await asyncio.sleep(1)
            if args.action == "watch":
                print(", ".join(f"{k}: {r.frames} frames, {r.bytes // 1000} kB"
                                for k, r in peer.received.items()), flush=True)
    finally:
        await peer.close()


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except KeyboardInterrupt:
        pass
