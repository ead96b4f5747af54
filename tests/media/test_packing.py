"""Frames packed once for every viewer, and the senders' NTP clock."""

from __future__ import annotations

import fractions
from typing import Any

import av
from aiortc import clock
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

from live.media.packing import REMEMBERED, NtpClock, SenderExtensionsMap, SharedPacker

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)


def frame(number: int, size: int = 3000) -> av.Packet[Any]:
    packet = av.Packet(bytes([number % 256]) * size)
    packet.pts, packet.time_base = number * 3000, fractions.Fraction(1, 90000)
    return packet


def test_each_frame_is_packed_once_whatever_the_number_of_viewers() -> None:
    packer = SharedPacker(VP8)
    own = get_encoder(VP8)  # what one viewer's sender packed before
    own.picture_id = packer._encoder.picture_id  # type: ignore[attr-defined]  # random start
    for number in range(5):
        packet = frame(number)
        expected = own.pack(packet)
        for _viewer in range(3):
            assert packer.pack(packet) == expected  # VP8 picture IDs go on frame by frame
    assert packer.packed == 5


def test_a_frame_is_remembered_while_a_viewer_may_still_be_behind_on_it() -> None:
    packer = SharedPacker(VP8)
    packets = [frame(n, 100) for n in range(REMEMBERED + 1)]
    for packet in packets:
        packer.pack(packet)
    packer.pack(packets[1])
    assert packer.packed == REMEMBERED + 1
    packer.pack(packets[0])  # forgotten: packed again rather than lost
    assert packer.packed == REMEMBERED + 2


def test_the_ntp_clock_reads_the_time_aiortc_would() -> None:
    before = clock.current_ntp_time()
    ours = NtpClock.current_ntp_time()
    after = clock.current_ntp_time()
    assert before - 2**32 // 1000 <= ours <= after + 2**32 // 1000  # within a millisecond


def test_a_senders_header_extensions_are_those_aiortc_would_write() -> None:
    parameters = RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(
            id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
        RTCRtpHeaderExtensionParameters(
            id=10, uri="urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id")])
    theirs, ours = HeaderExtensionsMap(), SenderExtensionsMap()
    theirs.configure(parameters)
    ours.configure(parameters)
    for mid in ("0", "1", "video", "a" * 16, "a" * 17):
        for send_time in (0, 1, 0x123456, 0xFFFFFF):
            values = HeaderExtensions(mid=mid, abs_send_time=send_time)
            assert ours.set(values) == theirs.set(values)
    retransmitted = HeaderExtensions(mid="1", abs_send_time=5, repaired_rtp_stream_id="r")
    assert ours.set(retransmitted) == theirs.set(retransmitted)
    packet = RtpPacket(payload_type=96, sequence_number=7, timestamp=9)
    packet.extensions = HeaderExtensions(mid="1", abs_send_time=77)
    assert RtpPacket.parse(packet.serialize(ours), theirs).extensions == packet.extensions


def test_a_packer_forgets_its_frames_when_the_studio_leaves() -> None:
    packer = SharedPacker(VP8)
    packet = frame(1)
    packer.pack(packet)
    packer.forget()
    assert not packer._packed and not packer._order  # the frames' payloads are let go
    packer.pack(packet)  # and it packs on as before
    assert packer.packed == 2
