"""The WHIP publisher of bench/relay.py, in its own process, driven over a pipe like the viewers
(bench/relay_peers.py), on loopback only.

By default it sends the test pattern encoded once (bench/encoded_video.py): a 10 s clip looped at
the frame rate as `av.Packet`s, which aiortc only packetises; a keyframe starts each loop, and
another when the server asks (PLI/FIR). `live_encode`: `TestPatternTrack` encoded as it is sent by
aiortc's VP8 encoder at a fixed bitrate (its DEFAULT/MIN/MAX_BITRATE all set), a fifth of a core.

It logs when each frame left the track (its timestamp, size, whether a keyframe), the keyframe
requests (PLI/FIR) its video sender got, and each video RTP packet at the lowest level of its
sending, aioice's `send_data` (the `sendto` of the UDP socket): time.time() just before, sequence
number, RTP timestamp and payload size read from the clear header of the SRTP packet. The viewers'
packets are matched to these (bench/relay_match.py) for the delay the relay adds.
"""

from __future__ import annotations

import array
import asyncio
import bisect
import struct
import time
from multiprocessing.connection import Connection
from typing import Any

from bench.relay_peers import Json, close_peers, serve_commands

_HEADER = struct.Struct("!BBHII")  # first byte, marker + payload type, sequence, timestamp, SSRC
STAMPS = 2**32


class PacketsSent:
    """Every RTP packet the process sends, as it is handed to the socket (all SSRCs)."""

    def __init__(self) -> None:
        self.times = array.array("d")
        self.sequences = array.array("L")
        self.stamps = array.array("L")
        self.ssrcs = array.array("L")
        self.sizes = array.array("L")  # bytes after the RTP header (payload and SRTP tag)

    def install(self) -> None:
        from aioice.ice import StunProtocol

        from bench.lean_rtp import is_rtp, payload_size

        original = StunProtocol.send_data
        log = self

        async def logged(protocol: Any, data: bytes, addr: tuple[str, int]) -> None:
            if is_rtp(data):
                size = payload_size(data, 0)
                if size is not None:
                    _, _, sequence, stamp, ssrc = _HEADER.unpack_from(data)
                    log.times.append(time.time())
                    log.sequences.append(sequence)
                    log.stamps.append(stamp)
                    log.ssrcs.append(ssrc)
                    log.sizes.append(size)
            await original(protocol, data, addr)

        StunProtocol.send_data = logged  # type: ignore[method-assign,assignment]


