"""The studio's video jitter buffer, which skips a gap instead of waiting for it to overflow.

aiortc's buffer reassembles frames in sequence order and holds everything behind a missing packet
until its 512-slot ring overflows: at 1 Mbps, a packet lost twice (the original and its NACKed
retransmission) froze the broadcast for every viewer for 3-4 s (bench/relay.py). Here, once the
oldest packet waiting has waited MAX_GAP_WAIT for the gap before it, the gap and the incomplete
frame after it are dropped, a keyframe is asked for, and viewers wait for it rather than decode
frames that reference what was lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
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
        self._drop_through(gap)
        self._blocked_since = None
        self.gaps_skipped += 1
        self._on_gap()
        return True, self._remove_frame(packet.sequence_number)

    def _drop_through(self, gap: int) -> None:
        """Drop what precedes the gap (the start of the frame it cut), the gap, and what follows
        up to the next frame's first packet. Viewers then wait for a keyframe anyway."""
        assert self._origin is not None
        self.remove(gap + 1)
        cut = None
        for _ in range(self._capacity):
            packet = self._packets[self._origin % self._capacity]
            if packet is None and cut is None:
                self.remove(1)  # more of the gap
                continue
            if packet is None or (cut is not None and packet.timestamp != cut):
                return
            cut = packet.timestamp
            self.remove(1)

    def _gap(self, newest: int) -> int | None:
        """How far after the origin the first missing packet is, if one is missing before
        `newest` (a packet that arrived: the buffer waits for what came before it)."""
        if self._origin is None:
            return None
        span = min(uint16_add(newest, -self._origin), self._capacity)
        for offset in range(span):
            if self._packets[(self._origin + offset) % self._capacity] is None:
                return offset
        return None
