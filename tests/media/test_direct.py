"""A viewer's packets sent by the fan-out: the same bytes aiortc's sender would write, a history its
retransmissions can use, and the counters its reports read."""

from __future__ import annotations

import asyncio
import fractions
from types import SimpleNamespace
from typing import Any

import av
from aiortc import RTCRtpSender
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
from aiortc.rtp import RtpPacket
from aiortc.stats import RTCStatsReport

from live.media import internals
from live.media.direct import HISTORY_SIZE, DirectSender
from live.media.packing import SenderExtensionsMap, SharedPacker

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
EXTENSIONS = RTCRtpParameters(headerExtensions=[
    RTCRtpHeaderExtensionParameters(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
    RTCRtpHeaderExtensionParameters(
        id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")])


def frame(number: int, size: int) -> av.Packet[Any]:
    packet = av.Packet(bytes([number % 256]) * size)
    packet.pts, packet.time_base = number * 3000, fractions.Fraction(1, 90000)
    return packet


def viewer(state: State = State.CONNECTED) -> tuple[DirectSender, SimpleNamespace, list[bytes]]:
    """A DirectSender on stand-ins for a started sender, its DTLS transport and ICE pair."""
    sent: list[bytes] = []
    extensions = SenderExtensionsMap()
    extensions.configure(EXTENSIONS)
    pair = SimpleNamespace(protocol=SimpleNamespace(transport=SimpleNamespace(
        sendto=lambda data, address: sent.append(data))), remote_addr=("127.0.0.1", 9))
    dtls = SimpleNamespace(
        _state=state, _tx_srtp=SimpleNamespace(protect=lambda data: data),  # clear: comparable
        transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})),
        _RTCDtlsTransport__tx_bytes=0, _RTCDtlsTransport__tx_packets=0)

    async def send(parameters: Any) -> None:
        pass

    sender = SimpleNamespace(
        transport=dtls, _ssrc=1234, _enabled=True, send=send, _RTCRtpSender__mid="0",
        _RTCRtpSender__rtp_header_extensions_map=extensions, _RTCRtpSender__rtp_history={},
        _RTCRtpSender__packet_count=0, _RTCRtpSender__octet_count=0,
        _RTCRtpSender__ntp_timestamp=0, _RTCRtpSender__rtp_timestamp=0)
    direct = DirectSender(sender, SharedPacker(VP8))  # type: ignore[arg-type]
    asyncio.run(sender.send(SimpleNamespace(codecs=[VP8])))
    return direct, sender, sent


def test_a_frame_goes_out_as_aiortc_would_write_it_and_stays_in_the_history() -> None:
    direct, sender, sent = viewer()
    extensions = sender._RTCRtpSender__rtp_header_extensions_map
    assert direct.send_frame(frame(0, 3000)) and direct.send_frame(frame(1, 3000))
    assert len(sent) == 6  # 3 payloads per frame
    packets = [RtpPacket.parse(data, extensions) for data in sent]
    first = packets[0].sequence_number
    assert [p.sequence_number for p in packets] == [(first + n) & 0xFFFF for n in range(6)]
    assert [p.marker for p in packets] == [0, 0, 1, 0, 0, 1]
    assert {p.ssrc for p in packets} == {1234} and {p.payload_type for p in packets} == {96}
    assert packets[3].timestamp - packets[0].timestamp == 3000
    assert {p.extensions.mid for p in packets} == {"0"}
    assert all(p.extensions.abs_send_time is not None for p in packets)
    # A retransmission rebuilds the very bytes that were sent.
    history = sender._RTCRtpSender__rtp_history
    for packet, data in zip(packets, sent, strict=True):
        kept = history.get(packet.sequence_number % HISTORY_SIZE)
        assert kept.sequence_number == packet.sequence_number
        assert kept.serialize(extensions) == data
    # What RTCP sender reports and stats read.
    assert sender._RTCRtpSender__packet_count == 6
    assert sender._RTCRtpSender__octet_count == sum(len(p.payload) for p in packets)
    assert sender._RTCRtpSender__rtp_timestamp == packets[-1].timestamp
    assert sender._RTCRtpSender__ntp_timestamp > 0
    assert sender.transport._RTCDtlsTransport__tx_packets == 6
    assert sender.transport._RTCDtlsTransport__tx_bytes == sum(map(len, sent))


def test_the_history_keeps_the_last_128_packets() -> None:
    direct, sender, sent = viewer()
    for number in range(60):
        direct.send_frame(frame(number, 3000))
    history = sender._RTCRtpSender__rtp_history
    extensions = sender._RTCRtpSender__rtp_header_extensions_map
    newest = RtpPacket.parse(sent[-1], extensions).sequence_number
    oldest_kept = (newest - HISTORY_SIZE + 1) & 0xFFFF
    assert history.get(oldest_kept % HISTORY_SIZE).sequence_number == oldest_kept
    assert history.get((oldest_kept - 1) % HISTORY_SIZE).sequence_number != (oldest_kept - 1)


def test_nothing_is_sent_on_a_connection_that_is_not_up() -> None:
    direct, sender, sent = viewer(State.CLOSED)
    assert not direct.send_frame(frame(0, 100))
    assert sent == [] and sender._RTCRtpSender__packet_count == 0


def test_aiortc_s_own_sender_retransmits_from_the_history_and_counts_what_was_sent() -> None:
    """A real RTCRtpSender: its NACK handler (RTX) and stats read what the fan-out wrote."""

    async def scenario() -> None:
        sent: list[bytes] = []
        resent: list[bytes] = []

        async def send_rtp(data: bytes) -> None:
            resent.append(data)

        pair = SimpleNamespace(protocol=SimpleNamespace(transport=SimpleNamespace(
            sendto=lambda data, address: sent.append(data))), remote_addr=("127.0.0.1", 9))
        dtls = SimpleNamespace(
            state="connected", _state=State.CONNECTED, _send_rtp=send_rtp, _stats_id="t",
            _get_stats=lambda: RTCStatsReport(), _tx_srtp=SimpleNamespace(protect=lambda d: d),
            transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})),
            _RTCDtlsTransport__tx_bytes=0, _RTCDtlsTransport__tx_packets=0)
        sender = RTCRtpSender("video", dtls)  # type: ignore[arg-type]
        internals.lay_out_extensions_once(sender)
        extensions = getattr(sender, "_RTCRtpSender__rtp_header_extensions_map")  # noqa: B009
        extensions.configure(EXTENSIONS)
        setattr(sender, "_RTCRtpSender__mid", "1")  # noqa: B010 (what send() would set)
        setattr(sender, "_RTCRtpSender__rtx_payload_type", 97)  # noqa: B010
        direct = DirectSender(sender, SharedPacker(VP8))
        direct._started(VP8)  # what the wrapped send() does once aiortc's has run
        assert direct.send_frame(frame(0, 3000))
        original = RtpPacket.parse(sent[1], extensions)
        await sender._retransmit(original.sequence_number)
        rtx = RtpPacket.parse(resent[0], extensions)
        assert (rtx.payload_type, rtx.ssrc) == (97, sender._rtx_ssrc)
        assert rtx.payload == original.sequence_number.to_bytes(2, "big") + original.payload
        assert rtx.timestamp == original.timestamp and rtx.extensions.mid == "1"
        stats = [s for s in (await sender.getStats()).values() if s.type == "outbound-rtp"]
        assert (stats[0].packetsSent, stats[0].ssrc) == (3, sender._ssrc)
        assert stats[0].bytesSent == sum(len(RtpPacket.parse(d, extensions).payload) for d in sent)

    asyncio.run(scenario())
