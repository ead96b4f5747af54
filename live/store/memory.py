"""The embedded store: everything in this process, gone when it stops."""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from live.store.base import HISTORY, Conflict, EpochChanged, Loaded, Record


@dataclass
class _Log:
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    seq: int = 0
    records: deque[Record] = field(default_factory=lambda: deque(maxlen=HISTORY))
    snapshot: str | None = None
    snapshot_seq: int = 0
    presence: dict[str, tuple[int, float]] = field(default_factory=dict)


class MemoryStore:
    def __init__(self) -> None:
        self._logs: dict[str, _Log] = {}
        self._secret: str | None = None

    def _log(self, session_id: str) -> _Log:
        return self._logs.setdefault(session_id, _Log())

    async def load(self, session_id: str) -> Loaded:
        log = self._log(session_id)
        after = [r for r in log.records if r.seq > log.snapshot_seq]
        return Loaded(log.epoch, log.snapshot, log.snapshot_seq, after)

    async def append(self, session_id: str, epoch: str, expected_seq: int, data: list[str]) -> int:
        log = self._log(session_id)
        if log.epoch != epoch:
            raise EpochChanged(session_id)
        if log.seq != expected_seq:
            raise Conflict(session_id)
        for text in data:
            log.seq += 1
            log.records.append(Record(log.seq, text))
        return log.seq

    async def read_since(self, session_id: str, epoch: str, seq: int) -> list[Record] | None:
        log = self._log(session_id)
        if log.epoch != epoch or seq > log.seq:
            return None
        if seq == log.seq:
            return []
        if not log.records or log.records[0].seq > seq + 1:
            return None
        return [r for r in log.records if r.seq > seq]

    async def head(self, session_id: str) -> tuple[str | None, int]:
        log = self._logs.get(session_id)
        return (log.epoch, log.seq) if log else (None, 0)

    async def save_snapshot(self, session_id: str, epoch: str, seq: int, data: str) -> None:
        log = self._log(session_id)
        if log.epoch == epoch and seq > log.snapshot_seq:
            log.snapshot, log.snapshot_seq = data, seq

    async def set_presence(self, session_id: str, node: str, count: int, ttl: float) -> None:
        self._log(session_id).presence[node] = (count, time.monotonic() + ttl)

    async def presence(self, session_id: str) -> int:
        now = time.monotonic()
        log = self._logs.get(session_id)
        return sum(c for c, until in log.presence.values() if until > now) if log else 0

    async def secret(self, proposal: str, *, replace: bool = False) -> str:
        if self._secret is None or replace:
            self._secret = proposal
        return self._secret

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
