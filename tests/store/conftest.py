"""The store under contract: the embedded one and Redis (real server, one key prefix per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from live.store import Store
from live.store.memory import MemoryStore
from live.store.redis import RedisStore
from tests.conftest import REDIS_URL, delete_prefix, redis_prefix


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    prefix = redis_prefix()
    the_store = RedisStore(REDIS_URL, prefix=prefix)
    try:
        yield the_store
    finally:
        await the_store.close()
        delete_prefix(prefix)
