"""A real WebSocket client for the tests: handshake, commands with refs, and the view the browser's
own state.js makes of what it receives (tests/statejs.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import websockets

from tests.statejs import ClientState, View


class Client:
    def __init__(self, ws_base: str, session_id: str, token: str) -> None:
        self.url = f"{ws_base}/ws/sessions/{session_id}"
        self.token = token
        self.ws: Any = None
        self.welcome: dict[str, Any] = {}
        self.state = ClientState()
        self._kept: View | None = None  # a view carried over from an earlier connection
        self.epoch = ""
        self.seq = 0
        self.messages: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.resumed: dict[str, Any] | None = None
        self._ref = 0
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.closed_code: int | None = None
        self.synced = False  # a Snapshot or Resumed arrived

    @property
    def view(self) -> View:
        return self.state.view

    @view.setter
    def view(self, view: View) -> None:
        """The state a resuming client kept: loaded as of the resume point when it connects."""
        self._kept = view

    async def connect(self, *, participant: dict[str, str] | None = None,
                      resume: tuple[str, int] | None = None, **extra: Any) -> Client:
        if self._kept is not None and resume is not None:
            self.state.snapshot(self._kept, resume[0], resume[1])
        self.ws = await websockets.connect(self.url, max_size=2**20, **extra)
        hello: dict[str, Any] = {"type": "Hello", "v": 1, "token": self.token}
        if participant:
            hello["participant"] = participant
        if resume:
            hello["resume"] = {"epoch": resume[0], "seq": resume[1]}
        await self.ws.send(json.dumps(hello))
        self._reader = asyncio.create_task(self._read())
        await self.wait_for(lambda: self.synced)
        return self

    @property
    def participant(self) -> dict[str, str] | None:
        result: dict[str, str] | None = self.welcome.get("participant")
        return result

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                self.messages.append(msg)
                kind = msg["type"]
                if kind == "Welcome":
                    self.welcome = msg
                elif kind == "Snapshot":
                    self.state.snapshot(msg["state"], msg["epoch"], msg["seq"])
                    self.epoch, self.seq = msg["epoch"], msg["seq"]
                    self.synced = True
                elif kind == "Resumed":
                    self.resumed, self.epoch, self.seq = msg, msg["epoch"], msg["seq"]
                    self.synced = True
                elif kind in ("Ack", "Error"):
                    self.replies[msg["ref"]] = msg
                elif kind in ("Tally", "Presence"):
                    self.state.apply(msg)
                elif "seq" in msg:
                    self.state.apply(msg)
                    self.seq = max(self.seq, msg["seq"])
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_code = self.ws.close_code
            self._changed.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.closed_code is not None and self._reader
                                  and self._reader.done()):
                raise AssertionError(f"condition not met; last messages: {self.messages[-5:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def send(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a command and wait for its Ack or Error."""
        self._ref += 1
        ref = f"r{self._ref}"
        await self.ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
        reply: dict[str, Any] = await self.wait_for(lambda: self.replies.get(ref))
        return reply

    async def ok(self, type_: str, **fields: Any) -> dict[str, Any]:
        reply = await self.send(type_, **fields)
        assert reply["type"] == "Ack", reply
        return reply

    def question(self, text: str) -> dict[str, Any] | None:
        return next((q for q in self.view.get("questions", []) if q["text"] == text), None)
    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader


def poll_of(client: Client, poll_id: str) -> dict[str, Any]:
    """The poll as this client sees it."""
    return next(p for p in client.view["polls"] if p["id"] == poll_id)


async def open_poll(moderator: Client) -> str:
    """A new yes-or-no poll, opened by `moderator`: its id."""
    await moderator.ok("CreatePoll", question="Êtes-vous d'accord ?", options=["Oui", "Non"])
    poll = await moderator.wait_for(lambda: next(iter(moderator.view["polls"]), None))
    await moderator.ok("OpenPoll", poll_id=poll["id"])
    return str(poll["id"])
