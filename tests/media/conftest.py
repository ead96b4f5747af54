"""What the relay tests share: a server whose relay offers loopback candidates only, tokens and
offers to reach it, a studio on air, and the order of the frames each receiver got."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiortc import RTCPeerConnection

from live.config import Settings
from live.domain import Role
from live.media import internals
from live.media.client import Peer, TestPatternTrack, publish
from live.media.guest_routes import guest_link
from live.media.ice import rtc_configuration
from live.media.relay import Relay
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import SESSION, ServerThread, free_port
from tests.e2e.chromium import media_browser  # noqa: F401  (a fixture, for test_gstreamer_browser)
from tests.waiting import wait_for

SECRET = "media-tests-secret-0123456789"
OTHER_SESSION = "atelier-1"


@dataclass
class MediaServer:
    base_url: str
    signer: Signer
    app: object

    def token(self, role: Role, scope: str = SESSION) -> str:
        return self.signer.issue(role, EVENT_SCOPE if role is Role.PARTICIPANT else scope,
                                 int(time.time()) + 3600)

    def link(self, role: str, session: str) -> str:
        """The link the service prints for `role` (a page's address, with its token)."""
        return str(self.app.state.links.link(role, session))  # type: ignore[attr-defined]

    def guest_link(self, session: str, name: str, expires: int | None = None) -> str:
        """A new guest's link, as the studio page gets it (POST /sessions/…/guests)."""
        return guest_link(self.base_url, self.signer, session, name,
                          expires or int(time.time()) + 3600)[1]

    def whip(self, session: str = SESSION) -> str:
        return f"{self.base_url}/sessions/{session}/whip"

    def whep(self, session: str = SESSION) -> str:
        return f"{self.base_url}/sessions/{session}/whep"

    @property
    def relay(self) -> Relay:
        relay: Relay = self.app.state.relay  # type: ignore[attr-defined]
        return relay


@contextlib.contextmanager
def serving(**settings: Any) -> Iterator[MediaServer]:
    """The service, signing with SECRET, its relay's media on 127.0.0.1 unless `settings` say
    otherwise (the relay restricts the process's ICE gathering to them: the test's own clients
    too, so no probe leaves the machine); `settings` as Settings takes them."""
    chosen: dict[str, Any] = {"secret": SECRET, "media_addresses": ("127.0.0.1",), **settings}
    with ServerThread(Settings(port=free_port(), **chosen)) as running:
        yield MediaServer(running.base_url, Signer(SECRET), running.app)


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    with serving() as server:
        yield server


async def make_offer(direction: str = "sendonly", kinds: tuple[str, ...] = ("video",)) -> str:
    """A real aiortc offer (its peer connection closed at once): for requests made by hand."""
    pc = RTCPeerConnection(rtc_configuration())
    for kind in kinds:
        if direction == "sendonly":
            pc.addTransceiver(TestPatternTrack() if kind == "video" else kind, direction=direction)
        else:
            pc.addTransceiver(kind, direction=direction)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return str(sdp)


def bearer(token: str, content_type: str = "application/sdp") -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": content_type}


def frames(peer: Peer, kind: str = "video") -> int:
    received = peer.received.get(kind)
    return received.frames if received else 0


async def go_live(server: MediaServer, session: str = SESSION, **options: Any) -> Peer:
    """A studio publishing a 320x240 test pattern to `session`, once its connection is the
    broadcast's source (replacing the one before, if any)."""
    relay = server.relay
    before = relay.broadcasts.get(session)
    previous = before.source if before else None
    studio = await publish(server.whip(session), server.token(Role.STUDIO, session),
                           [TestPatternTrack(320, 240)], **options)
    await wait_for(lambda: relay.broadcasts[session].source not in (None, previous), 10,
                   f"the studio's connection as the source of {session}")
    return studio


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
