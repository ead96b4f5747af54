"""The feed protocol between relay workers: a session's encoded frames, origin to edge, over TCP.

Every message is `length (u32) | type (u8) | payload`, big-endian, the length counting the payload
only. The handshake authenticates both ends with the feed key (derived from the service secret,
which every worker is given):

    server → CHALLENGE  Ns (16 random bytes)
    client → REQUEST    Nc (16 random bytes) | HMAC(key, "request" Ns Nc body) | body
    server → ACCEPT     HMAC(key, "accept" Ns Nc request-MAC)

The body is a small JSON object naming the operation. The server refuses a request whose MAC is
wrong (another secret, or a request recorded on another connection: Ns differs each time); the
client refuses a server whose ACCEPT is wrong (it cannot have the key: Nc differs each time), and
reads nothing else from it. A feed port reachable from other machines serves nobody without the
secret, and an edge cannot be fed a forged stream by whoever answers at an origin's address.

Then every message, both ways, ends with a 32-byte HMAC-SHA256 of its sequence number (u64,
counted by both ends from 0, never sent), its header and its payload, under a key of its direction
derived from both nonces (`Channel`). A message forged, altered, replayed, reordered, dropped or
reflected back to its sender fails that check; the connection is then closed.

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
CHALLENGE_BYTES = 16  # each end's nonce
MAC_BYTES = 32  # HMAC-SHA256
SEQUENCE = struct.Struct("!Q")
HANDSHAKE_TIMEOUT = 5.0

CHALLENGE, REQUEST, CODECS, OFF, FRAME, KEYFRAME, VIEWERS, REPLY, ACCEPT = range(1, 10)
HANDSHAKE = frozenset({CHALLENGE, REQUEST, ACCEPT})  # unauthenticated by a trailing MAC
KINDS = ("video", "audio")
KEYFRAME_FLAG = 1


class FeedError(Exception):
    """The peer broke the protocol: close this connection."""


def feed_key(secret: str) -> bytes:
    # A key of its own: the raw secret also signs links, and one key should have one use.
    return hashlib.sha256(("tribune-feed:" + secret).encode()).digest()


def pack(kind: int, payload: bytes = b"") -> bytes:
    """A handshake message (the others are sealed by a `Channel`)."""
    return HEADER.pack(len(payload), kind) + payload


def handshake_mac(key: bytes, label: bytes, *parts: bytes) -> bytes:
    return hmac.new(key, label + b"\0" + b"".join(parts), hashlib.sha256).digest()


def direction_keys(key: bytes, server_nonce: bytes, client_nonce: bytes) -> tuple[bytes, bytes]:
    """(client to server, server to client): a key per connection and direction, so that no
    message is valid on another connection, nor sent back to the end that wrote it."""
    nonces = server_nonce + client_nonce
    return (handshake_mac(key, b"client-to-server", nonces),
            handshake_mac(key, b"server-to-client", nonces))


class Channel:
    """One feed connection after its handshake: every message sent carries a MAC of its sequence
    number, header and payload; every message read is checked before it is returned.

    Sending is synchronous (the writer buffers), so sequence numbers follow the order on the wire
    whichever task sends; only one task reads.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 send_key: bytes, receive_key: bytes) -> None:
        self.reader, self.writer = reader, writer
        # Keyed once; each message copies the keyed state (cheaper than keying again).
        self._send_mac = hmac.new(send_key, digestmod=hashlib.sha256)
        self._receive_mac = hmac.new(receive_key, digestmod=hashlib.sha256)
        self.sent = self.received = 0

    @staticmethod
    def _tag(keyed: Any, sequence: int, parts: tuple[bytes, ...]) -> bytes:
        mac = keyed.copy()
        mac.update(SEQUENCE.pack(sequence))
        for part in parts:
            mac.update(part)
        digest: bytes = mac.digest()
        return digest

    def seal(self, kind: int, *payload: bytes) -> list[bytes]:
        """The next message as written: its header, the payload's parts (not copied), its MAC."""
        header = HEADER.pack(sum(len(part) for part in payload), kind)
        parts = (header, *payload)
        tag = self._tag(self._send_mac, self.sent, parts)
        self.sent += 1
        return [*parts, tag]

    def send(self, kind: int, payload: bytes = b"") -> None:
        self.writer.writelines(self.seal(kind, payload))

    def send_json(self, kind: int, value: Any) -> None:
        self.send(kind, json.dumps(value, separators=(",", ":")).encode())

    def send_frame(self, kind: str, keyframe: bool, timestamp: int, data: bytes) -> None:
        self.writer.writelines(self.seal(FRAME, FRAME_HEADER.pack(
            KINDS.index(kind), KEYFRAME_FLAG if keyframe else 0, timestamp), data))

    async def receive(self, limit: int = MAX_MESSAGE) -> tuple[int, bytes]:
        """The next message, authenticated; `asyncio.IncompleteReadError` when the peer closed."""
        header = await self.reader.readexactly(HEADER.size)
        length, kind = HEADER.unpack(header)
        if length > limit:
            raise FeedError(f"message of {length} bytes (limit {limit})")
        if kind in HANDSHAKE or not CHALLENGE <= kind <= ACCEPT:
            raise FeedError(f"unexpected message type {kind}")
        payload = await self.reader.readexactly(length)
        tag = await self.reader.readexactly(MAC_BYTES)
        if not hmac.compare_digest(tag, self._tag(self._receive_mac, self.received,
                                                  (header, payload))):
            raise FeedError(f"bad MAC on message {self.received} (forged, altered, replayed or "
                            "out of order)")
        self.received += 1
        return kind, payload

    def close(self) -> None:
        self.writer.close()