class Publisher:
    def __init__(self) -> None:
        self.peer: Any = None
        self.frame_times: list[float] = []  # time.time() when each video frame left the track
        self.frame_stamps: list[int] = []  # its timestamp (90 kHz, before the sender's origin)
        self.frame_keys: list[bool] = []
        self.frame_bytes: list[int] = []
        self.pli_times: list[float] = []  # keyframe requests (PLI/FIR) received by the video sender
        self.key_times: list[float] = []  # keyframes that left the track (forced, or the clip's loop)
        self.packets = PacketsSent()
        self.video_ssrc: int | None = None
        self.tag = 0  # SRTP tag bytes of the publisher's connection

    def _log_frame(self, stamp: int, size: int, keyframe: bool) -> None:
        now = time.time()
        self.frame_times.append(now)
        self.frame_stamps.append(stamp)
        self.frame_bytes.append(size)
        self.frame_keys.append(keyframe)
        if keyframe:
            self.key_times.append(now)

    async def _encoded_track(self, width: int, height: int, fps: int, bitrate: int) -> Any:
        from bench.encoded_video import EncodedVideoTrack, load_clip, route_keyframe_requests

        frames = await asyncio.to_thread(load_clip, width, height, fps, bitrate)
        route_keyframe_requests()
        log = self._log_frame

        class Logged(EncodedVideoTrack):
            async def recv(self) -> Any:
                packet = await super().recv()
                log(int(packet.pts or 0), packet.size, bool(frames[(self._index - 1) % len(frames)][1]))
                return packet

        return Logged(frames, fps)

    def _live_track(self, width: int, height: int, fps: int, bitrate: int) -> Any:
        import aiortc.codecs.vpx as vpx
        from aiortc.mediastreams import VIDEO_TIME_BASE, convert_timebase

        from live.media.client import TestPatternTrack

        if bitrate:
            vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = bitrate
        log, encode = self._log_frame, vpx.Vp8Encoder.encode

        def logged_encode(encoder: Any, frame: Any, force_keyframe: bool = False) -> Any:
            payloads, timestamp = encode(encoder, frame, force_keyframe)
            # in the executor's thread: appends are atomic. A keyframe's VP8 header (after the
            # payload descriptor of the first packet) has its lowest bit clear.
            _, vp8 = vpx.VpxPayloadDescriptor.parse(payloads[0]) if payloads else (None, b"\x01")
            log(convert_timebase(frame.pts, frame.time_base, VIDEO_TIME_BASE),
                sum(len(p) for p in payloads), not vp8[0] & 1)
            return payloads, timestamp

        vpx.Vp8Encoder.encode = logged_encode  # type: ignore[method-assign,assignment]
        return TestPatternTrack(width, height, fps)

    async def do_start(self, url: str, token: str, width: int, height: int, fps: int, bitrate: int,
                       audio: bool, timeout: float, live_encode: bool = False) -> Json:
        from aiortc import RTCRtpSender
        from aiortc.mediastreams import AudioStreamTrack

        from live.media.client import publish

        video = (self._live_track(width, height, fps, bitrate) if live_encode
                 else await self._encoded_track(width, height, fps, bitrate))
        pli_times, send_keyframe = self.pli_times, RTCRtpSender._send_keyframe

        def counted_keyframe_request(sender: Any) -> None:
            if sender.kind == "video":
                pli_times.append(time.time())
            send_keyframe(sender)

        RTCRtpSender._send_keyframe = counted_keyframe_request  # type: ignore[method-assign,assignment]
        self.packets.install()
        tracks: list[Any] = [video]
        if audio:
            tracks.append(AudioStreamTrack())
        started = time.monotonic()
        self.peer = await publish(url, token, tracks, timeout=timeout)
        sender = next(s for s in self.peer.pc.getSenders() if s.track is video)
        self.video_ssrc = sender._ssrc
        return {"resource": self.peer.resource_url, "signalling_s": time.monotonic() - started}

    def _frames_sent(self, t0: float, t1: float) -> list[list[Any]]:
        """The video frames whose first packet was sent in [t0, t1]: [RTP timestamp, keyframe,
        [(sequence, payload bytes, send time), ...]], from the packet log and the track's."""
        from bench.lean_rtp import tag_of

        if self.peer is not None and not self.tag:
            sender = next((s for s in self.peer.pc.getSenders() if s.kind == "video"), None)
            self.tag = (tag_of(sender) or 0) if sender is not None else 0
        log = self.packets
        frames: dict[int, list[Any]] = {}
        lo = bisect.bisect_left(log.times, t0 - 1.0)
        for i in range(lo, len(log.times)):
            if log.ssrcs[i] != self.video_ssrc:
                continue
            stamp = log.stamps[i]
            if stamp not in frames:
                if log.times[i] > t1:
                    break
                frames[stamp] = [stamp, False, []]
            frames[stamp][2].append((log.sequences[i], log.sizes[i] - self.tag, log.times[i]))
        # the sender's timestamps are the track's plus a random origin: found from the first frame
        first = next((i for i, s in enumerate(log.ssrcs) if s == self.video_ssrc), None)
        if first is not None and self.frame_stamps:
            origin = (log.stamps[first] - self.frame_stamps[0]) % STAMPS
            keys = {(s + origin) % STAMPS for s, k in zip(self.frame_stamps, self.frame_keys,
                                                         strict=True) if k}
            for frame in frames.values():
                frame[1] = frame[0] in keys
        return [f for f in frames.values() if f[2][0][2] >= t0]

    async def do_window(self, t0: float, t1: float) -> Json:
        lo, hi = bisect.bisect_left(self.frame_times, t0), bisect.bisect_right(self.frame_times, t1)
        plo, phi = bisect.bisect_left(self.pli_times, t0), bisect.bisect_right(self.pli_times, t1)
        klo, khi = bisect.bisect_left(self.key_times, t0), bisect.bisect_right(self.key_times, t1)
        kbps = 8 * sum(self.frame_bytes[lo:hi]) / (t1 - t0) / 1000
        state = self.peer.pc.connectionState if self.peer else "none"
        return {"frames": hi - lo, "fps": (hi - lo) / (t1 - t0), "plis": phi - plo,
                "forced_keyframes": khi - klo, "kbps": kbps, "state": state,
                "frames_total": len(self.frame_times), "plis_total": len(self.pli_times),
                "packets": self._frames_sent(t0, t1)}

    async def do_keyframes(self, since: float) -> Json:
        """When keyframes left the track (wall clock), from `since` on."""
        return {"forced": self.key_times[bisect.bisect_left(self.key_times, since):]}

    async def do_ping(self) -> Json:
        return {}

    async def do_close(self) -> Json:
        return await close_peers([self.peer], 10)


def publisher_main(conn: Connection) -> None:
    serve_commands(conn, Publisher())
