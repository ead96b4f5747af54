"""A lean WebSocket client for the interaction bench's participants (RFC 6455, text frames only).

Thousands of participants live in a few client processes; with the `websockets` client and a
`json.loads` of every frame they took up to ~45 % of a 2-core machine in a vote burst, which then
measured the load generators as much as the server. This client is an `asyncio.Protocol`: a
hand-written HTTP Upgrade (the 101 and Sec-WebSocket-Accept checked), masked client frames (one
random mask per connection, XORed as one big integer), and a frame reader that handles 16/64-bit
lengths, fragmented messages, ping (answered with a pong) and close. It decodes JSON only for the
frames the bench reads: Ack and Error (replies to its commands), and QuestionAsked (timed questions);
a Snapshot is recognised by its first bytes, and every other frame is only counted.

The server encodes every message as compact JSON whose first key is `type` (`live.protocol.encode`,
events serialised with `type` first), so a frame's kind is in its first bytes: `{"type":"Ack"`.

The pure parts (`handshake_request`, `accept_key`, `encode_frame`, `mask`, `FrameReader`) are
tested in tests/test_bench_lean_ws.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from bench.interaction_peer import Json, parse_tag

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE = 2**20  # bytes: larger than any message the server sends (a Snapshot is the largest)
MAX_HEAD = 16_384  # bytes of HTTP response head before the Upgrade counts as failed

ACK, ERROR = b'{"type":"Ack"', b'{"type":"Error"'
QUESTION_ASKED, SNAPSHOT = b'{"type":"QuestionAsked"', b'{"type":"Snapshot"'


class ProtocolError(Exception):
    pass


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer to `key`."""
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def handshake_request(host: str, port: int, path: str, key: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()


def check_handshake(head: bytes, key: str) -> None:
    """Raise unless `head` (the response up to its blank line) accepts the Upgrade for `key`."""
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or status[1] != "101":
        raise ProtocolError(f"upgrade refused: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("sec-websocket-accept") != accept_key(key):
        raise ProtocolError("wrong Sec-WebSocket-Accept")


def mask(payload: bytes, key: bytes) -> bytes:
    """`payload` XORed with the 4-byte `key` repeated (its own inverse): one big-integer XOR, far
    cheaper in Python than a loop over the bytes."""
    n = len(payload)
    if not n:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def encode_frame(opcode: int, payload: bytes, key: bytes | None) -> bytes:
    """One final frame; masked with `key` (a client's frames must be), unmasked if None."""
    n = len(payload)
    mask_bit = 0x80 if key is not None else 0
    if n < 126:
        head = bytes((0x80 | opcode, mask_bit | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, mask_bit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, mask_bit | 127)) + n.to_bytes(8, "big")
    if key is None:
        return head + payload
    return head + key + mask(payload, key)


class FrameReader:
    """Server frames in, whole messages out: (opcode, payload), fragments joined; control frames
    (close, ping, pong) may arrive between the fragments of a message, as RFC 6455 allows."""

    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self.buffer = bytearray()
        self.max_message = max_message
        self.fragments: list[bytes] = []
        self.fragmented_opcode = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self.buffer
        buf += data
        messages: list[tuple[int, bytes]] = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            first, second = buf[pos], buf[pos + 1]
            if second & 0x80:
                raise ProtocolError("a server frame is masked")
            length, head = second & 0x7F, 2
            if length == 126:
                if end - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if length > self.max_message:
                raise ProtocolError(f"frame of {length} bytes")
            if end - pos < head + length:
                break
            payload = bytes(buf[pos + head:pos + head + length])
            pos += head + length
            fin, opcode = first & 0x80, first & 0x0F
            if opcode >= OP_CLOSE:  # control frames are never fragmented
                messages.append((opcode, payload))
            elif opcode == OP_CONT:
                if not self.fragments:
                    raise ProtocolError("continuation without a first fragment")
                self.fragments.append(payload)
                if fin:
                    messages.append((self.fragmented_opcode, b"".join(self.fragments)))
                    self.fragments = []
            elif self.fragments:
                raise ProtocolError("a new message inside a fragmented one")
            elif fin:
                messages.append((opcode, payload))
            else:
                self.fragmented_opcode, self.fragments = opcode, [payload]
        del buf[:pos]
        return messages


@dataclass
class FrameCount:
    """Text frames received by every peer of a client process (the messages the server delivered)."""

    frames: int = 0


class LeanPeer(asyncio.Protocol):
    """A participant: `open`, `command`, `close`, like `interaction_peer.Peer`, at a fraction of
    the CPU. `questions` times the tagged questions it receives (premoderation off)."""

    def __init__(self, url: str, token: str, count: FrameCount,
                 on_question: Callable[[int], None] | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.token = token
        self.count = count
        self.on_question = on_question
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.mask_key = os.urandom(4)
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.reader: FrameReader | None = None  # set once the Upgrade is accepted
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # a failed Upgrade nobody awaits any more (open timed out) is not worth a logged warning
        self.upgraded.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.pending: dict[str, asyncio.Future[tuple[float, Json]]] = {}
        self.questions: dict[int, float] = {}
        self.close_code: int | None = None
        self.close_sent = False
        self.refs = 0

    async def open(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: self, self.host, self.port)
            await self.upgraded
            self.send_json({"type": "Hello", "v": 1, "token": self.token})
            await self.synced.wait()
        if self.close_code is not None:
            raise ConnectionError(f"closed during the handshake: {self.close_code}")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass of it
        self.transport.write(handshake_request(self.host, self.port, self.path, self.key))

    def data_received(self, data: bytes) -> None:
        try:
            if self.reader is None:
                self.head += data
                end = self.head.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.head) > MAX_HEAD:
                        raise ProtocolError("no end to the response head")
                    return
                check_handshake(self.head[:end], self.key)
                self.reader, data, self.head = FrameReader(), self.head[end + 4:], b""
                self.upgraded.set_result(None)
                if not data:
                    return
            for opcode, payload in self.reader.feed(data):
                if opcode == OP_TEXT:
                    self.count.frames += 1
                    self._message(payload)
                elif opcode == OP_PING:
                    self._send(OP_PONG, payload)
                elif opcode == OP_CLOSE:
                    self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                    if not self.close_sent:  # echo it; the server then closes the TCP connection
                        self._send(OP_CLOSE, payload[:2])
                        self.close_sent = True
        except (ProtocolError, ValueError) as exc:
            if not self.upgraded.done():
                self.upgraded.set_exception(exc)
            self.close_code = self.close_code or 1002
            if self.transport is not None:
                self.transport.abort()

    def _message(self, payload: bytes) -> None:
        # The kind from the first bytes: JSON only for what the bench reads.
        if payload.startswith(ACK) or payload.startswith(ERROR):
            if self.pending:
                now = time.time()
                msg = json.loads(payload)
                future = self.pending.pop(str(msg.get("ref")), None)
                if future is not None and not future.done():
                    future.set_result((now, msg))
        elif payload.startswith(QUESTION_ASKED):
            now = time.time()
            tag = parse_tag((json.loads(payload).get("question") or {}).get("text"))
            if tag is not None and tag[0] not in self.questions:
                self.questions[tag[0]] = now - tag[1]
                if self.on_question is not None:
                    self.on_question(tag[0])
        elif not self.synced.is_set() and payload.startswith(SNAPSHOT):
            self.synced.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006  # closed without a close frame
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError(f"closed before the Upgrade: {exc!r}"))
        self.synced.set()
        self.closed.set()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError(f"closed: {self.close_code}"))
        self.pending.clear()

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload, self.mask_key))

    def send_json(self, message: Json) -> None:
        self._send(OP_TEXT, json.dumps(message, separators=(",", ":")).encode())

    async def command(self, type_: str, timeout: float = 30.0, **fields: Any) -> tuple[float, Json]:
        """Send a command; return (the time its Ack or Error arrived, that reply)."""
        if self.close_code is not None:
            raise ConnectionError(f"closed: {self.close_code}")
        self.refs += 1
        ref = f"r{self.refs}"
        future: asyncio.Future[tuple[float, Json]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = future
        self.send_json({"type": type_, "ref": ref, **fields})
        async with asyncio.timeout(timeout):
            return await future

    async def close(self) -> None:
        """A normal close (1000), then the server's TCP close; aborted after 2 s."""
        if self.transport is None or self.closed.is_set():
            return
        if self.reader is None:  # no WebSocket yet (the Upgrade failed or timed out): just drop it
            self.transport.abort()
            return
        if not self.close_sent:
            self._send(OP_CLOSE, (1000).to_bytes(2, "big"))
            self.close_sent = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self.closed.wait()
        self.transport.abort()
