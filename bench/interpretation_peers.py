"""The media peers of bench/interpretation.py, each in its own process: publishers (the studio, an
interpreter) and listener workers, driven over a pipe like bench/relay_peers.py's, on loopback only.

- A publisher sends `ClickTrack` (silence, a steady tone, or silence with short loud bursts), and
  the studio also a 640x480 VP8 test pattern at ~1 Mbps, encoded once before the runs or as it is
  sent (bench/encoded_video.py).
  It logs when each audio frame and each burst's first frame left the track (wall clock), and the
  burst's timestamp (48 kHz), so a burst's arrival can be matched to its sending.
- A listener worker runs players (`live.media.client.watch`): audio-only listeners, or video
  viewers with their two audio sections. It logs every RTP packet as it arrives, before aiortc's
  jitter buffer (whose prefetch would add its own wait): arrival time, RTP timestamp and payload
  size, per section. Nothing is decoded: a loud Opus packet is ~300-480 bytes, silence's 3.
  Once a player has joined, its packets are logged at the socket instead (bench/lean_rtp.py).
"""

from __future__ import annotations

import array
import asyncio
import bisect
import fractions
import json
import math
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import av
from aiortc.mediastreams import AudioStreamTrack

from bench import lean_rtp
from bench.relay_peers import (
    _loopback_only,
    _no_bandwidth_estimation,
    _serve,
    close_peers,
    serve_commands,
)

Json = dict[str, Any]
RATE, SAMPLES = 48000, 960  # Opus at 48 kHz, 20 ms frames: one frame, one RTP packet
LOUD_BYTES = 100  # an Opus packet carrying the tone or a burst is larger (measured: 320-480)
QUIET_BYTES = 20  # one carrying silence is smaller (measured: 3)
STAMPS = 2**32  # RTP timestamps wrap


class ClickTrack(AudioStreamTrack):
    """An interpreter's (or the floor's) microphone for the bench: `mode` is "silence", "tone", or
    "bursts": silence with a loud tone burst of `burst_frames` frames every 400-600 ms (500 on
    average). The gaps vary, drawn from `seed`, so that the pattern of bursts tells which burst
    arrived, whatever the delay (bench/interpretation_report.py, `match_bursts`)."""

    def __init__(self, frequency: float = 1000.0, burst_frames: int = 2, seed: int = 0) -> None:
        super().__init__()
        wave = [int(12000 * math.sin(2 * math.pi * frequency * i / RATE)) for i in range(RATE)]
        self._second = array.array("h", wave).tobytes()  # whole cycles for integer Hz
        self._silence = bytes(SAMPLES * 2)
        self.mode = "silence"
        self.burst_frames = burst_frames
        self._rng = random.Random(seed)
        self._next_burst = 0
        self._burst_left = 0
        self._count = 0
        self._started: float | None = None
        self.frame_times = array.array("d")  # time.time() when each frame left the track
        self.bursts: list[tuple[float, int]] = []  # (time.time(), timestamp) of each first frame

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._burst_left = 0
        self._next_burst = self._count + self._gap()

    def _gap(self) -> int:
        return self._rng.randint(20, 30)  # frames: 400-600 ms

    async def recv(self) -> av.AudioFrame:
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._count * SAMPLES / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        first_of_burst = False
        if self.mode == "bursts" and self._count >= self._next_burst:
            first_of_burst, self._burst_left = True, self.burst_frames
            self._next_burst = self._count + self.burst_frames + self._gap()
        loud = self.mode == "tone" or self._burst_left > 0
        self._burst_left = max(0, self._burst_left - 1)
        offset = (self._count * SAMPLES) % RATE * 2
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(self._second[offset:offset + SAMPLES * 2] if loud else self._silence)
        pts = self._count * SAMPLES
        frame.pts, frame.sample_rate = pts, RATE
        frame.time_base = fractions.Fraction(1, RATE)
        self._count += 1
        now = time.time()
        self.frame_times.append(now)
        if first_of_burst:
            self.bursts.append((now, pts))
        return frame


