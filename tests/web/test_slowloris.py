"""Slowloris, on the real server with the production uvicorn options and raw sockets: a connection
that sends nothing, or dribbles its request head, is closed once the head deadline has passed."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from live.config import Settings
from live.workers import uvicorn_options
from tests.conftest import SESSION, ServerThread, free_port, token_of
from tests.wsclient import Client

DEADLINE = 1.5


@pytest.fixture
def port() -> Iterator[int]:
    settings = Settings(port=free_port(), request_head_timeout=DEADLINE)
    with ServerThread(settings):
        yield settings.port


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (reading gives EOF, or a reset)."""
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except (BlockingIOError, TimeoutError):
        return False


def test_the_production_deadline_is_a_few_seconds() -> None:
    protocol = uvicorn_options(Settings(), "info")["http"]
    assert protocol.head_timeout == 5.0
    assert uvicorn_options(Settings(request_head_timeout=2.5), "info")["http"].head_timeout == 2.5


def test_a_silent_connection_is_closed_at_the_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE + 3) as sock:
        started = time.monotonic()
        assert closed_by_peer(sock)  # blocks until the server closes it (or our timeout)
        elapsed = time.monotonic() - started
    assert DEADLINE - 0.2 < elapsed < DEADLINE + 1.0, elapsed


def dribble(sock: socket.socket, data: bytes, interval: float) -> int:
    """Send `data` a byte at a time; the count sent before the server closed the connection."""
    sock.settimeout(interval)
    for i in range(len(data)):
        try:
            sock.sendall(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            return i
        if closed_by_peer(sock):  # waits `interval` for the server to close it
            return i + 1
    return len(data)


def read_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body): its status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, "closed in the body"
        body += chunk
    return head.split(b"\r\n")[0]


HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-and-steady\r\n\r\n"


def test_a_head_dribbled_byte_by_byte_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sent = dribble(sock, HEAD, 1.0)  # one byte a second
        elapsed = time.monotonic() - started
    assert sent < len(HEAD), "the whole head went through"
    assert elapsed < DEADLINE + 1.0, elapsed


def test_a_keep_alive_connection_owes_its_next_head_in_time_too(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(HEAD)
        assert read_response(sock) == b"HTTP/1.1 200 OK"
        started = time.monotonic()
        sent = dribble(sock, HEAD, 0.5)
        elapsed = time.monotonic() - started
    assert sent < len(HEAD) and elapsed < DEADLINE + 1.0, (sent, elapsed)


def test_a_prompt_keep_alive_client_keeps_its_connection_past_the_first_deadline(port: int
                                                                                  ) -> None:
    """Each response gives the connection a new deadline for its next head."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for _ in range(4):  # 4 × 0.6 deadlines: well past the first
            sock.sendall(HEAD)
            assert read_response(sock) == b"HTTP/1.1 200 OK"
            time.sleep(DEADLINE * 0.6)


def test_a_head_in_several_pieces_within_the_deadline_is_answered(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for piece in (HEAD[:10], HEAD[10:30], HEAD[30:]):
            sock.sendall(piece)
            time.sleep(DEADLINE / 5)
        assert read_response(sock) == b"HTTP/1.1 200 OK"


async def test_an_open_websocket_outlives_the_deadline() -> None:
    settings = Settings(port=free_port(), request_head_timeout=0.5)
    with ServerThread(settings) as server:
        client = await Client(server.ws_base, SESSION, token_of(server.link("moderator", SESSION))).connect()
        started = time.monotonic()
        while time.monotonic() - started < 1.5:  # three deadlines
            await client.ok("SetPremoderation", enabled=True)
            await asyncio.sleep(0.25)  # paced under the per-connection message rate
        assert client.closed_code is None
        await client.close()
