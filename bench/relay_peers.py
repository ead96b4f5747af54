"""The media peers of bench/relay.py, each in its own process: one WHIP publisher, viewer workers.

Both obey the orchestrator's commands over a pipe (`(command, arguments)` in, a dict out) and keep
all traffic on loopback: `restrict_host_addresses(["127.0.0.1"])` before any peer connection, and
no ICE servers (the client's default, `RTCConfiguration(iceServers=[])`).

- The publisher sends `TestPatternTrack` (optionally with silence) at a fixed bitrate: aiortc's VP8
  encoder follows the receiver's REMB between module constants, all set to the same value here. It
  logs when each frame left the track and its encoded size, when the server asked it for a keyframe
  (PLI/FIR) and how many keyframes its encoder was forced to make.
- A viewer worker runs up to `--per-proc` WHEP viewers (`live.media.client.watch`: encoded frames are
  counted, never decoded). It logs each video frame's arrival (wall clock, RTP timestamp, size,
  keyframe) through a wrapper around `live.media.internals.tap_receiver`, the hook `watch` uses.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import signal
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

Json = dict[str, Any]
LOOPBACK = ["127.0.0.1"]


def _loopback_only() -> None:
    from live.media import internals

    internals.restrict_host_addresses(LOOPBACK)


async def _serve(conn: Connection, handlers: dict[str, Callable[..., Awaitable[Json]]]) -> None:
    """Answer commands until "close" (or the orchestrator goes away)."""
    while True:
        try:
            cmd, arg = await asyncio.to_thread(conn.recv)
        except (EOFError, OSError):
            cmd, arg = "close", {}
        try:
            result = await handlers[cmd](**arg)
        except Exception as exc:
            result = {"error": f"{cmd}: {exc!r}"}
        with contextlib.suppress(OSError, BrokenPipeError):
            conn.send(result)
        if cmd == "close":
            return


def _in_window(times: list[float], t0: float, t1: float) -> tuple[int, int]:
    return bisect.bisect_left(times, t0), bisect.bisect_right(times, t1)


# -- the publisher -----------------------------------------------------------------------------------


class Publisher:
    def __init__(self) -> None:
        self.peer: Any = None
        self.frame_times: list[float] = []  # time.time() when each video frame left the track
        self.pli_times: list[float] = []  # keyframe requests (PLI/FIR) received by the video sender
        self.forced_times: list[float] = []  # frames the encoder was told to make keyframes
        self.encoded_times: list[float] = []  # when each video frame came out of the encoder
        self.encoded_bytes: list[int] = []  # its size (RTP payloads)

    async def do_start(self, url: str, token: str, width: int, height: int, fps: int, bitrate: int,
                       audio: bool, timeout: float) -> Json:
        import aiortc.codecs.vpx as vpx
        from aiortc import RTCRtpSender
        from aiortc.mediastreams import AudioStreamTrack

        from live.media.client import TestPatternTrack, publish

        if bitrate:
            vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = bitrate

        pli_times, forced_times = self.pli_times, self.forced_times
        encoded_times, encoded_bytes = self.encoded_times, self.encoded_bytes
        send_keyframe = RTCRtpSender._send_keyframe

        def counted_keyframe_request(sender: Any) -> None:
            if sender.kind == "video":
                pli_times.append(time.time())
            send_keyframe(sender)

        RTCRtpSender._send_keyframe = counted_keyframe_request  # type: ignore[method-assign,assignment]
        encode = vpx.Vp8Encoder.encode

        def counted_encode(encoder: Any, frame: Any, force_keyframe: bool = False) -> Any:
            if force_keyframe:
                forced_times.append(time.time())
            payloads, timestamp = encode(encoder, frame, force_keyframe)
            encoded_times.append(time.time())  # in the executor's thread: appends are atomic
            encoded_bytes.append(sum(len(p) for p in payloads))
            return payloads, timestamp

        vpx.Vp8Encoder.encode = counted_encode  # type: ignore[method-assign,assignment]

        frame_times = self.frame_times

        class Counted(TestPatternTrack):
            async def recv(self) -> Any:
                frame = await super().recv()
                frame_times.append(time.time())
                return frame

        tracks: list[Any] = [Counted(width, height, fps)]
        if audio:
            tracks.append(AudioStreamTrack())
        started = time.monotonic()
        self.peer = await publish(url, token, tracks, timeout=timeout)
        return {"resource": self.peer.resource_url, "signalling_s": time.monotonic() - started}

    async def do_window(self, t0: float, t1: float) -> Json:
        lo, hi = _in_window(self.frame_times, t0, t1)
        plo, phi = _in_window(self.pli_times, t0, t1)
        flo, fhi = _in_window(self.forced_times, t0, t1)
        elo, ehi = _in_window(self.encoded_times, t0, t1)
        kbps = 8 * sum(self.encoded_bytes[elo:ehi]) / (t1 - t0) / 1000
        state = self.peer.pc.connectionState if self.peer else "none"
        return {"frames": hi - lo, "fps": (hi - lo) / (t1 - t0), "plis": phi - plo,
                "forced_keyframes": fhi - flo, "kbps": kbps, "state": state,
                "frames_total": len(self.frame_times), "plis_total": len(self.pli_times)}

    async def do_keyframes(self, since: float) -> Json:
        """When the encoder was told to make keyframes (wall clock), from `since` on."""
        return {"forced": self.forced_times[bisect.bisect_left(self.forced_times, since):]}

    async def do_ping(self) -> Json:
        return {}

    async def do_close(self) -> Json:
        if self.peer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await self.peer.close()
        return {}


def publisher_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    _loopback_only()
    publisher = Publisher()
    asyncio.run(_serve(conn, {name[3:]: getattr(publisher, name) for name in dir(publisher)
                              if name.startswith("do_")}))


# -- the viewers -------------------------------------------------------------------------------------


@dataclass
class FrameLog:
    """Video frames as they came out of the receiver's reassembly (before any decoder)."""

    times: list[float] = field(default_factory=list)  # time.time() of arrival
    stamps: list[int] = field(default_factory=list)  # RTP timestamps (rebased by the receiver)
    sizes: list[int] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)  # arrival times of keyframes

    def trim(self, before: float) -> None:
        cut = bisect.bisect_left(self.times, before)
        del self.times[:cut], self.stamps[:cut], self.sizes[:cut]
        del self.keys[:bisect.bisect_left(self.keys, before)]