def _count_between(times: Any, t0: float, t1: float) -> int:
    return bisect.bisect_right(times, t1) - bisect.bisect_left(times, t0)


# -- publishers ----------------------------------------------------------------------------------


class Publisher:
    def __init__(self) -> None:
        self.peer: Any = None
        self.audio: ClickTrack | None = None
        self.video: Any = None
        self.video_times: list[float] = []

    async def do_start(self, url: str, token: str, video: str, bitrate: int, frequency: float,
                       burst_frames: int, seed: int, mode: str, timeout: float) -> Json:
        """`video`: "" (none), "file" (the test pattern encoded once, bench/encoded_video.py)
        or "encoder" (encoded as it is sent, as bench/relay_publisher.py's --live-encode)."""
        from bench.encoded_video import studio_video
        from live.media.client import publish

        self.audio = ClickTrack(frequency, burst_frames, seed)
        self.audio.set_mode(mode)
        tracks: list[Any] = [self.audio]
        if video:
            self.video = await studio_video(video, bitrate, self.video_times)
            tracks.insert(0, self.video)
        self.peer = await publish(url, token, tracks, timeout=timeout)
        return {"resource": self.peer.resource_url}

    async def do_mode(self, mode: str) -> Json:
        assert self.audio is not None
        self.audio.set_mode(mode)
        return {}

    async def do_window(self, t0: float, t1: float) -> Json:
        """Audio frames (and video frames) that left the tracks in [t0, t1]."""
        assert self.audio is not None
        return {"audio": _count_between(self.audio.frame_times, t0, t1),
                "video": _count_between(self.video_times, t0, t1),
                "keyframe_requests": getattr(self.video, "keyframe_requests", None),
                "state": self.peer.pc.connectionState if self.peer else "none"}

    async def do_bursts(self, t0: float, t1: float) -> Json:
        assert self.audio is not None
        return {"bursts": [b for b in self.audio.bursts if t0 <= b[0] <= t1]}

    async def do_close(self) -> Json:
        return await close_peers([self.peer], 10)


def publisher_main(conn: Connection) -> None:
    serve_commands(conn, Publisher())


# -- listeners -----------------------------------------------------------------------------------


@dataclass
class PacketLog:
    """One section's RTP packets as they arrived (audio: every packet; video: a frame's first)."""

    kind: str
    times: array.array[float] = field(default_factory=lambda: array.array("d"))
    stamps: array.array[int] = field(default_factory=lambda: array.array("L"))
    sizes: array.array[int] = field(default_factory=lambda: array.array("L"))

    def add(self, now: float, stamp: int, size: int, sequence: int = 0) -> None:
        if self.kind == "video" and self.stamps and self.stamps[-1] == stamp:
            return  # the same frame's next packet
        self.times.append(now)
        self.stamps.append(stamp)
        self.sizes.append(size)

    def trim(self, before: float) -> None:
        cut = bisect.bisect_left(self.times, before)
        del self.times[:cut], self.stamps[:cut], self.sizes[:cut]

    def delivered(self, t0: float, t1: float, sent: int, step: int) -> Json:
        """`in_span`: how many distinct packets (by RTP timestamp, `step` apart) arrived of the
        `sent` consecutive ones starting with the first to arrive after t0 (exact at the edges);
        `arrived`: how many arrived in [t0, t1] (+-1)."""
        lo, hi = bisect.bisect_left(self.times, t0), bisect.bisect_right(self.times, t1)
        in_span = 0
        if lo < len(self.stamps):
            first, span = self.stamps[lo], sent * step
            in_span = len({s for s in self.stamps[lo:] if (s - first) % STAMPS < span})
        return {"in_span": in_span, "arrived": hi - lo}


_LOGS: dict[int, PacketLog] = {}  # id(receiver) -> its log


