"""What every viewer's sender would otherwise compute for itself, per packet: done once.

Each viewer's aiortc sender splits a forwarded frame into RTP payloads (`Encoder.pack`) and stamps
each packet with the wall clock in NTP form. With a frame shared by every viewer, the payloads are
the same for all of them (VP8's picture ID included, now one sequence per broadcast), so the
broadcast's packer splits each frame once and the senders take the result. aiortc's clock builds
two timezone-aware datetimes per packet for the NTP time; `ntp_time` reads the same clock
(CLOCK_REALTIME) as an integer.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import av
from aiortc.codecs import get_encoder
from aiortc.codecs.base import Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP's epoch) to 1970-01-01
# Frames: a viewer's track holds at most 50 (broadcast.QUEUE_LIMIT), then starts afresh.
REMEMBERED = 100


class SharedPacker(Encoder):
    """Stands in for every sender's encoder of one broadcast's track: packs each frame once."""

    def __init__(self, codec: RTCRtpCodecParameters) -> None:
        self._encoder = get_encoder(codec)
        # Keyed by the packet object's id; the packet is kept so that the id is not reused.
        self._packed: dict[int, tuple[av.Packet[Any], list[bytes], int]] = {}
        self._order: collections.deque[int] = collections.deque()
        self.packed = 0

    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        raise TypeError("a forwarding sender has encoded packets only")

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]:
        known = self._packed.get(id(packet))
        if known is not None and known[0] is packet:
            return known[1], known[2]
        payloads, timestamp = self._encoder.pack(packet)
        self.packed += 1
        self._packed[id(packet)] = (packet, payloads, timestamp)
        self._order.append(id(packet))
        if len(self._order) > REMEMBERED:
            del self._packed[self._order.popleft()]
        return payloads, timestamp


class NtpClock:
    """aiortc's clock module as the sender uses it, with a cheaper NTP time."""

    def __init__(self, original: Any) -> None:
        self.current_datetime = original.current_datetime
        self.original = original

    @staticmethod
    def current_ntp_time() -> int:
        seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
        return ((seconds + NTP_UNIX_OFFSET) << 32) | ((nanoseconds << 32) // 1_000_000_000)
