"""The orchestrator's WebSocket client (`websockets`: the moderators and the stage; the participants use
bench/lean_ws.py), and the small helpers the interaction bench's modules share."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SESSION = "pleniere-geopolitique"  # the burst session: the poll, the stage, half the participants
POLL_OPTIONS = ["Oui", "Non", "Sans avis"]
# A question's text carries its number and its send time, so whoever receives it can time it with
# the same clock (time.time(): every process is on this machine).
TAG = re.compile(r"^bench-q(\d+) sent=(\d+\.\d+)$")

Json = dict[str, Any]


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


def question_text(qi: int) -> str:
    return f"bench-q{qi} sent={time.time():.6f}"


def parse_tag(text: object) -> tuple[int, float] | None:
    match = TAG.match(text) if isinstance(text, str) else None
    return (int(match[1]), float(match[2])) if match else None


@dataclass
class Peer:
    url: str
    token: str
    ws: ClientConnection | None = None
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    pending: dict[str, asyncio.Future[tuple[float, Json]]] = field(default_factory=dict)
    questions: dict[int, float] = field(default_factory=dict)  # question -> latency (s)
    close_code: int | None = None
    on_message: Callable[[float, Json], None] | None = None
    on_question: Callable[[int], None] | None = None
    reader: asyncio.Task[None] | None = None
    refs: int = 0
    frames: int = 0  # messages received (text frames)

    async def open(self, timeout: float) -> None:
        self.ws = await connect(self.url, compression=None, ping_interval=None, max_size=2**20,
                                open_timeout=timeout, close_timeout=2)
        await self.ws.send(json.dumps({"type": "Hello", "v": 1, "token": self.token}))
        self.reader = asyncio.create_task(self._read())
        async with asyncio.timeout(timeout):
            await self.synced.wait()
        if self.close_code is not None:
            raise ConnectionError(f"closed during the handshake: {self.close_code}")

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                now = time.time()
                self.frames += 1
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "QuestionAsked":
                    tag = parse_tag((msg.get("question") or {}).get("text"))
                    if tag is not None and tag[0] not in self.questions:
                        self.questions[tag[0]] = now - tag[1]
                        if self.on_question is not None:
                            self.on_question(tag[0])
                elif kind in ("Ack", "Error"):
                    future = self.pending.pop(str(msg.get("ref")), None)
                    if future is not None and not future.done():
                        future.set_result((now, msg))
                elif kind == "Snapshot":
                    self.synced.set()
                if self.on_message is not None:
                    self.on_message(now, msg)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code if self.ws.close_code is not None else -1
            self.synced.set()
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"closed: {self.close_code}"))

    async def command(self, type_: str, timeout: float = 30.0, **fields: Any) -> tuple[float, Json]:
        """Send a command; return (the time its Ack or Error arrived, that reply)."""
        assert self.ws is not None
        self.refs += 1
        ref = f"r{self.refs}"
        future: asyncio.Future[tuple[float, Json]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = future
        await self.ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
        async with asyncio.timeout(timeout):
            return await future

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(BaseException):
                await self.reader


async def ok(peer: Peer, type_: str, **fields: Any) -> Json:
    _, reply = await peer.command(type_, **fields)
    if reply["type"] != "Ack":
        raise RuntimeError(f"{type_} refused: {reply}")
    return reply
