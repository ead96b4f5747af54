"""The interaction bench's lean WebSocket client (bench/lean_ws.py): its frames and handshake as
RFC 6455 has them, and the plan that spreads participants and questions over sessions."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.interaction_plan import flood_plan, process_shares, session_shares
from bench.lean_ws import (
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameCount,
    FrameReader,
    LeanPeer,
    ProtocolError,
    accept_key,
    check_handshake,
    encode_frame,
    mask,
)


def test_accept_key_is_the_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


def test_handshake_needs_the_101_and_the_accept() -> None:
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: "
    check_handshake(ok + accept_key(key).encode(), key)
    with pytest.raises(ProtocolError):
        check_handshake(ok + b"wrong", key)
    with pytest.raises(ProtocolError):
        check_handshake(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0", key)


def test_masking_is_the_rfc_example_and_its_own_inverse() -> None:
    key = bytes((0x37, 0xFA, 0x21, 0x3D))
    frame = encode_frame(OP_TEXT, b"Hello", key)  # RFC 6455 §5.7: a masked "Hello"
    assert frame == bytes((0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58))
    payload = bytes(range(256)) * 3 + b"xy"  # not a multiple of 4
    assert mask(mask(payload, key), key) == payload
    assert mask(b"", key) == b""


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_lengths_of_every_width_come_back_whole(size: int) -> None:
    payload = b"a" * size
    [(opcode, got)] = FrameReader().feed(encode_frame(OP_TEXT, payload, None))
    assert (opcode, got) == (OP_TEXT, payload)


def test_frames_split_anywhere_and_fragments_are_joined() -> None:
    stream = (bytes((OP_TEXT, 3)) + b"abc"  # first fragment (no FIN)
              + encode_frame(OP_PING, b"p", None)  # a control frame between the fragments
              + bytes((OP_CONT, 2)) + b"de"
              + bytes((0x80 | OP_CONT, 1)) + b"f"
              + encode_frame(OP_TEXT, b"x" * 300, None)
              + encode_frame(OP_CLOSE, (1000).to_bytes(2, "big"), None))
    reader, messages = FrameReader(), []
    for i in range(len(stream)):  # one byte at a time: every frame boundary is crossed
        messages += reader.feed(stream[i:i + 1])
    assert messages == [(OP_PING, b"p"), (OP_TEXT, b"abcdef"), (OP_TEXT, b"x" * 300),
                        (OP_CLOSE, (1000).to_bytes(2, "big"))]
    assert not reader.buffer


def test_a_masked_server_frame_is_refused() -> None:
    with pytest.raises(ProtocolError):
        FrameReader().feed(encode_frame(OP_TEXT, b"hi", b"abcd"))


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One client frame (masked, short), unmasked."""
    first, second = await reader.readexactly(2)
    assert second & 0x80, "a client frame must be masked"
    key = await reader.readexactly(4)
    return first & 0x0F, mask(await reader.readexactly(second & 0x7F), key)


async def test_a_peer_upgrades_answers_pings_and_gets_its_ack() -> None:
    """Against a minimal server: the Upgrade, a ping before the Snapshot, a command's Ack."""
    seen: list[tuple[int, bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                   if line.lower().startswith("sec-websocket-key:"))
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade"
                     b"\r\nSec-WebSocket-Accept: " + accept_key(key).encode() + b"\r\n\r\n"
                     + encode_frame(OP_PING, b"hb", None))
        seen.append(await _read_frame(reader))  # Hello and the pong, in either order
        seen.append(await _read_frame(reader))
        writer.write(encode_frame(OP_TEXT, b'{"type":"Snapshot","seq":1,"state":{}}', None))
        _, command = await _read_frame(reader)
        ref = json.loads(command)["ref"]
        writer.write(encode_frame(OP_TEXT, b'{"type":"Tally","seq":2}', None)
                     + encode_frame(OP_TEXT, f'{{"type":"Ack","ref":"{ref}"}}'.encode(), None))
        seen.append(await _read_frame(reader))  # the close
        writer.write(encode_frame(OP_CLOSE, (1000).to_bytes(2, "big"), None))
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    count = FrameCount()
    peer = LeanPeer(f"ws://127.0.0.1:{port}/ws/sessions/s", "token", count)
    async with server:
        await peer.open(5)
        _, reply = await peer.command("CastBallot", timeout=5, poll_id="p", choices=[0])
        assert reply["type"] == "Ack"
        await peer.close()
    assert sorted(seen[:2]) == [(OP_TEXT, b'{"type":"Hello","v":1,"token":"token"}'), (OP_PONG, b"hb")]
    assert seen[2] == (OP_CLOSE, (1000).to_bytes(2, "big"))
    assert count.frames == 3 and peer.close_code == 1000


async def test_a_refused_upgrade_fails_the_open() -> None:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    peer = LeanPeer(f"ws://127.0.0.1:{port}/x", "token", FrameCount())
    async with server:
        with pytest.raises(ProtocolError, match="403"):
            await peer.open(5)
        await peer.close()


def test_sessions_get_half_then_the_rest_evenly() -> None:
    assert session_shares(10_000, ["burst"]) == {"burst": 10_000}
    shares = session_shares(10_001, ["burst", "a", "b", "c"])
    assert shares == {"burst": 5001, "a": 1667, "b": 1667, "c": 1666}
    per_process = process_shares(shares, 3)
    assert [sum(p[s] for p in per_process) for s in shares] == list(shares.values())


def test_questions_go_round_the_sessions_from_distinct_participants() -> None:
    peers = [["burst", "a", "burst", "a"], ["a", "burst", "burst", "a"]]
    plans = flood_plan(peers, ["burst", "a"], 6, start=100.0, window=2.0)
    askers = [(process, index) for process, plan in enumerate(plans) for index, _, _ in plan]
    assert len(askers) == len(set(askers)) == 6
    for process, plan in enumerate(plans):
        for index, qi, at in plan:
            assert peers[process][index] == ["burst", "a"][qi % 2]
            assert 100.0 < at < 102.0
