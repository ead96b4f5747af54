"""Where each session's event log, snapshots and presence live: memory or Redis, chosen by URL."""

from __future__ import annotations

from live.store.base import (
    OVER_LIMIT,
    Admission,
    Conflict,
    EpochChanged,
    Loaded,
    Quota,
    RateLimited,
    Record,
    Refusal,
    Store,
)


def open_store(url: str, *, prefix: str = "tribune") -> Store:
    """`memory://` (the embedded default) or `redis://host:port/db`."""
    if url.startswith("memory:"):
        from live.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from live.store.redis import RedisStore

        return RedisStore(url, prefix=prefix)
    raise ValueError(f"unsupported store URL: {url!r} (use memory:// or redis://…)")


__all__ = ["OVER_LIMIT", "Admission", "Conflict", "EpochChanged", "Loaded", "Quota", "RateLimited",
           "Record", "Refusal", "Store", "open_store"]
