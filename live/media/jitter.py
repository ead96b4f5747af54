"""The studio's video jitter buffer, which skips a gap instead of waiting for it to overflow.

aiortc's buffer reassembles frames in sequence order and holds everything behind a missing packet
until its 512-slot ring overflows: at 1 Mbps, a packet lost twice (the original and its NACKed
retransmission) froze the broadcast for every viewer for 3-4 s (bench/relay.py). Here, once the
oldest packet waiting has waited MAX_GAP_WAIT for the gap before it, the gap and the incomplete
frame after it are dropped, a keyframe is asked for, and viewers wait for it rather than decode
frames that reference what was lost.

aiortc's buffer also releases a frame only when the next frame's first packet arrives, which added
one frame interval (33 ms at 30 fps) to every video frame, and its audio buffer holds four Opus
packets (80 ms). Here a video frame goes as soon as its last packet (the RTP marker bit) is in and
nothing between its first packet and that one is missing; audio packets go as they arrive.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiortc.jitterbuffer import MAX_MISORDER, JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add

MAX_GAP_WAIT = 0.3  # seconds: several round trips for a retransmission, far less than a freeze
CAPACITY = 512  # as aiortc's: a 1-2 Mbps keyframe fits with room to spare


class GapSkippingJitterBuffer(JitterBuffer):
    def __init__(self, on_gap: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(capacity=CAPACITY, is_video=True)
        self._on_gap, self._clock = on_gap, clock
        self._blocked_since: float | None = None
        # The sequence number that starts a frame when it is the origin: the one after a frame
        # that left whole, or after a cut one. None at first; after a reset or an overflow it is
        # left as it was, which no longer matches the origin (but by a 1-in-65,536 chance): the
        # frame at the origin then leaves when the next one starts, as in aiortc.
        self._frame_start: int | None = None
        self.gaps_skipped = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli, frame = super().add(packet)
        gap = None if frame is not None else self._gap(packet.sequence_number)
        if gap is None:
            self._blocked_since = None
            return pli, frame
        now = self._clock()
        if self._blocked_since is None:
            self._blocked_since = now
        if now - self._blocked_since < MAX_GAP_WAIT:
            return pli, None
        self._frame_start = self._drop_through(gap)
        self._blocked_since = None
        self.gaps_skipped += 1
        self._on_gap()
        return True, self._remove_frame(packet.sequence_number)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        frame = self._complete_frame()
        if frame is None:
            frame = super()._remove_frame(sequence_number)
        if frame is not None:
            self._frame_start = self._origin  # right after a whole frame
        return frame

    def _complete_frame(self) -> JitterFrame | None:
        """The frame at the origin, removed, if its marker packet and all before it are in."""
        origin = self._origin
        if origin is None or origin != self._frame_start:
            return None
        first = self._packets[origin % self._capacity]
        if first is None:
            return None
        for count in range(self._capacity):
            packet = self._packets[(origin + count) % self._capacity]
            if packet is None or packet.timestamp != first.timestamp:
                return None  # a packet is missing, or a frame without a marker: aiortc's way
            if packet.marker:
                data = b"".join([self._packets[(origin + i) % self._capacity]._data  # type: ignore
                                 for i in range(count + 1)])
                self.remove(count + 1)
                return JitterFrame(data=data, timestamp=first.timestamp)
        return None

    def _drop_through(self, gap: int) -> int | None:
        """Drop what precedes the gap (the start of the frame it cut), the gap, and what follows
        up to the next frame's first packet. Viewers then wait for a keyframe anyway.
        Returns the new origin if it is known to start a frame."""
        assert self._origin is not None
        self.remove(gap + 1)
        cut = None
        for _ in range(self._capacity):
            packet = self._packets[self._origin % self._capacity]
            if packet is None and cut is None:
                self.remove(1)  # more of the gap
                continue
            if packet is None:
                return None  # the rest of the cut frame or the next one's start: unknown
            if cut is not None and packet.timestamp != cut:
                return self._origin  # follows the cut frame's last packet
            cut = packet.timestamp
            self.remove(1)
        return None

    def _gap(self, newest: int) -> int | None:
        """How far after the origin the first missing packet is, if one is missing before
        `newest` (a packet that arrived: the buffer waits for what came before it)."""
        if self._origin is None:
            return None
        ahead = uint16_add(newest, -self._origin)
        if ahead >= 0x8000:
            return None  # behind the origin (a duplicate of a packet gone out): nothing waits on it
        span = min(ahead, self._capacity)
        for offset in range(span):
            if self._packets[(self._origin + offset) % self._capacity] is None:
                return offset
        return None


class ImmediateAudioBuffer(JitterBuffer):
    """Opus sends one frame per packet: each packet leaves as it arrives, none is held.

    aiortc's audio buffer holds four packets (80 ms), and after a loss it stays 15 packets behind
    for good (300 ms: it releases one frame per packet that arrives). A packet older than one
    already released is dropped: viewers get the relay's own sequence numbers, so a late one would
    reach them as new; the viewer's decoder conceals a lost packet. Retransmission is not
    negotiated for audio, so a waiting buffer had nothing to wait for.
    """

    def __init__(self) -> None:
        super().__init__(capacity=16)
        self._next: int | None = None
        self.late_dropped = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._next is not None:
            behind = uint16_add(self._next, -seq)
            if 0 < behind <= MAX_MISORDER:  # late or a duplicate; further back: a restart
                self.late_dropped += 1
                return False, None
        self._next = uint16_add(seq, 1)
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore


def studio_buffer(kind: str, on_video_gap: Callable[[], None]) -> JitterBuffer:
    """The reassembly buffer for a studio's track of this kind."""
    return GapSkippingJitterBuffer(on_video_gap) if kind == "video" else ImmediateAudioBuffer()
