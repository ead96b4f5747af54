"""The bus interface: at-most-once delivery of small text messages to every subscribed process.

Delivery is best effort (Redis Pub/Sub drops what a disconnected subscriber misses), so what rides on
it must be recoverable: the service numbers every record and fetches gaps from the store. After a
reconnect the bus calls `on_reconnect`, so subscribers can catch up on what they may have missed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Listener = Callable[[str], None]  # must not block: it is called from the bus's reader


class Bus(Protocol):
    on_reconnect: Callable[[], None] | None

    async def publish(self, channel: str, message: str) -> None: ...

    async def subscribe(self, channel: str, listener: Listener) -> None:
        """Deliver every later message on `channel` to `listener` (one listener per channel)."""
        ...

    async def unsubscribe(self, channel: str) -> None: ...

    @property
    def healthy(self) -> bool:
        """False while the bus is disconnected from its backend."""
        ...

    async def close(self) -> None: ...
