"""Fan-out between service processes: memory (one process) or Redis Pub/Sub, chosen by URL."""

from __future__ import annotations

from live.bus.base import Bus, Listener


def open_bus(url: str, *, prefix: str = "tribune") -> Bus:
    """`memory://` (the embedded default) or `redis://host:port/db`."""
    if url.startswith("memory:"):
        from live.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from live.bus.redis import RedisBus

        return RedisBus(url, prefix=prefix)
    raise ValueError(f"unsupported bus URL: {url!r} (use memory:// or redis://…)")


__all__ = ["Bus", "Listener", "open_bus"]
