"""TURN credentials: minted per connection from the TURN secret (coturn's use-auth-secret), with an
expiry; handed out in WHIP/WHEP `Link` headers and by GET …/ice-servers to the session's tokens
only; never one static password. coturn's side of it is tested for real in tests/deploy/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from live.config import Settings
from live.domain import Role
from live.media.ice import IceServers, turn_credentials
from tests.conftest import free_port
from tests.media.conftest import OTHER_SESSION, SESSION, MediaServer, bearer, make_offer, serving

TURN_SECRET = "turn-secret-for-the-tests-0123"
TTL = 600


def closed_port() -> int:
    return free_port()  # nothing listens there: the relay's own TURN allocation fails at once


def expected_password(username: str, secret: str = TURN_SECRET) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_the_turn_rest_scheme() -> None:
    # The example of draft-uberti-behave-turn-rest, as coturn computes it.
    username, password = turn_credentials("north", 1700000000, "viewer")
    assert username == "1700000000:viewer"
    assert password == expected_password(username, "north")
    servers = IceServers(("stun:s.example:3478", "turn:t.example:3478?transport=tcp"),
                         TURN_SECRET, TTL, clock=lambda: 1_000_000.0)
    first, second = servers.credentials("viewer"), servers.credentials("viewer")
    assert first is not None and second is not None
    assert first[0] != second[0], "each connection has its own username (and coturn quota)"
    assert first[0].startswith(f"{1_000_000 + TTL}:viewer-")
    assert IceServers(servers.urls).credentials("viewer") is None  # no secret, nothing minted
    assert IceServers(("stun:s.example:3478",), TURN_SECRET).credentials("viewer") is None
    # Without credentials a browser would throw on the TURN entry: it is left out.
    assert IceServers(servers.urls).for_browser("viewer")["iceServers"] == [
        {"urls": "stun:s.example:3478"}]
    assert servers.link_headers("viewer")[0] == '<stun:s.example:3478>; rel="ice-server"'
    assert "username=" in servers.link_headers("viewer")[1]


@pytest.fixture
def turn_server() -> Iterator[MediaServer]:
    turn_url = f"turn:127.0.0.1:{closed_port()}?transport=tcp"
    with serving(ice_servers=(turn_url,), turn_secret=TURN_SECRET, turn_ttl=TTL) as server:
        yield server


def assert_fresh(username: str, password: str, before: float) -> None:
    expiry, _, user = username.partition(":")
    assert before + TTL <= int(expiry) <= time.time() + TTL + 1
    assert user
    assert password == expected_password(username)


async def test_each_answer_carries_its_own_minted_credentials(turn_server: MediaServer) -> None:
    before = int(time.time())
    links = []
    async with httpx.AsyncClient(timeout=15) as http:
        for _ in range(2):
            response = await http.post(turn_server.whip(), content=await make_offer(),
                                       headers=bearer(turn_server.token(Role.STUDIO)))
            assert response.status_code == 201, response.text
            links.append(response.headers.get_list("link"))
    usernames = []
    for (turn_link,) in links:
        params = dict(part.strip().split("=", 1) for part in turn_link.split(";")[1:])
        username, password = params["username"].strip('"'), params["credential"].strip('"')
        assert_fresh(username, password, before)
        usernames.append(username)
    assert usernames[0] != usernames[1]


async def test_pages_get_fresh_credentials_for_their_session_only(turn_server: MediaServer) -> None:
    path = f"{turn_server.base_url}/sessions/{SESSION}/ice-servers"
    before = int(time.time())
    async with httpx.AsyncClient(timeout=10) as http:
        for role in (Role.PARTICIPANT, Role.STUDIO, Role.STAGE):
            response = await http.get(path, headers=bearer(turn_server.token(role)))
            assert response.status_code == 200, (role, response.text)
            assert response.headers["cache-control"] == "no-store"
            body = response.json()
            assert body["ttl"] == TTL
            (turn,) = body["iceServers"]
            assert turn["urls"].startswith("turn:127.0.0.1:")
            assert_fresh(turn["username"], turn["credential"], before)
        forbidden = [
            (path, {}, 401),  # no token
            (path, bearer("forged.token"), 401),
            (path, bearer(turn_server.token(Role.STUDIO, OTHER_SESSION)), 401),
            (f"{turn_server.base_url}/sessions/nope/ice-servers",
             bearer(turn_server.token(Role.PARTICIPANT)), 404),
            (f"{turn_server.base_url}/sessions/copil-assises/ice-servers",  # not streamed
             bearer(turn_server.token(Role.PARTICIPANT)), 404),
        ]
        for url, headers, status in forbidden:
            response = await http.get(url, headers=headers)
            assert response.status_code == status, (url, headers, response.text)
            assert "credential" not in response.text


def test_static_turn_passwords_are_refused(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    for name in ("TRIBUNE_ICE_USERNAME", "TRIBUNE_ICE_CREDENTIAL"):
        monkeypatch.setenv(name, "tribune")
        with pytest.raises(ValueError, match="TRIBUNE_TURN_SECRET"):
            Settings.from_env()
        monkeypatch.delenv(name)
    monkeypatch.setenv("TRIBUNE_ICE_SERVERS", "turn:t.example:3478?transport=tcp")
    with pytest.raises(ValueError, match="needs TRIBUNE_TURN_SECRET"):
        Settings.from_env()
    secret_file = tmp_path / "turn_secret"
    secret_file.write_text(TURN_SECRET + "\n")
    monkeypatch.setenv("TRIBUNE_TURN_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("TRIBUNE_TURN_TTL", "900")
    settings = Settings.from_env()
    assert (settings.turn_secret, settings.turn_ttl) == (TURN_SECRET, 900)
    secret_file.write_text("short")
    with pytest.raises(ValueError, match="at least 16"):
        Settings.from_env()
    secret_file.write_text(TURN_SECRET)
    monkeypatch.setenv("TRIBUNE_TURN_TTL", "5")
    with pytest.raises(ValueError, match="TRIBUNE_TURN_TTL"):
        Settings.from_env()
