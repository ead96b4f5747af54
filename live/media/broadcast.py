"""One session's broadcast: frames from the studio, forwarded as they were encoded to every viewer.

Each frame becomes one `av.Packet`, shared by every viewer's track: aiortc's sender only packetises
and encrypts a packet (no encoder runs), so a viewer costs bytes and packets, not a codec.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media import internals
from live.media.direct import DirectSender
from live.media.frames import H264ParameterSets, Size, h264_sps_size, vp8_is_keyframe, vp8_size
from live.media.packing import SharedPacker

log = logging.getLogger(__name__)

TIME_BASE = {"video": fractions.Fraction(1, 90000), "audio": fractions.Fraction(1, 48000)}
FRAME_STEP = {"video": 3000, "audio": 960}  # a frame's duration, to join two studio sessions
QUEUE_LIMIT = {"video": 30, "audio": 50}  # 1 s: live video; a viewer further behind starts afresh
AUDIO_RATE = 48000
KEYFRAME_INTERVAL = 0.5  # at most one keyframe request to the studio per this many seconds


class ForwardTrack(MediaStreamTrack):
    """One viewer's share of the broadcast: its packets, from a keyframe on.

    Served by the broadcast's loop (`direct`, once the broadcast serves the viewer's sender), the
    frames go out at once. Otherwise (a sender the broadcast does not serve) they are queued for
    the sender's task to read, bounded: if the sender falls 1 s behind (an overloaded process), the
    backlog is dropped and the track waits for the next keyframe instead of growing without limit
    or stalling the others.
    """

    def __init__(self, kind: str, request_keyframe: Callable[[], None]) -> None:
        super().__init__()
        self.kind = kind
        self._request_keyframe = request_keyframe
        self._queue: collections.deque[av.Packet[Any]] = collections.deque()
        self._ready = asyncio.Event()
        self.waiting_for_keyframe = kind == "video"
        self.dropped = 0
        # Set by `Broadcast.serve`: the broadcast's loop sends this viewer's packets itself
        # (live/media/direct.py) and nothing is queued for the sender's task.
        self.direct: DirectSender | None = None

    def clear(self) -> None:
        """Forget what is queued: the track is about to carry another broadcast (a listener
        switching language), whose packets must not follow the old one's."""
        self._queue.clear()

    def push(self, packet: av.Packet[Any], keyframe: bool) -> None:
        if self.waiting_for_keyframe:
            if not keyframe:
                self._request_keyframe()  # throttled by the broadcast
                return
            self.waiting_for_keyframe = False
        if self.direct is not None:
            if not self._send_direct(self.direct, packet) and self.kind == "video":
                self.waiting_for_keyframe = True  # frames before a keyframe cannot be decoded
            return
        if len(self._queue) >= QUEUE_LIMIT[self.kind]:
            self.dropped += len(self._queue)
            self._queue.clear()
            if self.kind == "video":
                self.waiting_for_keyframe = True
                self._request_keyframe()
                return
        self._queue.append(packet)
        self._ready.set()

    def _send_direct(self, direct: DirectSender, packet: av.Packet[Any]) -> bool:
        try:
            return direct.send_frame(packet)
        except Exception:  # one viewer's broken connection must not stop the others' frames
            log.exception("sending to a viewer failed")
            return False

    async def recv(self) -> av.Packet[Any]:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()  # wake the sender so that it sees the track ended


class RateMeter:
    """Frames and bytes over the last two seconds, for the studio's readout."""

    WINDOW = 2.0

    def __init__(self) -> None:
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, nbytes: int, now: float) -> None:
        self._samples.append((now, nbytes))
        while self._samples and self._samples[0][0] < now - self.WINDOW:
            self._samples.popleft()

    def rates(self, now: float) -> tuple[float, float]:
        """(frames per second, kilobits per second)."""
        recent = [n for t, n in self._samples if t >= now - self.WINDOW]
        return len(recent) / self.WINDOW, sum(recent) * 8 / 1000 / self.WINDOW


@dataclass
class Source:
    """The studio's current connection: where its frames come from, where keyframe requests go."""

    codecs: dict[str, RTCRtpCodecParameters] = field(default_factory=dict)
    video_receiver: RTCRtpReceiver | None = None
    video_ssrc: int | None = None
    # An edge's source is another worker's feed: keyframe requests go up it, not to a receiver.
    upstream: Callable[[], None] | None = None
    # Which connection this is, as a digest of its resource id: an interpreter's page tells
    # from the readout whether it is on air or its booth partner took over.
    publisher: str | None = None


