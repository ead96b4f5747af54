"""uvicorn's WebSocket protocol (websockets' sans-I/O one), keeping less for each open connection.

A participant's WebSocket stays open for the whole event, mostly idle: what each one keeps is what
the event costs in memory (issue "Performance": at most 20 KB per idle participant). Measured with
tracemalloc on 2,000 idle connections, uvicorn's protocol kept per connection an `asyncio.Queue`
for the messages the app has not read yet (three deques and an Event: 3 KB), an `asyncio.Event`
for the transport's flow control (its deque of waiters: 0.8 KB), and the handshake's request and
response with their headers, twice (3.8 KB), for as long as the connection lived.

This subclass changes only those: a queue and a flag with the same behaviour that allocate nothing
until someone waits, and the handshake's headers dropped once the app has answered it (an app that
needs them later copies them first). The rest is uvicorn's code, version-locked;
`tests/web/test_lean_socket.py` pins the behaviour it relies on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

# The ASGI extension through which the app writes a text message at once (`send_now`).
SEND_NOW = "tribune.send_now"


class Inbox:
    """`asyncio.Queue`'s put_nowait / get / empty for one reader: uvicorn's receive()."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []  # short: uvicorn stops reading until the app takes a message
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("Inbox has one reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


class Flag:
    """`asyncio.Event`'s set / clear / is_set / wait, with no deque until someone waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, is_set: bool = False) -> None:
        self._set = is_set
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol with `Inbox`, `Flag`, and the handshake let go."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag(is_set=True)  # type: ignore[assignment]

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if getattr(self, "scope", None) is not None:
            extensions: dict[str, Any] = self.scope["extensions"]
            extensions[SEND_NOW] = self.send_now

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if getattr(self, "scope", None) is not None:
            self.scope["extensions"].pop(SEND_NOW, None)  # no cycle left through the scope

    def send_now(self, text: str) -> bool:
        """Write a text message now, with no task, timer or ASGI message: what a message to one
        of 5,000 participants costs. False when it cannot go at once (not accepted yet, closing,
        or the transport's buffer is past its high-water mark): the caller then queues it and
        awaits `send`, which waits for room within its deadline."""
        if (not self.handshake_complete or self.close_sent or self.initial_response is not None
                or self.disconnected or not self.writable.is_set()
                or self.transport.is_closing()):
            return False
        try:
            self.conn.send_text(text.encode())
            self.transport.write(b"".join(self.conn.data_to_send()))
        except Exception:
            # Closing (InvalidState), or a text that cannot be encoded: never raise into the
            # caller, a fan-out to every subscriber; the writer's `send` meets it and says so.
            return False
        return True

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and hasattr(self, "request"):
            # Answered (accepted or refused): nothing reads the handshake any more. websockets'
            # parser keeps the request for the connection's lifetime (a local of its generator),
            # so its headers are emptied rather than only let go. The scope's list is emptied too
            # (uvicorn's, or the copy Starlette put in its place when the endpoint read them): an
            # endpoint reads the headers it needs before it accepts (live/app.py: the Origin).
            self.request.headers.clear()
            headers = self.scope["headers"]
            if isinstance(headers, list):
                headers.clear()
            del self.request, self.response
