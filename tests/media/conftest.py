"""A server whose relay offers loopback candidates only, tokens to reach it, and the order of the
frames each receiver got."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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


def in_order(stamps: list[int]) -> bool:
    """Each frame's RTP timestamp is ahead of the one before (modulo 2^32): none repeated, none
    late, none going back."""
    return all(0 < (b - a) % 2**32 < 2**31 for a, b in itertools.pairwise(stamps))


@pytest.fixture
def rtp_timestamps(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[int]]:
    """The RTP timestamps of the frames every receiver in this process reassembled (the test's
    viewers and the relay's own alike), by `id(receiver)`, in the order they came."""
    seen: dict[int, list[int]] = {}
    tap = internals.tap_receiver

    def recording(receiver: Any, sink: internals.FrameSink) -> None:
        stamps = seen.setdefault(id(receiver), [])

        def recorded(codec: Any, frame: Any) -> None:
            stamps.append(frame.timestamp)
            sink(codec, frame)

        tap(receiver, recorded)

    monkeypatch.setattr(internals, "tap_receiver", recording)
    return seen


def video_timestamps(seen: dict[int, list[int]], peer: Any) -> list[int]:
    """`peer`'s video frames' RTP timestamps, from `rtp_timestamps`."""
    (receiver,) = [t.receiver for t in peer.pc.getTransceivers() if t.kind == "video"]
    return seen.get(id(receiver), [])