_LOGS: dict[int, FrameLog] = {}  # id(receiver) -> its log, filled while `watch` negotiates
_FEEDBACK: dict[str, list[float]] = {"pli": [], "nack": []}  # when viewers' receivers sent them


def _count_feedback() -> None:
    """Log the keyframe requests (PLI) and retransmission requests (NACK) viewers send."""
    from aiortc import RTCRtpReceiver

    for name, key in (("_send_rtcp_pli", "pli"), ("_send_rtcp_nack", "nack")):
        original = getattr(RTCRtpReceiver, name)

        def logged(receiver: Any, *args: Any, _original: Any = original, _key: str = key) -> Any:
            _FEEDBACK[_key].append(time.time())
            return _original(receiver, *args)

        setattr(RTCRtpReceiver, name, logged)


def _install_frame_log() -> None:
    from live.media import client, internals

    tap = internals.tap_receiver

    def tap_and_log(receiver: Any, sink: Callable[[Any, Any], None]) -> None:
        log = _LOGS[id(receiver)] = FrameLog()

        def both(codec: Any, frame: Any) -> None:
            sink(codec, frame)
            if codec.mimeType.lower().startswith("video/"):
                now = time.time()
                log.times.append(now)
                log.stamps.append(frame.timestamp)
                log.sizes.append(len(frame.data))
                if client.is_keyframe(codec.mimeType, frame.data):
                    log.keys.append(now)

        tap(receiver, both)

    internals.tap_receiver = tap_and_log  # `watch` looks it up on the module at each call


