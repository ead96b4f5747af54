"""The Redis bus: one Pub/Sub connection per process, one reader task, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from live.bus.base import Listener

log = logging.getLogger(__name__)


POOL_SIZE = 16  # publishing connections per process (plus the one Pub/Sub connection)


class RedisBus:
    def __init__(self, url: str, *, prefix: str = "tribune") -> None:
        # Publishes wait for a connection rather than fail when a burst outruns the pool.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=10, decode_responses=True,
            socket_connect_timeout=5, health_check_interval=10)
        self._redis: aioredis.Redis = aioredis.Redis.from_pool(pool)  # closes the pool with it
        self._prefix = prefix
        self._listeners: dict[str, Listener] = {}
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._healthy = False
        self._closed = False
        self.on_reconnect: Callable[[], None] | None = None

    def _name(self, channel: str) -> str:
        return f"{self._prefix}:bus:{channel}"

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._name(channel), message)

    async def subscribe(self, channel: str, listener: Listener) -> None:
        self._listeners[channel] = listener
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="redis-bus-reader")
        await asyncio.wait_for(self._connected.wait(), timeout=10)
        if self._pubsub is not None:
            await self._pubsub.subscribe(self._name(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._listeners.pop(channel, None)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError):
                await self._pubsub.unsubscribe(self._name(channel))

    @property
    def healthy(self) -> bool:
        if self._reader is None:  # nothing subscribed yet: no Pub/Sub connection to have lost
            return not self._closed
        return self._healthy and not self._reader.done()

    async def _read_forever(self) -> None:
        delay, first = 0.2, True
        prefix = f"{self._prefix}:bus:"
        while True:
            try:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.ping()
                if self._listeners:
                    await self._pubsub.subscribe(*(self._name(c) for c in self._listeners))
                self._healthy, delay = True, 0.2
                self._connected.set()
                if not first and self.on_reconnect is not None:
                    self.on_reconnect()  # messages may have been lost while we were away
                first = False
                while True:
                    message = await self._pubsub.get_message(timeout=5.0)
                    if message is None or message["type"] != "message":
                        continue
                    listener = self._listeners.get(message["channel"].removeprefix(prefix))
                    if listener is not None:
                        try:
                            listener(message["data"])
                        except Exception:
                            log.exception("bus listener failed")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._healthy = False
                log.warning("redis bus disconnected (%s); retrying in %.1fs", exc, delay)
                with contextlib.suppress(RedisError, OSError):
                    if self._pubsub is not None:
                        await self._pubsub.aclose()
                self._connected.set()  # subscribers must not hang: they rely on catch-up
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 5.0)

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        await self._redis.aclose()
