"""One WebSocket session against a scripted socket: what happens once a close is decided."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

from live.bus.memory import MemoryBus
from live.config import load_programme
from live.domain import Role
from live.protocol import CLOSE_UNAUTHORIZED
from live.service import Service
from live.store.memory import MemoryStore
from live.web.auth import EVENT_SCOPE, Signer
from live.web.ws import ClientSession
from tests.conftest import SESSION
from tests.waiting import holds_for


class ScriptedSocket:
    """The frames the test feeds; what the session sends and how it closes."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.synced = asyncio.Event()  # a Snapshot or Resumed went out
        self.closing = asyncio.Event()  # close() was called…
        self.close_may_finish = asyncio.Event()  # …and returns once this is set
        self.close_may_finish.set()
        self.client = SimpleNamespace(host="127.0.0.1")
        self.scope: dict[str, Any] = {"extensions": {}}  # no server extension: the writer sends

    def feed(self, frame: dict[str, Any]) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))
        if self.sent[-1]["type"] in ("Snapshot", "Resumed"):
            self.synced.set()

    async def close(self, code: int, reason: str) -> None:
        self.closing.set()
        await self.close_may_finish.wait()  # a peer slow to take the close frame
        self.closed = code
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": code})


async def test_a_frame_read_after_the_close_decision_is_not_run() -> None:
    """The token expires (or the client is dropped) while the reader waits: a command arriving
    before the close frame went out must not be run with the expired grant."""
    service = Service(load_programme(None), MemoryStore(), MemoryBus())
    signer = Signer("a-secret-of-at-least-16")
    ws = ScriptedSocket()
    session = ClientSession(ws, service, signer, SESSION)  # type: ignore[arg-type]
    ws.feed({"type": "Hello", "v": 1,
             "token": signer.issue(Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) + 3600)})
    running = asyncio.create_task(session.run())
    await asyncio.wait_for(ws.synced.wait(), 5)
    session._close_soon(CLOSE_UNAUTHORIZED, "token expired")  # what the expiry timer does
    ws.feed({"type": "AskQuestion", "ref": "late", "text": "Après l'expiration ?"})
    await asyncio.wait_for(running, 5)
    assert ws.closed == CLOSE_UNAUTHORIZED
    hub = await service.hub(SESSION)
    assert not hub.room.state.questions
    assert not any(m.get("ref") == "late" for m in ws.sent)


async def test_the_session_ends_only_once_its_close_frame_is_out() -> None:
    """The reader sees the close decided and leaves while the writer still sends the close
    frame to a slow peer: the session waits for it, or the server would drop the socket first
    (a 1006 instead of the code) and leave the writer behind."""
    service = Service(load_programme(None), MemoryStore(), MemoryBus())
    signer = Signer("a-secret-of-at-least-16")
    ws = ScriptedSocket()
    ws.close_may_finish.clear()
    session = ClientSession(ws, service, signer, SESSION)  # type: ignore[arg-type]
    ws.feed({"type": "Hello", "v": 1,
             "token": signer.issue(Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) + 3600)})
    running = asyncio.create_task(session.run())
    await asyncio.wait_for(ws.synced.wait(), 5)
    session._close_soon(CLOSE_UNAUTHORIZED, "token expired")
    ws.feed({"type": "Ping"})  # wakes the reader, which sees the close decided
    await asyncio.wait_for(ws.closing.wait(), 5)
    # Negative check: while the close frame is still going out, the session does not end.
    await holds_for(lambda: not running.done(), 0.1, "the session waits for its close frame")
    ws.close_may_finish.set()
    await asyncio.wait_for(running, 5)
    assert ws.closed == CLOSE_UNAUTHORIZED