@dataclass
class Viewer:
    index: int
    peer: Any = None
    log: FrameLog | None = None
    join_s: float | None = None  # offer sent -> first video frame
    answer_s: float | None = None  # offer sent -> answer applied (HTTP and the server's negotiation)
    connect_s: float | None = None  # answer applied -> connection up (ICE, DTLS)
    first_s: float | None = None  # connection up -> first video frame (the wait for a keyframe)
    first_key: bool | None = None
    connected_wall: float | None = None  # time.time() of the connection, and of the first frame
    first_wall: float | None = None
    error: str | None = None


def _stamp_gaps(stamps: list[int]) -> tuple[int, int]:
    """Frames missing by RTP timestamp (gaps of more than one frame interval) and the interval."""
    deltas = [b - a for a, b in itertools.pairwise(stamps) if b > a]
    if len(deltas) < 2:
        return 0, 0
    step = int(statistics.median(deltas))
    if step <= 0:
        return 0, 0
    return sum(max(0, round(d / step) - 1) for d in deltas), step


class ViewerWorker:
    def __init__(self) -> None:
        self.viewers: list[Viewer] = []
        _install_frame_log()
        _count_feedback()

    async def do_ping(self) -> Json:
        return {}

    async def do_join(self, url: str, token: str, plan: list[tuple[int, float]], kinds: list[str],
                      timeout: float) -> Json:
        """plan: (viewer number, time.time() to send the offer at)."""
        from live.media.client import watch

        async def one(index: int, at: float) -> Viewer:
            viewer = Viewer(index)
            await asyncio.sleep(max(0.0, at - time.time()))
            try:
                viewer.peer = await watch(url, token, kinds=tuple(kinds), timeout=timeout)
            except Exception as exc:
                viewer.error = f"offer: {exc!r}"[:200]
                return viewer
            answered = time.monotonic()
            pc = viewer.peer.pc
            connected = asyncio.Event()
            if pc.connectionState == "connected":
                connected.set()
            else:
                pc.on("connectionstatechange",
                      lambda: connected.set() if pc.connectionState == "connected" else None)
            connect_task = asyncio.create_task(connected.wait())
            receivers = [t.receiver for t in pc.getTransceivers() if t.kind == "video"]
            viewer.log = next((_LOGS.pop(id(r)) for r in receivers if id(r) in _LOGS), None)
            try:
                async with asyncio.timeout(timeout):
                    await connect_task
                    connected_at = time.monotonic()
                    await viewer.peer.first_frame.wait()
            except TimeoutError:
                viewer.error = f"no video frame within {timeout:.0f} s " \
                               f"(connection {pc.connectionState})"
                return viewer
            video = viewer.peer.received.get("video")
            if video is not None and video.first_at is not None:
                offered = viewer.peer.offered_at
                connected_at = min(connected_at, video.first_at)
                viewer.join_s = video.first_at - offered
                viewer.answer_s = answered - offered
                viewer.connect_s = connected_at - answered
                viewer.first_s = video.first_at - connected_at
                viewer.first_key = video.first_is_keyframe
                if viewer.log is not None and viewer.log.times:
                    viewer.first_wall = viewer.log.times[0]
                    viewer.connected_wall = viewer.first_wall - viewer.first_s
            return viewer

        joined = await asyncio.gather(*(one(i, at) for i, at in plan))
        self.viewers.extend(joined)
        return {"joined": [{"index": v.index, "join_s": v.join_s, "answer_s": v.answer_s,
                            "connect_s": v.connect_s, "first_s": v.first_s,
                            "first_key": v.first_key, "connected_wall": v.connected_wall,
                            "first_wall": v.first_wall, "error": v.error} for v in joined]}

    async def do_window(self, t0: float, t1: float, sent: int, step: int) -> Json:
        """What each viewer got in [t0, t1] (wall clock, already shifted by the pipeline delay).

        `frames`: how many arrived in the window. `in_span`: how many distinct frames arrived (by
        now) of the `sent` consecutive frames starting with the first to arrive after t0, told apart
        by RTP timestamp (`step` apart: both relays keep the studio's spacing). The latter is exact
        at the edges, the former is +-1 frame; the orchestrator uses `in_span` when the viewer's
        stream has that spacing."""
        out = []
        for v in self.viewers:
            state = v.peer.pc.connectionState if v.peer is not None else "none"
            if v.log is None:
                out.append({"index": v.index, "frames": 0, "in_span": 0, "keyframes": 0, "bytes": 0,
                            "max_gap_s": t1 - t0, "stamp_missing": 0, "stamp_step": 0, "state": state,
                            "delay_p50_s": 0.0, "delay_p95_s": 0.0, "delay_max_s": 0.0})
                continue
            log = v.log
            lo, hi = _in_window(log.times, t0, t1)
            klo, khi = _in_window(log.keys, t0, t1)
            edges = [t0, *log.times[lo:hi], t1]
            missing, spacing = _stamp_gaps(log.stamps[lo:hi])
            # delay of each frame over the window's least delayed one (the publisher paces frames
            # by their timestamps): queues building anywhere between the publisher and the viewer
            delays = [t - st / 90000 for t, st in zip(log.times[lo:hi], log.stamps[lo:hi], strict=True)]
            fastest = min(delays, default=0.0)
            extra = sorted(d - fastest for d in delays)
            in_span = 0
            if lo < len(log.stamps):
                first = log.stamps[lo]
                in_span = len({s for s in log.stamps[lo:] if first <= s < first + sent * step})
            out.append({"index": v.index, "frames": hi - lo, "in_span": in_span,
                        "keyframes": khi - klo, "bytes": sum(log.sizes[lo:hi]),
                        "max_gap_s": max(b - a for a, b in itertools.pairwise(edges)),
                        "stamp_missing": missing, "stamp_step": spacing, "state": state,
                        "delay_p50_s": extra[len(extra) // 2] if extra else 0.0,
                        "delay_p95_s": extra[int(len(extra) * 0.95)] if extra else 0.0,
                        "delay_max_s": extra[-1] if extra else 0.0})
            log.trim(t0)
        feedback = {}
        for key, times in _FEEDBACK.items():
            lo, hi = _in_window(times, t0, t1)
            feedback[key] = hi - lo
            del times[:lo]
        return {"viewers": out, "feedback": feedback}

    async def do_close(self) -> Json:
        peers = [v.peer for v in self.viewers if v.peer is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
        return {}


def _no_bandwidth_estimation() -> None:
    """Viewers skip aiortc's receive-side bandwidth estimator (REMB), a fifth of their CPU: both
    servers send at the studio's fixed bitrate whatever a viewer reports, so nothing changes on
    their side but a REMB packet a second per viewer that they would ignore anyway."""
    import aiortc.rtcrtpreceiver

    aiortc.rtcrtpreceiver.RemoteBitrateEstimator = lambda: None  # type: ignore[attr-defined,assignment,return-value]


def viewer_main(conn: Connection, rcvbuf: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    _loopback_only()
    _no_bandwidth_estimation()
    if rcvbuf:
        # One event loop serves all this process's connections and reads each socket a datagram
        # per turn: a keyframe (~125 packets sent back to back) can overflow aioice's 256 KiB
        # before it comes round. That loss would be the load generator's, not the relay's (a
        # browser has one connection per tab and its own process).
        from live.media import internals

        internals.set_udp_receive_buffer(rcvbuf)
    worker = ViewerWorker()
    asyncio.run(_serve(conn, {name[3:]: getattr(worker, name) for name in dir(worker)
                              if name.startswith("do_")}))
