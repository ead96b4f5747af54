"""One contract for both registries (live/registry): the embedded one and Redis (real server, one
key prefix per test). Expiry is checked with short TTLs; an unreachable Redis is a RegistryError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from live.registry import Registry, RegistryError, open_registry
from tests.conftest import REDIS_URL, delete_prefix, redis_prefix

SHORT = 0.3  # seconds: an entry written with this TTL is gone after EXPIRED
EXPIRED = 0.6


@pytest.fixture(params=["memory", "redis"])
async def registry(request: pytest.FixtureRequest) -> AsyncIterator[Registry]:
    if request.param == "memory":
        yield open_registry("memory://")
        return
    prefix = redis_prefix()
    the_registry = open_registry(REDIS_URL, prefix=prefix, timeout=2.0)
    try:
        yield the_registry
    finally:
        await the_registry.close()
        delete_prefix(prefix)


async def test_beats_are_per_host_and_expire_together(registry: Registry) -> None:
    await registry.beat("a:8000", 0, 100.5, None, beat_ttl=SHORT, report_ttl=SHORT)
    await registry.beat("a:8000", 1, 101.25, None, beat_ttl=SHORT, report_ttl=SHORT)
    await registry.beat("b:8000", 0, 99.0, None, beat_ttl=60, report_ttl=60)
    assert await registry.beats("a:8000") == {0: 100.5, 1: 101.25}
    assert await registry.beats("b:8000") == {0: 99.0}
    assert await registry.beats("c:8000") == {}
    await asyncio.sleep(EXPIRED)
    assert await registry.beats("a:8000") == {}  # every worker of the host gone
    assert await registry.beats("b:8000") == {0: 99.0}


async def test_reports_of_every_host_until_they_expire_or_are_forgotten(
        registry: Registry) -> None:
    one, two = json.dumps({"worker": 0}), json.dumps({"worker": 1, "text": "é"})
    await registry.beat("a:8000", 0, 1.0, one, beat_ttl=60, report_ttl=60)
    await registry.beat("b:8000", 1, 1.0, two, beat_ttl=60, report_ttl=SHORT)
    await registry.beat("a:8000", 2, 1.0, None, beat_ttl=60, report_ttl=60)  # a beat alone
    assert sorted(await registry.reports()) == sorted([one, two])
    await asyncio.sleep(EXPIRED)
    assert await registry.reports() == [one]
    await registry.forget_report("a:8000", 0)
    assert await registry.reports() == []


async def test_a_claim_is_put_read_renewed_released_and_expires(registry: Registry) -> None:
    assert await registry.get("media:origin:s") is None
    assert await registry.put("media:origin:s", "n1 127.0.0.1:1", 60) is None
    assert await registry.put("media:origin:s", "n2 127.0.0.1:2", 60) == "n1 127.0.0.1:1"
    assert await registry.get("media:origin:s") == "n2 127.0.0.1:2"
    assert not await registry.renew("media:origin:s", "n1 127.0.0.1:1", 60)  # never taken back
    assert await registry.renew("media:origin:s", "n2 127.0.0.1:2", SHORT)
    assert not await registry.release("media:origin:s", "n1 127.0.0.1:1")
    assert await registry.get("media:origin:s") == "n2 127.0.0.1:2"
    await asyncio.sleep(EXPIRED)
    assert await registry.get("media:origin:s") is None
    assert await registry.renew("media:origin:s", "n1 127.0.0.1:1", 60)  # expired: made again
    assert await registry.release("media:origin:s", "n1 127.0.0.1:1")
    assert await registry.get("media:origin:s") is None
    await registry.put("media:node:n1", "127.0.0.1:1", 60)
    await registry.remove("media:node:n1")
    await registry.remove("media:node:n1")  # already gone: nothing to say
    assert await registry.get("media:node:n1") is None
    await registry.ping()


async def test_an_unreachable_redis_is_a_registry_error() -> None:
    registry = open_registry("redis://127.0.0.1:1/0", timeout=0.5)  # nothing listens there
    try:
        for call in (registry.ping(), registry.get("x"), registry.beats("h"), registry.reports(),
                     registry.put("x", "v", 1), registry.renew("x", "v", 1),
                     registry.beat("h", 0, 1.0, "{}", beat_ttl=1, report_ttl=1)):
            with pytest.raises(RegistryError):
                await call
    finally:
        await registry.close()


def test_urls_choose_the_engine() -> None:
    with pytest.raises(ValueError, match="unsupported registry URL"):
        open_registry("postgres://x")
