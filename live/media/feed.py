"""The feed protocol between relay workers: a session's encoded frames, origin to edge, over TCP.

Every message is `length (u32) | type (u8) | payload`, big-endian, the length counting the payload
only. A connection opens with the server's CHALLENGE (16 random bytes); the client answers with one
REQUEST, `HMAC-SHA256(key, challenge + body) | body`, the body a small JSON object naming the
operation. The key is derived from the service secret, which every worker already shares, so a
feed port reachable from other machines serves nobody without it, and a recorded request cannot be
replayed (the challenge differs each time).

After a `subscribe` request the server streams CODECS (JSON, whenever a studio goes on air),
FRAME (binary: kind, flags, timestamp, the frame's bytes: no per-frame JSON) and OFF (the studio
left; the server then closes). The edge sends KEYFRAME (a request, already coalesced) and VIEWERS
(its viewer count, for the readout). One-shot requests (`resource`, `release`, `stats`) get one
REPLY (JSON) and the connection ends.

Anything unexpected (a wrong MAC, an unknown type, a length over MAX_MESSAGE, bad JSON) raises
`FeedError`; the caller closes that connection and logs it, and the worker carries on.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import struct
from typing import Any

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

HEADER = struct.Struct("!IB")
FRAME_HEADER = struct.Struct("!BBq")  # kind, flags, timestamp (the origin's output timeline)
COUNT = struct.Struct("!I")
MAX_MESSAGE = 4 * 1024 * 1024  # a large keyframe is a few hundred KB; more is not a frame
MAX_REQUEST = 64 * 1024  # a request carries at most a trickle fragment (32 KB max, base64)
CHALLENGE_BYTES = 16
HANDSHAKE_TIMEOUT = 5.0

CHALLENGE, REQUEST, CODECS, OFF, FRAME, KEYFRAME, VIEWERS, REPLY = range(1, 9)
KINDS = ("video", "audio")
KEYFRAME_FLAG = 1


class FeedError(Exception):
    """The peer broke the protocol: close this connection."""


def feed_key(secret: str) -> bytes:
    # A key of its own: the raw secret also signs links, and one key should have one use.
    return hashlib.sha256(("tribune-feed:" + secret).encode()).digest()


def pack(kind: int, payload: bytes = b"") -> bytes:
    return HEADER.pack(len(payload), kind) + payload


def pack_json(kind: int, value: Any) -> bytes:
    return pack(kind, json.dumps(value, separators=(",", ":")).encode())


def frame_header(kind: str, keyframe: bool, timestamp: int, size: int) -> bytes:
    """The header of a FRAME message; the frame's bytes follow it (written without copying)."""
    return HEADER.pack(FRAME_HEADER.size + size, FRAME) + FRAME_HEADER.pack(
        KINDS.index(kind), KEYFRAME_FLAG if keyframe else 0, timestamp)


def unpack_frame(payload: bytes) -> tuple[str, bool, int, bytes]:
    if len(payload) < FRAME_HEADER.size:
        raise FeedError("short frame")
    kind, flags, timestamp = FRAME_HEADER.unpack_from(payload)
    if kind >= len(KINDS):
        raise FeedError(f"unknown media kind {kind}")
    return KINDS[kind], bool(flags & KEYFRAME_FLAG), timestamp, payload[FRAME_HEADER.size:]


async def read_message(reader: asyncio.StreamReader, limit: int = MAX_MESSAGE) -> tuple[int, bytes]:
    """One message; `asyncio.IncompleteReadError` when the peer closed."""
    length, kind = HEADER.unpack(await reader.readexactly(HEADER.size))
    if length > limit:
        raise FeedError(f"message of {length} bytes (limit {limit})")
    if not CHALLENGE <= kind <= REPLY:
        raise FeedError(f"unknown message type {kind}")
    return kind, await reader.readexactly(length)


def parse_json(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise FeedError("bad JSON") from None
    if not isinstance(value, dict):
        raise FeedError("JSON is not an object")
    return value


def codecs_to_json(codecs: dict[str, RTCRtpCodecParameters]) -> dict[str, Any]:
    return {kind: {"mimeType": c.mimeType, "clockRate": c.clockRate, "channels": c.channels,
                   "payloadType": c.payloadType, "parameters": dict(c.parameters)}
            for kind, c in codecs.items()}


def codecs_from_json(value: Any) -> dict[str, RTCRtpCodecParameters]:
    if not isinstance(value, dict):
        raise FeedError("codecs are not an object")
    try:
        return {kind: RTCRtpCodecParameters(
            mimeType=str(c["mimeType"]), clockRate=int(c["clockRate"]),
            channels=None if c.get("channels") is None else int(c["channels"]),
            payloadType=None if c.get("payloadType") is None else int(c["payloadType"]),
            parameters={str(k): v for k, v in dict(c.get("parameters", {})).items()})
            for kind, c in value.items() if kind in KINDS}
    except (KeyError, TypeError, ValueError):
        raise FeedError("bad codec description") from None


async def open_request(address: str, key: bytes, request: dict[str, Any], timeout: float = 5.0
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to a feed server and make `request`; the caller reads what follows and closes."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    try:
        kind, challenge = await asyncio.wait_for(read_message(reader, CHALLENGE_BYTES), timeout)
        if kind != CHALLENGE:
            raise FeedError("no challenge")
        body = json.dumps(request, separators=(",", ":")).encode()
        writer.write(pack(REQUEST, hmac.new(key, challenge + body, hashlib.sha256).digest() + body))
        await writer.drain()
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def call(address: str, key: bytes, request: dict[str, Any], timeout: float = 5.0
               ) -> dict[str, Any]:
    """A one-shot request: its REPLY."""
    reader, writer = await open_request(address, key, request, timeout)
    try:
        kind, payload = await asyncio.wait_for(read_message(reader, MAX_REQUEST), timeout)
        if kind != REPLY:
            raise FeedError(f"expected a reply, got type {kind}")
        return parse_json(payload)
    finally:
        writer.close()


async def accept_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: bytes
                         ) -> dict[str, Any]:
    """The server's side of the handshake: the client's authenticated request."""
    challenge = os.urandom(CHALLENGE_BYTES)
    writer.write(pack(CHALLENGE, challenge))
    kind, payload = await asyncio.wait_for(read_message(reader, MAX_REQUEST), HANDSHAKE_TIMEOUT)
    if kind != REQUEST or len(payload) < 32:
        raise FeedError("expected an authenticated request")
    mac, body = payload[:32], payload[32:]
    if not hmac.compare_digest(mac, hmac.new(key, challenge + body, hashlib.sha256).digest()):
        raise FeedError("bad MAC (another secret?)")
    request = parse_json(body)
    if not isinstance(request.get("op"), str):
        raise FeedError("request without op")
    return request
