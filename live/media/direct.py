"""A viewer's RTP packets sent from the broadcast's fan-out, not from the sender's own task.

aiortc's sender reads its track in a task of its own: for each frame forwarded to N viewers, N tasks
wake up, and each packet goes through an `RtpPacket` object, its serialisation, then three
coroutines (DTLS transport, ICE transport, aioice's connection and protocol) before `sendto`. With
the frame already packed once for all (live/media/packing.py), that machinery is most of a
viewer's cost. `DirectSender` does the same work inline, in the broadcast's loop over its viewers:
the header from a struct, SRTP with the DTLS transport's own session, and `sendto` on the selected
ICE pair's socket, as aioice would.

What aiortc's sender keeps doing, from what this writes where it reads it:
- NACKs are answered by its `_retransmit`, from a history (`PacketHistory`) that holds each sent
  packet's fields and builds the `RtpPacket` only when one is asked for;
- its RTCP sender reports and `getStats` read the packet and octet counts and the last RTP/NTP
  times, updated once per frame;
- its RTP task still runs, waiting on the track, and ends with it as before.
"""

from __future__ import annotations

import struct
from typing import Any

from aiortc import RTCRtpSender
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtp import HeaderExtensions, RtpPacket
from aiortc.utils import random16, random32

from live.media.packing import NtpClock, SharedPacker

HISTORY_SIZE = 128  # aiortc.rtcrtpsender.RTP_HISTORY_SIZE: NACKs index the history modulo this
HEADER = struct.Struct("!BBHLL")  # version/flags, marker/payload type, sequence, timestamp, SSRC
EXTENSION_HEADER = struct.Struct("!HH")  # profile, length in 32-bit words
VERSION_2, WITH_EXTENSION, MARKER = 0x80, 0x10, 0x80

# The sender's and its DTLS transport's private fields this module keeps up to date.
SENDER_FIELDS = ("_RTCRtpSender__rtp_history", "_RTCRtpSender__mid",
                 "_RTCRtpSender__rtp_header_extensions_map", "_RTCRtpSender__packet_count",
                 "_RTCRtpSender__octet_count", "_RTCRtpSender__ntp_timestamp",
                 "_RTCRtpSender__rtp_timestamp")
TRANSPORT_FIELDS = ("_RTCDtlsTransport__tx_bytes", "_RTCDtlsTransport__tx_packets")


class PacketHistory:
    """Stands in for the sender's RTP history (a dict from sequence number modulo 128 to packet):
    holds each sent packet's fields, and builds the packet only for a retransmission."""

    __slots__ = ("mid", "payload_type", "slots", "ssrc")

    def __init__(self, payload_type: int, ssrc: int, mid: str | None) -> None:
        self.slots: list[tuple[Any, ...] | None] = [None] * HISTORY_SIZE
        self.payload_type, self.ssrc, self.mid = payload_type, ssrc, mid

    def get(self, index: int) -> RtpPacket | None:
        entry = self.slots[index]
        if entry is None or isinstance(entry[0], RtpPacket):
            return entry[0] if entry is not None else None
        sequence, timestamp, marker, payload, send_time = entry
        packet = RtpPacket(payload_type=self.payload_type, marker=marker,
                           sequence_number=sequence, timestamp=timestamp, ssrc=self.ssrc,
                           payload=payload)
        packet.extensions.mid = self.mid
        packet.extensions.abs_send_time = send_time
        return packet

    def __setitem__(self, index: int, packet: RtpPacket) -> None:
        """aiortc's own loop storing a packet (it sends nothing while this module does)."""
        self.slots[index] = (packet,)


class DirectSender:
    """Sends one viewer's packets for its `RTCRtpSender`, once aiortc has started it."""

    def __init__(self, sender: RTCRtpSender, packer: SharedPacker | None) -> None:
        self.sender = sender
        self.packer = packer
        self.payload_type: int | None = None  # known when the sender starts
        self.sequence = random16()
        self.timestamp_origin = random32()
        self.history: PacketHistory | None = None
        self.sent = 0
        original_send = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            started = self.payload_type is not None
            await original_send(parameters)
            if not started:
                self._started(parameters.codecs[0])

        sender.send = send  # type: ignore[method-assign]

    def _started(self, codec: RTCRtpCodecParameters) -> None:
        payload_type = codec.payloadType
        if payload_type is None:  # never so once negotiated
            return
        if self.packer is None:
            self.packer = SharedPacker(codec)
        self.history = PacketHistory(payload_type, int(self.sender._ssrc or 0),
                                     getattr(self.sender, SENDER_FIELDS[1]))
        setattr(self.sender, SENDER_FIELDS[0], self.history)
        self.payload_type = payload_type

    def send_frame(self, packet: Any) -> bool:
        """Send a forwarded frame's packets; False if the connection cannot carry them (not up
        yet, or closed): the caller then waits for a keyframe again."""
        sender, history, payload_type = self.sender, self.history, self.payload_type
        dtls = sender.transport
        if history is None or payload_type is None or dtls._state is not State.CONNECTED:
            return False
        if not sender._enabled:
            return True  # aiortc drops a disabled sender's frames too
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        assert self.packer is not None
        payloads, frame_timestamp = self.packer.pack(packet)
        if not payloads:
            return True
        timestamp = (self.timestamp_origin + frame_timestamp) & 0xFFFFFFFF
        ntp_time = NtpClock.current_ntp_time()
        send_time = (ntp_time >> 14) & 0xFFFFFF
        profile, extensions = getattr(sender, SENDER_FIELDS[2]).set(
            HeaderExtensions(mid=history.mid, abs_send_time=send_time))
        first = VERSION_2
        if extensions:
            first |= WITH_EXTENSION
            extensions = EXTENSION_HEADER.pack(profile, len(extensions) >> 2) + extensions
        protect, sendto, address = dtls._tx_srtp.protect, pair.protocol.transport.sendto, \
            pair.remote_addr
        pack, slots, ssrc = HEADER.pack, history.slots, history.ssrc
        sequence, last, octets, protected_bytes = self.sequence, len(payloads) - 1, 0, 0
        for i, payload in enumerate(payloads):
            marker = 1 if i == last else 0
            data = protect(pack(first, payload_type | (MARKER if marker else 0), sequence,
                                timestamp, ssrc) + extensions + payload)
            sendto(data, address)
            slots[sequence % HISTORY_SIZE] = (sequence, timestamp, marker, payload, send_time)
            sequence = (sequence + 1) & 0xFFFF
            octets += len(payload)
            protected_bytes += len(data)
        self.sequence = sequence
        count = last + 1
        self.sent += count
        # What the sender's RTCP reports and stats read, as its own loop would have left them.
        _add(sender, SENDER_FIELDS[3], count)
        _add(sender, SENDER_FIELDS[4], octets)
        setattr(sender, SENDER_FIELDS[5], ntp_time)
        setattr(sender, SENDER_FIELDS[6], timestamp)
        _add(dtls, TRANSPORT_FIELDS[0], protected_bytes)
        _add(dtls, TRANSPORT_FIELDS[1], count)
        return True


def _add(owner: object, name: str, value: int) -> None:
    setattr(owner, name, getattr(owner, name) + value)