def _install_packet_log(lean: bool, poll_ms: float) -> None:
    """Log each RTP packet where aiortc's transport hands it to its receiver: before the jitter
    buffer (audio waits there for 4 packets before anything leaves) and any decoder. `lean`: once
    a player has joined, its streams are logged at the socket instead (bench/lean_rtp.py)."""
    from aiortc import RTCRtpReceiver

    original = RTCRtpReceiver._handle_rtp_packet
    if lean:
        lean_rtp.install(poll_ms)

    async def logged(receiver: Any, packet: Any, arrival_time_ms: int) -> None:
        log = _LOGS.get(id(receiver))
        if log is None:
            log = _LOGS[id(receiver)] = PacketLog(getattr(receiver, "_RTCRtpReceiver__kind", "audio"))
        log.add(time.time(), packet.timestamp, len(packet.payload))
        if lean:
            lean_rtp.learn(receiver, packet, log)
        await original(receiver, packet, arrival_time_ms)

    RTCRtpReceiver._handle_rtp_packet = logged  # type: ignore[method-assign,assignment]


@dataclass
class Listener:
    index: int
    language: str | None
    peer: Any = None
    sections: dict[str, PacketLog] = field(default_factory=dict)  # "video", "audio", "audio#2"
    join_s: float | None = None
    error: str | None = None


def _sections(peer: Any) -> dict[str, PacketLog]:
    """The logs of a player's sections, named as `watch` names them."""
    out: dict[str, PacketLog] = {}
    for transceiver in peer.pc.getTransceivers():
        kind = transceiver.kind
        name = kind if kind not in out else f"{kind}#2"
        out[name] = _LOGS.setdefault(id(transceiver.receiver), PacketLog(kind))
    return out


async def _first_packet(log: PacketLog, since: float, matches: Callable[[int], bool],
                        timeout: float) -> float | None:
    """Arrival time of the first packet after `since` whose size `matches` (None: none in time).
    Polled, but the time returned is the packet's own arrival, logged as it came in."""
    deadline = time.monotonic() + timeout
    start = bisect.bisect_left(log.times, since)
    while True:
        for i in range(start, len(log.times)):
            if matches(log.sizes[i]):
                return log.times[i]
        start = len(log.times)
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.005)


