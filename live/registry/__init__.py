"""Who is alive and who holds what, shared by the service's processes: memory or Redis, chosen by
URL, like the store and the bus. Workers' heartbeats and reports (live/monitor.py), and the media
relay's nodes and the origin of each broadcast (live/media/cluster.py)."""

from __future__ import annotations

from live.registry.base import Registry, RegistryError


def open_registry(url: str, *, prefix: str = "tribune", timeout: float | None = None) -> Registry:
    """`memory://` (one process) or `redis://host:port/db`; `timeout`: seconds for each call."""
    if url.startswith("memory:"):
        from live.registry.memory import MemoryRegistry

        return MemoryRegistry()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from live.registry.redis import RedisRegistry

        return RedisRegistry(url, prefix=prefix, timeout=timeout)
    raise ValueError(f"unsupported registry URL: {url!r} (use memory:// or redis://…)")


__all__ = ["Registry", "RegistryError", "open_registry"]