# What an origin's feed to another worker registers: (kind, frame bytes, timestamp, keyframe).
Tap = Callable[[str, bytes, int, bool], None]


class Broadcast:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.source: Source | None = None
        self.since: float | None = None  # wall clock, when the current studio went on air
        self.tracks: dict[str, set[ForwardTrack]] = {"video": set(), "audio": set()}
        self.taps: set[Tap] = set()  # edge workers' feeds (live/media/cluster.py)
        self._packers: dict[tuple[str, str], SharedPacker] = {}  # (kind, MIME type): see serve()
        self.size: Size | None = None
        self.meters = {"video": RateMeter(), "audio": RateMeter()}
        self.keyframe_requests = 0
        self.last_keyframe: float | None = None  # monotonic: when the studio's last one came
        self._parameter_sets = H264ParameterSets()
        # Output timestamps continue across studio connections, so viewers see one stream.
        self._last_out: dict[str, int | None] = {"video": None, "audio": None}
        self._offset: dict[str, int | None] = {"video": None, "audio": None}
        self._last_request = -KEYFRAME_INTERVAL
        self._request_pending = False
        self._tasks: set[asyncio.Task[Any]] = set()
        # Told when the broadcast goes on or off air (an interpretation channel's listeners are
        # moved to it, or back to the floor: live/media/channels.py).
        self.on_live_change: Callable[[], None] | None = None

    @property
    def live(self) -> bool:
        return self.source is not None

    def _changed(self) -> None:
        if self.on_live_change is not None:
            self.on_live_change()

    def serve(self, sender: RTCRtpSender, kind: str) -> None:
        """A viewer's sender of this broadcast's `kind` track: its keyframe requests come here,
        it packs frames with the broadcast's packer (once per frame for all viewers) and lays
        out its header extensions once (live/media/packing.py), and the broadcast's loop sends
        its packets (live/media/direct.py)."""
        internals.on_keyframe_request(sender, self.request_keyframe)
        internals.lay_out_extensions_once(sender)
        codec = self.source.codecs.get(kind) if self.source is not None else None
        packer = None
        if codec is not None:
            key = (kind, codec.mimeType.lower())
            if key not in self._packers:
                self._packers[key] = SharedPacker(codec)
            packer = self._packers[key]
            internals.share_encoder(sender, packer)
        track = sender.track
        if isinstance(track, ForwardTrack):
            track.direct = DirectSender(sender, packer)

    def start(self, source: Source) -> None:
        """A studio goes on air (replacing any earlier connection)."""
        was_live = self.live
        self.source, self.since = source, time.time()
        self._offset = {"video": None, "audio": None}
        self._parameter_sets = H264ParameterSets()
        for track in self.tracks["video"]:
            track.waiting_for_keyframe = True
        if not was_live:
            self._changed()

    def stop(self, source: Source) -> None:
        if self.source is source:
            self.source, self.since, self.size = None, None, None
            for packer in self._packers.values():  # kept: viewers' senders hold them
                packer.forget()
            self._changed()

    def lost_video(self, source: Source) -> None:
        """The studio's video lost data for good: viewers wait for the keyframe it is asked for,
        rather than decode frames that refer to what is missing."""
        if self.source is source:
            for track in self.tracks["video"]:
                track.waiting_for_keyframe = True

    def sink(self, source: Source, kind: str) -> internals.FrameSink:
        """The receiver tap of one of `source`'s tracks."""

        def on_frame(codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
            if self.source is source:  # a replaced studio may still send for a moment
                self.forward(kind, codec.mimeType.lower(), frame.data, frame.timestamp)

        return on_frame

    def forward(self, kind: str, mime_type: str, data: bytes, timestamp: int) -> None:
        keyframe = kind == "audio"
        if mime_type == "video/vp8":
            keyframe = vp8_is_keyframe(data)
            if keyframe:
                self.size = vp8_size(data)
        elif mime_type == "video/h264":
            data, keyframe = self._parameter_sets.complete(data)
            if keyframe and self._parameter_sets.sps is not None:
                self.size = h264_sps_size(self._parameter_sets.sps)
        self.forward_frame(kind, data, timestamp, keyframe)

    def forward_frame(self, kind: str, data: bytes, timestamp: int, keyframe: bool) -> None:
        """A frame whose keyframe flag is known (from the studio, or from the origin's feed)."""
        now = time.monotonic()
        self.meters[kind].add(len(data), now)
        if keyframe and kind == "video":
            self.last_keyframe = now
        packet = av.Packet(data)
        packet.pts = pts = self._timeline(kind, timestamp)
        packet.time_base = TIME_BASE[kind]
        for track in self.tracks[kind]:
            track.push(packet, keyframe)
        for tap in self.taps:
            tap(kind, data, pts, keyframe)

    def _timeline(self, kind: str, timestamp: int) -> int:
        offset = self._offset[kind]
        if offset is None:
            last = self._last_out[kind]
            if kind == "audio":
                # Audio starts on the wall clock: the floor and every interpretation channel of a
                # session share one timeline, so a listener's track moved from one to another
                # (live/media/channels.py) goes on with about the timestamps it had, on every
                # worker alike.
                start = int(time.time() * AUDIO_RATE) // FRAME_STEP[kind] * FRAME_STEP[kind]
                if last is not None:
                    start = max(start, last + FRAME_STEP[kind])
            else:
                start = 0 if last is None else last + FRAME_STEP[kind]
            offset = self._offset[kind] = start - timestamp
        out = timestamp + offset
        self._last_out[kind] = out
        return out

    def attach(self, track: ForwardTrack, *, until_ended: bool = True) -> None:
        """A viewer's track starts receiving (once its connection is up: no backlog builds).
        A track that moves between broadcasts (`until_ended=False`) is detached by its mover."""
        self.tracks[track.kind].add(track)
        if until_ended:
            track.on("ended", lambda: self.tracks[track.kind].discard(track))
        if track.kind == "video":
            self.request_keyframe()

    def detach(self, track: ForwardTrack) -> None:
        """A listener's audio track leaves for another broadcast (or for none)."""
        self.tracks[track.kind].discard(track)

    @property
    def viewers(self) -> int:
        return max(len(self.tracks["video"]), len(self.tracks["audio"]))

    def request_keyframe(self) -> None:
        """Ask the studio for a keyframe: at once, or coalesced with others into one request
        when the last was under KEYFRAME_INTERVAL ago."""
        if self._request_pending:
            return
        self._request_pending = True
        delay = max(0.0, self._last_request + KEYFRAME_INTERVAL - time.monotonic())
        asyncio.get_running_loop().call_later(delay, self._send_keyframe_request)

    def _send_keyframe_request(self) -> None:
        self._request_pending = False
        source = self.source
        if source is None:
            return
        send = source.upstream or self._pli_sender(source)  # an edge asks its origin's feed
        if send is None:
            return
        self._last_request = time.monotonic()
        self.keyframe_requests += 1
        send()

    def _pli_sender(self, source: Source) -> Callable[[], None] | None:
        """A PLI to the studio's video SSRC, or None while there is nothing to send it to."""
        receiver, ssrc = source.video_receiver, source.video_ssrc
        if receiver is None:
            return None
        if ssrc is None:  # the offer named no SSRC: use the one media arrives on
            sources = receiver.getSynchronizationSources()
            ssrc = sources[-1].source if sources else None
        if ssrc is None:
            return None

        def send() -> None:
            task = asyncio.ensure_future(internals.request_keyframe(receiver, ssrc))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return send

    def stats(self) -> dict[str, Any]:
        now = time.monotonic()
        readout: dict[str, Any] = {"live": self.live, "since": self.since, "viewers": self.viewers,
                                   "keyframe_requests": self.keyframe_requests,
                                   "publisher": self.source.publisher if self.source else None,
                                   "keyframe_age": round(now - self.last_keyframe, 1)
                                   if self.live and self.last_keyframe is not None else None}
        codecs = self.source.codecs if self.source else {}
        for kind in ("video", "audio"):
            if kind not in codecs:
                readout[kind] = None
                continue
            fps, kbps = self.meters[kind].rates(now)
            readout[kind] = {"codec": codecs[kind].mimeType.split("/")[1], "kbps": round(kbps, 1)}
            if kind == "video":
                readout[kind].update(fps=round(fps, 1),
                                     width=self.size.width if self.size else None,
                                     height=self.size.height if self.size else None)
        return readout

