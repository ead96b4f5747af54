"""The registry's interface: what the monitor and the media cluster need of a shared, expiring
key-value space, nothing more. Every entry expires (`ttl`, seconds) unless refreshed, so a process
that dies leaves nothing behind for long. A registry that cannot be reached raises
`RegistryError`, whatever the engine: callers decide what an unreachable registry means (a failed
health check, a 503, a retry)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class RegistryError(Exception):
    """The registry did not answer (in time)."""


class Registry(ABC):
    # -- workers (live/monitor.py) -----------------------------------------------------------

    @abstractmethod
    async def beat(self, host: str, worker: int, at: float, report: str | None, *,
                   beat_ttl: float, report_ttl: float) -> None:
        """Worker `worker` of `host` is alive at `at` (epoch seconds), with its latest report
        (JSON text) if any. The host's beats expire `beat_ttl` after the last one; a report
        `report_ttl` after it was written."""

    @abstractmethod
    async def beats(self, host: str) -> dict[int, float]:
        """The last beat of each worker of `host`."""

    @abstractmethod
    async def reports(self) -> list[str]:
        """Every worker's unexpired report, whatever its host."""

    @abstractmethod
    async def forget_report(self, host: str, worker: int) -> None:
        """A worker stopping: out of the reports at once."""

    # -- claims (live/media/cluster.py: nodes' addresses, broadcasts' origins) ----------------

    @abstractmethod
    async def put(self, name: str, value: str, ttl: float) -> str | None:
        """Set `name` to `value` whoever held it; the value it replaced, if any."""

    @abstractmethod
    async def get(self, name: str) -> str | None: ...

    @abstractmethod
    async def renew(self, name: str, value: str, ttl: float) -> bool:
        """Extend `name` if it holds `value`, or set it if it expired; never take it from another
        value (False then)."""

    @abstractmethod
    async def release(self, name: str, value: str) -> bool:
        """Remove `name` if it still holds `value` (True if it did)."""

    @abstractmethod
    async def remove(self, name: str) -> None: ...

    # -- lifetime ------------------------------------------------------------------------------

    @abstractmethod
    async def ping(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...
