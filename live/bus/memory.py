"""The embedded bus: delivery within this process only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from live.bus.base import Listener


class MemoryBus:
    def __init__(self) -> None:
        self._listeners: dict[str, Listener] = {}
        self._closed = False
        self.on_reconnect: Callable[[], None] | None = None

    async def publish(self, channel: str, message: str) -> None:
        listener = self._listeners.get(channel)
        if listener is not None:
            # Deliver on the next loop turn, as a real bus would, never inside the publisher's call.
            asyncio.get_running_loop().call_soon(listener, message)

    async def subscribe(self, channel: str, listener: Listener) -> None:
        self._listeners[channel] = listener

    async def unsubscribe(self, channel: str) -> None:
        self._listeners.pop(channel, None)

    @property
    def healthy(self) -> bool:
        """Delivering: nothing can cut an in-process bus, but a closed one delivers no more."""
        return not self._closed

    async def close(self) -> None:
        self._closed = True
        self._listeners.clear()