class ListenerWorker:
    def __init__(self, lean: bool, poll_ms: float) -> None:
        self.listeners: dict[int, Listener] = {}
        self.lean = lean
        _install_packet_log(lean, poll_ms)

    async def do_ping(self) -> Json:
        return {}

    async def do_join(self, url: str, token: str, plan: list[list[Any]], timeout: float) -> Json:
        """plan: [index, time.time() to send the offer at, language or None, floor under (bool),
        the sections' kinds]. Joined: the first frame (video if any, else audio) arrived."""
        from live.media.client import watch

        async def one(index: int, at: float, language: str | None, floor: bool,
                      kinds: list[str]) -> Listener:
            listener = self.listeners[index] = Listener(index, language)
            await asyncio.sleep(max(0.0, at - time.time()))
            query = f"?language={language or ''}&floor={int(floor)}"
            try:
                listener.peer = await watch(url + query, token, kinds=tuple(kinds), timeout=timeout)
                listener.sections = _sections(listener.peer)
                async with asyncio.timeout(timeout):
                    await listener.peer.first_frame.wait()
                listener.join_s = time.monotonic() - listener.peer.offered_at
                if self.lean:
                    lean_rtp.enable(listener.peer.pc)
            except TimeoutError:
                listener.error = f"no frame within {timeout:.0f} s"
            except Exception as exc:
                listener.error = f"offer: {exc!r}"[:200]
            return listener

        joined = await asyncio.gather(*(one(*entry) for entry in plan))
        return {"joined": [{"index": v.index, "join_s": v.join_s, "error": v.error} for v in joined]}

    async def _put(self, http: Any, listener: Listener, language: str | None, floor: bool) -> int:
        response = await http.put(
            f"{listener.peer.resource_url}/audio",
            content=json.dumps({"language": language, "floor": floor}).encode(),
            headers={"content-type": "application/json",
                     "authorization": f"Bearer {listener.peer.token}"})
        status: int = response.status_code
        return status

    async def do_choose(self, choices: list[list[Any]]) -> Json:
        """[index, language or None, floor under]: what those listeners hear from now on."""
        import httpx2 as httpx

        from live.media.client import tls_context

        async with httpx.AsyncClient(timeout=10, verify=tls_context()) as http:
            statuses = []
            for index, language, floor in choices:
                listener = self.listeners[index]
                statuses.append(await self._put(http, listener, language, floor)
                                if listener.peer else 0)
                listener.language = language
        return {"statuses": statuses}

    async def do_switch(self, index: int, language: str, count: int, pause: list[float],
                        timeout: float, seed: int) -> Json:
        """`count` switches of one listener between the floor (silence) and `language` (a tone),
        starting with the floor: from sending the PUT to the first packet of the other kind."""
        import httpx2 as httpx

        from live.media.client import tls_context

        listener = self.listeners[index]
        log, rng, out = listener.sections["audio"], random.Random(seed), []
        async with httpx.AsyncClient(timeout=10, verify=tls_context()) as http:
            for k in range(count):
                to = None if k % 2 == 0 else language
                sent = time.time()
                status = await self._put(http, listener, to, False)
                answered = time.time()
                arrival = await _first_packet(
                    log, sent, (lambda size: size > LOUD_BYTES) if to else
                    (lambda size: size < QUIET_BYTES), timeout)
                out.append({"to": to or "floor", "status": status, "put_ms": 1000 * (answered - sent),
                            "switch_ms": None if arrival is None else 1000 * (arrival - sent)})
                await asyncio.sleep(rng.uniform(*pause))
        listener.language = language if count % 2 == 0 else None
        return {"switches": out}

    async def do_loud(self, index: int, section: str, t0: float, t1: float) -> Json:
        """(arrival, RTP timestamp) of the loud packets one listener's section got in [t0, t1]."""
        listener = self.listeners[index]
        log = listener.sections.get(section)
        if log is None:
            return {"packets": []}
        lo, hi = bisect.bisect_left(log.times, t0), bisect.bisect_right(log.times, t1)
        return {"packets": [(log.times[i], log.stamps[i]) for i in range(lo, hi)
                            if log.sizes[i] > LOUD_BYTES]}

    async def do_window(self, t0: float, t1: float, sent: dict[str, int]) -> Json:
        """What each listener got in [t0, t1] (wall clock, already shifted by the pipeline delay)
        of the channel it chose ("floor" for the original) and of the video, if it has any."""
        out = []
        for listener in self.listeners.values():
            state = listener.peer.pc.connectionState if listener.peer else "none"
            row: Json = {"index": listener.index, "channel": listener.language or "floor",
                         "state": state, "error": listener.error}
            audio = listener.sections.get("audio")
            if audio is not None:
                row["audio"] = audio.delivered(t0, t1, sent[row["channel"]], SAMPLES)
            video = listener.sections.get("video")
            if video is not None:
                row["video"] = video.delivered(t0, t1, sent["video"], 3000)
            out.append(row)
            for log in listener.sections.values():
                log.trim(t0)
        return {"listeners": out, "lean": lean_rtp.LEAN.figures() if self.lean else None}

    async def do_close(self) -> Json:
        return await close_peers([v.peer for v in self.listeners.values()])


def listener_main(conn: Connection, rcvbuf: int = 0, lean: bool = True, poll_ms: float = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    _loopback_only()
    _no_bandwidth_estimation()  # the relay forwards at the studio's rate whatever REMB says
    if rcvbuf:  # one event loop reads many connections' sockets: see bench/relay_peers.py
        from live.media import internals

        internals.set_udp_receive_buffer(rcvbuf)
    worker = ListenerWorker(lean, poll_ms)
    asyncio.run(_serve(conn, {name[3:]: getattr(worker, name) for name in dir(worker)
                              if name.startswith("do_")}))
