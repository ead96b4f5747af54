"""The interpretation bench's lean listeners (bench/lean_rtp.py) log the payload size aiortc's whole
path would: the same SRTP packets, protected with each profile aiortc can negotiate, are measured
from the clear header and parsed after unprotecting, and must agree; a stream only skips aiortc
once its first packets agreed and its player joined, and RTCP, STUN and padded packets never do."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

from bench.lean_rtp import CHECKED_PACKETS, TAG_BYTES, Lean, payload_size

# (the profile's name as OpenSSL reports it, libsrtp's constant, key + salt bytes)
PROFILES = [(b"SRTP_AEAD_AES_256_GCM", Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 32 + 12),
            (b"SRTP_AEAD_AES_128_GCM", Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 16 + 12),
            (b"SRTP_AES128_CM_SHA1_80", Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 16 + 14)]
SSRC = 0x1234ABCD


def sessions(profile: int, key_bytes: int) -> tuple[Session, Session]:
    key = bytes(range(key_bytes))
    return (Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)),
            Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile)))


def rtp(sequence: int, payload: bytes, *, csrcs: int = 0, extension: bytes = b"",
        marker: bool = False, payload_type: int = 111, padding: int = 0) -> bytes:
    """An RTP packet as a relay sends it, with what the header may carry besides."""
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension else 0) | csrcs
    data = struct.pack("!BBHII", first, (0x80 if marker else 0) | payload_type, sequence,
                       960 * sequence, SSRC)
    data += b"".join(struct.pack("!I", 1000 + k) for k in range(csrcs))
    if extension:
        data += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    data += payload
    if padding:
        data += bytes(padding - 1) + bytes([padding])
    return data


SHAPES: list[dict[str, Any]] = [dict(payload=b"\xf8\xff\xfe"),  # Opus silence: 3 bytes
          dict(payload=os.urandom(480), marker=True),  # a loud packet
          dict(payload=os.urandom(1100), payload_type=97, extension=b"\x10\x01\x00\x00"),
          dict(payload=os.urandom(200), csrcs=2, extension=bytes(8)),
          dict(payload=b"")]


@pytest.mark.parametrize(("name", "profile", "key_bytes"), PROFILES)
def test_the_size_read_from_the_clear_header_is_what_aiortc_parses(
        name: bytes, profile: int, key_bytes: int) -> None:
    sender, receiver = sessions(profile, key_bytes)
    for sequence, shape in enumerate(SHAPES, start=1):
        protected = sender.protect(rtp(sequence, **shape))
        parsed = RtpPacket.parse(receiver.unprotect(protected))
        assert payload_size(protected, TAG_BYTES[name]) == len(parsed.payload)
        assert len(parsed.payload) == len(shape["payload"])


def test_padded_rtcp_and_stun_datagrams_are_left_to_aiortc() -> None:
    sender, _ = sessions(Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30)
    assert payload_size(sender.protect(rtp(1, b"abc", padding=4)), 10) is None
    receiver_report = struct.pack("!BBHI", 0x80, 201, 1, SSRC)
    assert payload_size(receiver_report, 10) is None
    stun_binding = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + bytes(12)
    assert payload_size(stun_binding, 10) is None


@dataclass
class Log:
    rows: list[tuple[int, int]] = field(default_factory=list)

    def add(self, now: float, stamp: int, size: int, sequence: int = 0) -> None:
        self.rows.append((stamp, size))


def test_a_stream_skips_aiortc_once_checked_and_joined_and_logs_the_same_sizes() -> None:
    sender, receiver = sessions(Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 44)
    lean, log, connection = Lean(), Log(), 7
    sizes = [3, 480, 3, 320] * 10
    datagrams = [sender.protect(rtp(k, bytes(size))) for k, size in enumerate(sizes)]

    def aiortc_path(data: bytes) -> None:
        packet = RtpPacket.parse(receiver.unprotect(data))
        log.add(0.0, packet.timestamp, len(packet.payload))
        lean.learn(connection, 16, packet, log)

    for data in datagrams[:CHECKED_PACKETS + 2]:  # checked, but the player has not joined
        assert not lean.received(connection, data)
        aiortc_path(data)
    assert lean.compared == CHECKED_PACKETS + 2 and lean.mismatched == 0
    lean.enable(connection)
    assert not lean.received(connection + 1, datagrams[CHECKED_PACKETS + 2])  # another connection
    for data in datagrams[CHECKED_PACKETS + 2:]:
        assert lean.received(connection, data)
    assert lean.fast_packets == len(sizes) - CHECKED_PACKETS - 2
    assert log.rows == [(960 * k, size) for k, size in enumerate(sizes)]
    assert not lean.received(connection, struct.pack("!BBHI", 0x80, 200, 6, SSRC) + bytes(20))


def test_a_size_that_disagrees_is_counted_and_keeps_the_stream_on_aiortc() -> None:
    sender, receiver = sessions(Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30)
    lean, log, connection = Lean(), Log(), 3
    lean.enable(connection)
    for k in range(CHECKED_PACKETS + 5):
        data = sender.protect(rtp(k, bytes(100)))
        assert not lean.received(connection, data)
        lean.learn(connection, 16, RtpPacket.parse(receiver.unprotect(data)), log)  # wrong tag
    assert lean.mismatched == CHECKED_PACKETS + 5 and not lean.fast
