"""At the door, on the real server: the Host check (421) and the connection limits (429, 503).

Client addresses are played with X-Forwarded-For from loopback, a trusted proxy by default, as
behind the deployment's reverse proxy; none of these tests relies on the loopback exemption.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest
import websockets

from live.config import Settings
from live.web.guard import address_group, allowed_hosts, host_name
from tests.conftest import SESSION, RunningServer, ServerThread, free_port, token_of
from tests.waiting import wait_for
from tests.wsclient import Client


def request(port: int, path: str, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return (response.status, {k.lower(): v for k, v in response.getheaders()},
                response.read().decode())
    finally:
        conn.close()


async def ws_status(port: int, headers: dict[str, str]) -> int:
    """The HTTP status a WebSocket handshake is refused with (101 if it is accepted)."""
    url = f"ws://127.0.0.1:{port}/ws/sessions/{SESSION}"
    try:
        async with websockets.connect(url, additional_headers=headers, open_timeout=5):
            return 101
    except websockets.InvalidStatus as exc:
        return exc.response.status_code


# -- Host ------------------------------------------------------------------------------------------


def test_host_names_are_read_without_port_case_or_trailing_dot() -> None:
    assert host_name("Tribune.Example.org.:443") == "tribune.example.org"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert host_name("") is None and host_name("a:b:c]") is None and host_name(None) is None


def test_allowed_hosts_are_the_public_urls_the_listening_address_and_loopback() -> None:
    settings = Settings(host="0.0.0.0", public_url="https://Live.Example.org/",
                        allowed_hosts=("intranet.local",))
    assert allowed_hosts(settings) == {"live.example.org", "intranet.local", "localhost",
                                       "127.0.0.1", "::1"}
    assert "192.0.2.10" in (allowed_hosts(Settings(host="192.0.2.10")) or ())
    assert allowed_hosts(Settings(allowed_hosts=("*",))) is None


@pytest.fixture
def server() -> Iterator[int]:
    """The port of a server whose public URL is https://live.example.org."""
    settings = Settings(port=free_port(), public_url="https://live.example.org",
                        allowed_hosts=("extra.example.net",))
    with ServerThread(settings):
        yield settings.port


@pytest.mark.parametrize("host", ["live.example.org", "extra.example.net:8443", "localhost:80",
                                  "127.0.0.1:8000", "[::1]:8000", "127.0.0.2:8000"])
def test_our_hosts_are_answered(server: int, host: str) -> None:
    status, _, _ = request(server, "/metrics", {"Host": host})
    assert status == 200


@pytest.mark.parametrize("host", ["rebind.attacker.example", "live.example.org.attacker.example",
                                  "127.0.0.1.nip.io:8000", "[::1", "192.0.2.10:8000"])
def test_other_hosts_get_421_on_every_path(server: int, host: str) -> None:
    for path in ("/metrics", "/healthz", "/", f"/moderate/{SESSION}/questions.csv?t=x"):
        status, headers, body = request(server, path, {"Host": host})
        assert status == 421, (path, status)
        assert "misdirected" in body and headers["x-content-type-options"] == "nosniff"


def test_a_request_without_host_gets_421(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 421 ")


def raw_handshake(port: int, host: str) -> bytes:
    """A WebSocket handshake with this Host (clients add their own): the response's status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /ws/sessions/{SESSION} HTTP/1.1\r\nHost: {host}\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
        return sock.recv(200).split(b"\r\n")[0]


def test_websocket_handshakes_with_another_host_get_421(server: int) -> None:
    assert raw_handshake(server, "rebind.attacker.example") == b"HTTP/1.1 421 Misdirected Request"
    assert raw_handshake(server, "live.example.org") == b"HTTP/1.1 101 Switching Protocols"


# -- connection limits -----------------------------------------------------------------------------


def test_clients_count_by_ipv4_address_and_ipv6_slash_64() -> None:
    assert address_group("203.0.113.7") == "203.0.113.7"
    assert address_group("2001:db8:1:2::1") == address_group("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert address_group("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_group("2001:db8:1:3::1") != address_group("2001:db8:1:2::1")
    assert address_group("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_group("127.0.0.1") is None and address_group("::1") is None


@pytest.fixture
def limited() -> Iterator[RunningServer]:
    settings = Settings(port=free_port(), max_connections_per_address=3, max_connections=6)
    with ServerThread(settings) as running:
        yield running


def port_of(server: RunningServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


async def connect(stack: AsyncExitStack, server: RunningServer, address: str) -> Client:
    client = Client(server.ws_base, SESSION, token_of(server.link("moderator", SESSION)))
    await client.connect(additional_headers={"X-Forwarded-For": address})
    stack.push_async_callback(client.close)
    return client


async def test_an_address_beyond_its_limit_gets_429_for_websockets_and_http(
        limited: RunningServer) -> None:
    async with AsyncExitStack() as stack:
        first = [await connect(stack, limited, "203.0.113.7") for _ in range(3)]
        assert await ws_status(port_of(limited), {"X-Forwarded-For": "203.0.113.7"}) == 429
        status, headers, body = await asyncio.to_thread(
            request, port_of(limited), "/healthz", {"X-Forwarded-For": "203.0.113.7"})
        assert (status, headers["retry-after"]) == (429, "5") and "network address" in body
        # Another address is not affected; the same address again once a connection is closed.
        assert await ws_status(port_of(limited), {"X-Forwarded-For": "198.51.100.20"}) == 101
        await first[0].close()

        async def admitted_again() -> bool:  # the server notices the close within a moment
            return await ws_status(port_of(limited), {"X-Forwarded-For": "203.0.113.7"}) == 101

        await wait_for(admitted_again, 5, "the address's slot given back")


async def test_an_ipv6_client_is_limited_by_its_slash_64(limited: RunningServer) -> None:
    async with AsyncExitStack() as stack:
        for i in range(3):
            await connect(stack, limited, f"2001:db8:1:2::{i + 1}")
        assert await ws_status(port_of(limited), {"X-Forwarded-For": "2001:db8:1:2:abcd::9"}) == 429
        assert await ws_status(port_of(limited), {"X-Forwarded-For": "2001:db8:1:3::1"}) == 101


async def test_the_process_total_gives_503(limited: RunningServer) -> None:
    async with AsyncExitStack() as stack:
        for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            await connect(stack, limited, address)
            await connect(stack, limited, address)
        assert await ws_status(port_of(limited), {"X-Forwarded-For": "203.0.113.4"}) == 503
        status, headers, _ = await asyncio.to_thread(
            request, port_of(limited), "/", {"X-Forwarded-For": "203.0.113.4"})
        assert (status, headers["retry-after"]) == (503, "5")
