"""What every viewer's sender would otherwise compute for itself, per packet: done once.

Each viewer's aiortc sender splits a forwarded frame into RTP payloads (`Encoder.pack`) and stamps
each packet with the wall clock in NTP form. With a frame shared by every viewer, the payloads are
the same for all of them (VP8's picture ID included, now one sequence per broadcast), so the
broadcast's packer splits each frame once and the senders take the result. aiortc's clock builds
two timezone-aware datetimes per packet for the NTP time; `NtpClock` reads the same clock
(CLOCK_REALTIME) as an integer. And a sender's header extensions are the same on every packet but
for the send time: `SenderExtensionsMap` lays them out once per sender rather than per packet.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import av
from aiortc.codecs import get_encoder
from aiortc.codecs.base import Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap

IDS = "_HeaderExtensionsMap__ids"  # the extension ids negotiated, private to aiortc
ONE_BYTE_PROFILE = 0xBEDE  # RFC 8285: ids 1-14, values of 1-16 bytes
NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP's epoch) to 1970-01-01
# Frames remembered: more than a viewer's track holds (broadcast.QUEUE_LIMIT: 30 video, 50 audio).
REMEMBERED = 100


class SharedPacker(Encoder):
    """Stands in for every sender's encoder of one broadcast's track: packs each frame once."""

    def __init__(self, codec: RTCRtpCodecParameters) -> None:
        self._encoder = get_encoder(codec)
        # Keyed by the packet object's id; the packet is kept so that the id is not reused.
        self._packed: dict[int, tuple[av.Packet[Any], list[bytes], int]] = {}
        self._order: collections.deque[int] = collections.deque()
        self.packed = 0

    def forget(self) -> None:
        """Let go of the frames remembered (the studio left: up to REMEMBERED frames' payloads
        would otherwise stay until the next one goes on air)."""
        self._packed.clear()
        self._order.clear()

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

    def __getattr__(self, name: str) -> Any:
        # Whatever else a later aiortc reads of its clock: its own, rather than an AttributeError
        # in every viewer's sender loop.
        return getattr(self.original, name)

    @staticmethod
    def current_ntp_time() -> int:
        seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
        return ((seconds + NTP_UNIX_OFFSET) << 32) | ((nanoseconds << 32) // 1_000_000_000)


class SenderExtensionsMap(HeaderExtensionsMap):
    """aiortc's map, with the common case of a forwarding sender laid out in advance: the MID
    (the same on every packet) and the absolute send time, in the one-byte form aiortc would
    choose for them. Anything else (an RTX packet's stream id, an audio level) takes aiortc's way.
    """

    def __init__(self) -> None:
        super().__init__()
        self._mid: str | None = None
        self._prefix = self._pad = b""

    def configure(self, parameters: RTCRtpParameters) -> None:
        super().configure(parameters)
        self._mid = None  # laid out again on the next packet

    def set(self, values: HeaderExtensions) -> tuple[int, bytes]:
        if (values.mid is None or values.abs_send_time is None or values.audio_level is not None
                or values.rtp_stream_id is not None or values.repaired_rtp_stream_id is not None
                or values.transmission_offset is not None
                or values.transport_sequence_number is not None):
            return super().set(values)
        if values.mid != self._mid:
            self._lay_out(values.mid)
        if not self._prefix:
            return super().set(values)
        # The MID's element, the send time's header byte, its 3 bytes, 0-3 bytes of padding.
        return ONE_BYTE_PROFILE, self._prefix + values.abs_send_time.to_bytes(3, "big") + self._pad

    def _lay_out(self, mid: str) -> None:
        ids: HeaderExtensions = getattr(self, IDS)
        encoded = mid.encode("utf8")
        self._mid, self._prefix = mid, b""
        if not (ids.mid and ids.abs_send_time and ids.mid <= 14 and ids.abs_send_time <= 14
                and 1 <= len(encoded) <= 16):
            return  # not the one-byte form: aiortc's way
        self._prefix = (bytes([(ids.mid << 4) | (len(encoded) - 1)]) + encoded
                        + bytes([(ids.abs_send_time << 4) | 2]))
        self._pad = b"\x00" * (-(len(self._prefix) + 3) % 4)
