"""Keyframes and picture sizes read from encoded frames, checked against real encoders."""

from __future__ import annotations

import fractions

import av
import pytest

from live.media.frames import (
    NAL_IDR,
    NAL_PPS,
    NAL_SPS,
    H264ParameterSets,
    Size,
    h264_nal_units,
    h264_sps_size,
    nal_type,
    vp8_is_keyframe,
    vp8_size,
)


def encode(codec: str, width: int, height: int, count: int = 4) -> list[bytes]:
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = width, height, "yuv420p"
    context.time_base = fractions.Fraction(1, 30)
    context.gop_size = 250  # one keyframe, then deltas
    if codec == "libx264":
        context.options = {"profile": "baseline", "tune": "zerolatency"}
    packets = []
    for i in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane in frame.planes:  # a new frame's memory is not cleared: make it a fixed grey
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = i
        packets += context.encode(frame)
    packets += context.encode(None)
    return [bytes(p) for p in packets]


@pytest.mark.parametrize(("width", "height"), [(640, 480), (1280, 720), (322, 242)])
def test_vp8_keyframe_and_size(width: int, height: int) -> None:
    frames = encode("libvpx", width, height)
    assert vp8_is_keyframe(frames[0]) and vp8_size(frames[0]) == Size(width, height)
    assert not any(vp8_is_keyframe(f) for f in frames[1:])
    assert vp8_size(frames[1]) is None
    assert not vp8_is_keyframe(b"") and not vp8_is_keyframe(b"\x00\x01")


@pytest.mark.parametrize(("width", "height"), [(640, 480), (1280, 720), (1920, 1080), (322, 242)])
def test_h264_sps_gives_the_cropped_size(width: int, height: int) -> None:
    first = encode("libx264", width, height)[0]
    units = h264_nal_units(first)
    assert {NAL_SPS, NAL_PPS, NAL_IDR} <= {nal_type(u) for u in units}
    sps = next(u for u in units if nal_type(u) == NAL_SPS)
    assert h264_sps_size(sps) == Size(width, height)


def test_h264_sps_garbage_gives_none() -> None:
    assert h264_sps_size(b"\x67") is None
    assert h264_sps_size(b"\x67\x42\x00\x1f\x00\x00\x00\x00") is None


def test_a_bare_idr_gets_the_remembered_parameter_sets() -> None:
    frames = encode("libx264", 320, 240)
    units = h264_nal_units(frames[0])
    sps, pps = (next(u for u in units if nal_type(u) == t) for t in (NAL_SPS, NAL_PPS))
    idr_only = b"".join(b"\x00\x00\x00\x01" + u for u in units if nal_type(u) == NAL_IDR)
    sets = H264ParameterSets()
    assert sets.complete(idr_only) == (idr_only, True)  # nothing remembered yet: as it came
    data, key = sets.complete(frames[0])
    assert key and data == frames[0]
    data, key = sets.complete(idr_only)
    assert key and [nal_type(u) for u in h264_nal_units(data)][:2] == [NAL_SPS, NAL_PPS]
    assert h264_nal_units(data)[:2] == [sps, pps]
    assert sets.complete(frames[1]) == (frames[1], False)


def test_nal_units_split_on_both_start_code_lengths() -> None:
    data = b"\x00\x00\x00\x01\x67\xaa\x00\x00\x01\x68\xbb\x00\x00\x00\x01\x65\xcc\xdd"
    assert h264_nal_units(data) == [b"\x67\xaa", b"\x68\xbb", b"\x65\xcc\xdd"]
    assert h264_nal_units(b"no start code") == []
