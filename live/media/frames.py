"""What the relay needs to know about an encoded frame without decoding it.

Frames arrive reassembled from RTP: VP8 frames as sent, H.264 access units in Annex-B (start codes),
Opus packets. The relay must know keyframes (a new viewer starts on one) and, for the studio's
readout, the picture size, which both VP8 keyframes and H.264 SPS carry in their headers.
"""

from __future__ import annotations

from dataclasses import dataclass

NAL_IDR, NAL_SPS, NAL_PPS = 5, 7, 8
_START = b"\x00\x00\x01"


@dataclass(frozen=True, slots=True)
class Size:
    width: int
    height: int


def vp8_is_keyframe(data: bytes) -> bool:
    # RFC 6386 9.1: the frame tag's lowest bit is 0 on a keyframe, followed by the start code.
    return len(data) >= 10 and data[0] & 1 == 0 and data[3:6] == b"\x9d\x01\x2a"


def vp8_size(data: bytes) -> Size | None:
    if not vp8_is_keyframe(data):
        return None
    return Size(int.from_bytes(data[6:8], "little") & 0x3FFF,
                int.from_bytes(data[8:10], "little") & 0x3FFF)


def h264_nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B access unit (3- or 4-byte start codes)."""
    units = []
    start = data.find(_START)
    while start != -1:
        begin = start + 3
        end = data.find(_START, begin)
        unit = data[begin:end if end != -1 else len(data)]
        if end != -1 and unit.endswith(b"\x00"):
            unit = unit[:-1]  # the leading zero of a 4-byte start code
        if unit:
            units.append(unit)
        start = end
    return units


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F


class H264ParameterSets:
    """Remembers the studio's latest SPS and PPS, to complete keyframes sent without them.

    Encoders may send SPS/PPS once, before the first IDR; a viewer who joins later could not decode
    the IDR it starts on without them.
    """

    def __init__(self) -> None:
        self.sps: bytes | None = None
        self.pps: bytes | None = None

    def complete(self, data: bytes) -> tuple[bytes, bool]:
        """The access unit (with SPS/PPS prepended to a bare IDR) and whether it is a keyframe."""
        units = h264_nal_units(data)
        types = {nal_type(u) for u in units}
        for unit in units:
            if nal_type(unit) == NAL_SPS:
                self.sps = unit
            elif nal_type(unit) == NAL_PPS:
                self.pps = unit
        if NAL_IDR not in types:
            return data, False
        if (NAL_SPS in types and NAL_PPS in types) or self.sps is None or self.pps is None:
            return data, True
        prefix = b"".join(b"\x00\x00\x00\x01" + u for u in (self.sps, self.pps))
        return prefix + data, True


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError past the end: the caller gives up
        self.pos += 1
        return (byte >> (7 - ((self.pos - 1) & 7))) & 1

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def h264_sps_size(sps: bytes) -> Size | None:
    """Picture size from an SPS NAL unit (ITU-T H.264 7.3.2.1.1), or None if it cannot tell."""
    rbsp = sps[1:].replace(b"\x00\x00\x03", b"\x00\x00")  # drop emulation prevention bytes
    try:
        bits = _Bits(rbsp)
        profile = bits.bits(8)
        bits.bits(16)  # constraint flags, level
        bits.ue()  # seq_parameter_set_id
        chroma_format = 1
        if profile in _HIGH_PROFILES:
            chroma_format = bits.ue()
            if chroma_format == 3:
                bits.bit()
            bits.ue(), bits.ue(), bits.bit()  # bit depths, transform bypass
            if bits.bit():
                return None  # scaling matrices: rare in live encoders, not worth parsing here
        bits.ue()  # log2_max_frame_num_minus4
        poc_type = bits.ue()
        if poc_type == 0:
            bits.ue()
        elif poc_type == 1:
            bits.bit(), bits.se(), bits.se()
            for _ in range(bits.ue()):
                bits.se()
        bits.ue(), bits.bit()  # max_num_ref_frames, gaps_in_frame_num_allowed
        width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
        frame_mbs_only = bits.bit()
        if not frame_mbs_only:
            bits.bit()
        bits.bit()  # direct_8x8_inference
        crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.bit() else (0, 0, 0, 0)
    except (IndexError, ValueError):
        return None
    crop_x = 1 if chroma_format == 3 else 2 if chroma_format else 1
    crop_y = (2 - frame_mbs_only) * (2 if chroma_format == 1 else 1)
    width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - crop_y * (crop[2] + crop[3])
    return Size(width, height) if width > 0 and height > 0 else None
