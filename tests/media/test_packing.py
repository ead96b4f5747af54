"""Frames packed once for every viewer, and the senders' NTP clock."""

from __future__ import annotations

import fractions
from typing import Any

import av
from aiortc import clock
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media.packing import REMEMBERED, NtpClock, SharedPacker

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
