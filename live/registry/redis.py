"""The registry in Redis, shared by every process and machine using the same Redis and prefix.

    {prefix}:workers:{host}           a hash: worker index -> last beat (epoch seconds)
    {prefix}:metrics:{host}:{worker}  that worker's latest report (JSON)
    {prefix}:{name}                   a claim (live/media/cluster.py: `media:node:N`,
                                      `media:origin:S`)

Each is written with its expiry. Redis errors (and a call over `timeout`) become RegistryError.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis

from live.registry.base import Registry, RegistryError

T = TypeVar("T")

# Extends the claim, or makes it again if it expired (Redis restarted, say); never takes it from
# another holder.
_RENEW = ("local v = redis.call('GET', KEYS[1]) if v == false or v == ARGV[1] then "
          "return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 0")
_RELEASE = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
            "return redis.call('DEL', KEYS[1]) end return 0")


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class RedisRegistry(Registry):
    def __init__(self, url: str, *, prefix: str = "tribune", timeout: float | None = None) -> None:
        self.prefix, self.timeout = prefix, timeout
        self.redis = aioredis.from_url(url, decode_responses=True, socket_connect_timeout=timeout,
                                       socket_timeout=timeout)

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await make()
        except (aioredis.RedisError, OSError, TimeoutError) as exc:
            raise RegistryError(repr(exc)) from exc

    def _beats_key(self, host: str) -> str:
        return f"{self.prefix}:workers:{host}"

    def _report_key(self, host: str, worker: int) -> str:
        return f"{self.prefix}:metrics:{host}:{worker}"

    async def beat(self, host: str, worker: int, at: float, report: str | None, *,
                   beat_ttl: float, report_ttl: float) -> None:
        async def write() -> Any:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(self._beats_key(host), str(worker), f"{at:.3f}")
                pipe.pexpire(self._beats_key(host), _ms(beat_ttl))
                if report is not None:
                    pipe.set(self._report_key(host, worker), report, px=_ms(report_ttl))
                return await pipe.execute()

        await self._call(write)

    async def beats(self, host: str) -> dict[int, float]:
        raw: dict[str, str] = await self._call(
            lambda: self.redis.hgetall(self._beats_key(host)))  # type: ignore[arg-type,return-value]
        return {int(k): float(v) for k, v in raw.items() if k.isdigit()}

    async def reports(self) -> list[str]:
        pattern = _glob_escape(f"{self.prefix}:metrics:") + "*"

        async def read() -> list[str]:
            keys = [key async for key in self.redis.scan_iter(match=pattern, count=1000)]
            texts = await self.redis.mget(keys) if keys else []
            return [str(text) for text in texts if text]

        return await self._call(read)

    async def forget_report(self, host: str, worker: int) -> None:
        await self._call(lambda: self.redis.delete(self._report_key(host, worker)))

    async def put(self, name: str, value: str, ttl: float) -> str | None:
        previous = await self._call(
            lambda: self.redis.set(f"{self.prefix}:{name}", value, px=_ms(ttl), get=True))
        return None if previous is None else str(previous)

    async def get(self, name: str) -> str | None:
        value = await self._call(lambda: self.redis.get(f"{self.prefix}:{name}"))
        return None if value is None else str(value)

    async def renew(self, name: str, value: str, ttl: float) -> bool:
        done = await self._call(lambda: self.redis.eval(
            _RENEW, 1, f"{self.prefix}:{name}", value, _ms(ttl)))
        return bool(done)

    async def release(self, name: str, value: str) -> bool:
        done = await self._call(lambda: self.redis.eval(
            _RELEASE, 1, f"{self.prefix}:{name}", value))
        return bool(done)

    async def remove(self, name: str) -> None:
        await self._call(lambda: self.redis.delete(f"{self.prefix}:{name}"))

    async def ping(self) -> None:
        await self._call(lambda: self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()
