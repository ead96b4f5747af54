"""The registry of one process: plain dicts, each entry with its expiry (monotonic clock)."""

from __future__ import annotations

import time

from live.registry.base import Registry


class MemoryRegistry(Registry):
    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}  # name -> (value, expires at)
        self._beats: dict[str, tuple[dict[int, float], float]] = {}  # host -> (beats, expires)
        self._reports: dict[tuple[str, int], tuple[str, float]] = {}

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    async def beat(self, host: str, worker: int, at: float, report: str | None, *,
                   beat_ttl: float, report_ttl: float) -> None:
        now = self._now()
        beats = self._beats.get(host)
        workers = beats[0] if beats is not None and beats[1] > now else {}
        workers[worker] = at
        self._beats[host] = (workers, now + beat_ttl)
        if report is not None:
            self._reports[(host, worker)] = (report, now + report_ttl)

    async def beats(self, host: str) -> dict[int, float]:
        beats = self._beats.get(host)
        return dict(beats[0]) if beats is not None and beats[1] > self._now() else {}

    async def reports(self) -> list[str]:
        now = self._now()
        return [text for text, until in self._reports.values() if until > now]

    async def forget_report(self, host: str, worker: int) -> None:
        self._reports.pop((host, worker), None)

    def _current(self, name: str) -> str | None:
        entry = self._values.get(name)
        if entry is None or entry[1] <= self._now():
            self._values.pop(name, None)
            return None
        return entry[0]

    async def put(self, name: str, value: str, ttl: float) -> str | None:
        previous = self._current(name)
        self._values[name] = (value, self._now() + ttl)
        return previous

    async def get(self, name: str) -> str | None:
        return self._current(name)

    async def renew(self, name: str, value: str, ttl: float) -> bool:
        if self._current(name) not in (None, value):
            return False
        self._values[name] = (value, self._now() + ttl)
        return True

    async def release(self, name: str, value: str) -> bool:
        if self._current(name) != value:
            return False
        del self._values[name]
        return True

    async def remove(self, name: str) -> None:
        self._values.pop(name, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