def unpack_frame(payload: bytes) -> tuple[str, bool, int, bytes]:
    if len(payload) < FRAME_HEADER.size:
        raise FeedError("short frame")
    kind, flags, timestamp = FRAME_HEADER.unpack_from(payload)
    if kind >= len(KINDS):
        raise FeedError(f"unknown media kind {kind}")
    return KINDS[kind], bool(flags & KEYFRAME_FLAG), timestamp, payload[FRAME_HEADER.size:]


async def read_message(reader: asyncio.StreamReader, limit: int = MAX_MESSAGE) -> tuple[int, bytes]:
    """One handshake message (no MAC of its own); `asyncio.IncompleteReadError` when the peer
    closed."""
    length, kind = HEADER.unpack(await reader.readexactly(HEADER.size))
    if length > limit:
        raise FeedError(f"message of {length} bytes (limit {limit})")
    if kind not in HANDSHAKE:
        raise FeedError(f"unexpected message type {kind} in the handshake")
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
                       ) -> Channel:
    """Connect to a feed server, check that it holds the key, and make `request`; the caller
    reads what follows on the channel and closes it."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    try:
        kind, server_nonce = await asyncio.wait_for(read_message(reader, CHALLENGE_BYTES), timeout)
        if kind != CHALLENGE or len(server_nonce) != CHALLENGE_BYTES:
            raise FeedError("no challenge")
        client_nonce = os.urandom(CHALLENGE_BYTES)
        body = json.dumps(request, separators=(",", ":")).encode()
        proof = handshake_mac(key, b"request", server_nonce, client_nonce, body)
        writer.write(pack(REQUEST, client_nonce + proof + body))
        kind, accept = await asyncio.wait_for(read_message(reader, MAC_BYTES), timeout)
        if kind != ACCEPT or not hmac.compare_digest(
                accept, handshake_mac(key, b"accept", server_nonce, client_nonce, proof)):
            raise FeedError("the server cannot prove the feed key (another secret?)")
    except BaseException:
        writer.close()
        raise
    to_server, to_client = direction_keys(key, server_nonce, client_nonce)
    return Channel(reader, writer, to_server, to_client)


async def call(address: str, key: bytes, request: dict[str, Any], timeout: float = 5.0
               ) -> dict[str, Any]:
    """A one-shot request: its REPLY."""
    channel = await open_request(address, key, request, timeout)
    try:
        kind, payload = await asyncio.wait_for(channel.receive(MAX_REQUEST), timeout)
        if kind != REPLY:
            raise FeedError(f"expected a reply, got type {kind}")
        return parse_json(payload)
    finally:
        channel.close()


async def accept_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: bytes
                         ) -> tuple[dict[str, Any], Channel]:
    """The server's side of the handshake: the client's authenticated request, and the channel
    to answer it on."""
    server_nonce = os.urandom(CHALLENGE_BYTES)
    writer.write(pack(CHALLENGE, server_nonce))
    kind, payload = await asyncio.wait_for(read_message(reader, MAX_REQUEST), HANDSHAKE_TIMEOUT)
    if kind != REQUEST or len(payload) < CHALLENGE_BYTES + MAC_BYTES:
        raise FeedError("expected an authenticated request")
    client_nonce, proof = payload[:CHALLENGE_BYTES], payload[CHALLENGE_BYTES:][:MAC_BYTES]
    body = payload[CHALLENGE_BYTES + MAC_BYTES:]
    if not hmac.compare_digest(proof, handshake_mac(key, b"request", server_nonce, client_nonce,
                                                    body)):
        raise FeedError("bad MAC (another secret?)")
    request = parse_json(body)
    if not isinstance(request.get("op"), str):
        raise FeedError("request without op")
    writer.write(pack(ACCEPT, handshake_mac(key, b"accept", server_nonce, client_nonce, proof)))
    to_server, to_client = direction_keys(key, server_nonce, client_nonce)
    return request, Channel(reader, writer, to_client, to_server)
