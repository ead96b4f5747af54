"""A server whose relay offers loopback candidates only, and tokens to reach it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from live.config import Settings
from live.domain import Role
from live.media import internals
from live.media.relay import Relay
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import ServerThread, free_port

SECRET = "media-tests-secret-0123456789"
SESSION = "pleniere-geopolitique"  # streamed in the demo programme
OTHER_SESSION = "atelier-1"


@dataclass
class MediaServer:
    base_url: str
    signer: Signer
    app: object

    def token(self, role: Role, scope: str = SESSION) -> str:
        return self.signer.issue(role, EVENT_SCOPE if role is Role.PARTICIPANT else scope,
                                 int(time.time()) + 3600)

    def whip(self, session: str = SESSION) -> str:
        return f"{self.base_url}/sessions/{session}/whip"

    def whep(self, session: str = SESSION) -> str:
        return f"{self.base_url}/sessions/{session}/whep"

    @property
    def relay(self) -> Relay:
        relay: Relay = self.app.state.relay  # type: ignore[attr-defined]
        return relay


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    internals.restrict_host_addresses(["127.0.0.1"])  # the test's own clients too
    settings = Settings(port=free_port(), secret=SECRET, media_addresses=("127.0.0.1",))
    with ServerThread(settings) as running:
        yield MediaServer(running.base_url, Signer(SECRET), running.app)
