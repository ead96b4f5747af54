"""The embedded store: everything in this process, gone when it stops."""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from live.domain.ratelimit import TokenBucket
from live.store.base import (
    ATTENDANCE_SAMPLES,
    HISTORY,
    OVER_LIMIT,
    Admission,
    AttendanceMinute,
    Conflict,
    EpochChanged,
    Loaded,
    Quota,
    RateLimited,
    Record,
    Refusal,
    stamp,
    sum_attendance,
)
from live.store.programme_doc import MemoryProgrammeDocs, ProgrammeDocs

BUCKETS_BEFORE_CLEANUP = 10_000  # then full buckets (the same as none) are forgotten


@dataclass
class _Log:
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    seq: int = 0
    version: int = 0
    gates: set[str] = field(default_factory=set)
    records: deque[Record] = field(default_factory=lambda: deque(maxlen=HISTORY))
    snapshot: str | None = None
    snapshot_seq: int = 0
    snapshot_version: int = 0
    presence: dict[str, tuple[int, float]] = field(default_factory=dict)
    # Per-address vote budgets: (gate, voter) -> the address they are counted against, and
    # (gate, address) -> how many voters are counted against it.
    counted: dict[tuple[str, str], str] = field(default_factory=dict)
    per_address: dict[tuple[str, str], int] = field(default_factory=dict)
    attendance: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)  # (minute, node)


class MemoryStore:
    def __init__(self) -> None:
        self._logs: dict[str, _Log] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._generations: dict[str, int] = {}  # "role:scope" -> links revoked so many times
        self._held: dict[str, float] = {}  # address -> until (monotonic)
        self._addresses: dict[str, tuple[str, float]] = {}  # participant -> (address, until)
        self.programme_docs: ProgrammeDocs = MemoryProgrammeDocs()

    def _log(self, session_id: str) -> _Log:
        return self._logs.setdefault(session_id, _Log())

    async def load(self, session_id: str) -> Loaded:
        log = self._log(session_id)
        after = [r for r in log.records if r.seq > log.snapshot_seq]
        return Loaded(log.epoch, log.snapshot, log.snapshot_seq, log.snapshot_version, after)

    async def append(self, session_id: str, epoch: str, version: int, bodies: list[str],
                     gates: list[tuple[str, bool]] | None = None,
                     limits: list[tuple[str, float, float]] | None = None) -> list[Record]:
        log = self._log(session_id)
        if log.epoch != epoch:
            raise EpochChanged(session_id)
        if log.version != version:
            raise Conflict(session_id)
        if limits and not self._take_tokens([(f"{session_id}:{key}", burst, rate)
                                             for key, burst, rate in limits]):
            raise RateLimited(session_id)
        log.version += 1
        for gate, is_open in gates or ():
            if is_open:
                log.gates.add(gate)
            else:
                log.gates.discard(gate)
        return [self._add(log, body) for body in bodies]

    async def append_free(self, session_id: str, epoch: str, items: list[tuple[str, str]],
                          quotas: list[Quota | None] | None = None
                          ) -> list[Record | Refusal | None]:
        log = self._log(session_id)
        if log.epoch != epoch:
            raise EpochChanged(session_id)
        out: list[Record | Refusal | None] = []
        for i, (body, gate) in enumerate(items):
            quota = quotas[i] if quotas else None
            if gate not in log.gates:
                out.append(None)
            elif quota is not None and not self._count(log, gate, quota):
                out.append(OVER_LIMIT)
            else:
                out.append(self._add(log, body))
        return out

    @staticmethod
    def _count(log: _Log, gate: str, quota: Quota) -> bool:
        """Count (or uncount) a voter against their address; False if its budget is spent."""
        counted = log.counted.get((gate, quota.voter))
        if not quota.limit:
            if counted is not None:
                del log.counted[(gate, quota.voter)]
                log.per_address[(gate, counted)] -= 1
            return True
        if counted is not None:
            return True
        slot = (gate, quota.address)
        if log.per_address.get(slot, 0) >= quota.limit:
            return False
        log.counted[(gate, quota.voter)] = quota.address
        log.per_address[slot] = log.per_address.get(slot, 0) + 1
        return True

    @staticmethod
    def _add(log: _Log, body: str) -> Record:
        log.seq += 1
        record = Record(log.seq, stamp(log.seq, log.version, body))
        log.records.append(record)
        return record

    async def gates(self, session_id: str) -> set[str]:
        return set(self._log(session_id).gates)

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

    async def save_snapshot(self, session_id: str, epoch: str, seq: int, version: int,
                            data: str) -> None:
        log = self._log(session_id)
        if log.epoch == epoch and seq > log.snapshot_seq:
            log.snapshot, log.snapshot_seq, log.snapshot_version = data, seq, version

    async def set_presence(self, session_id: str, node: str, count: int, ttl: float) -> None:
        self._log(session_id).presence[node] = (count, time.monotonic() + ttl)

    async def presence(self, session_id: str) -> int:
        now = time.monotonic()
        log = self._logs.get(session_id)
        return sum(c for c, until in log.presence.values() if until > now) if log else 0

    async def record_attendance(self, session_id: str, node: str, minute: int,
                                counts: dict[str, int]) -> None:
        samples = self._log(session_id).attendance
        samples[(minute, node)] = dict(counts)
        while len(samples) > ATTENDANCE_SAMPLES:
            del samples[min(samples)]

    async def attendance(self, session_id: str) -> list[AttendanceMinute]:
        log = self._logs.get(session_id)
        return sum_attendance((m, c) for (m, _), c in log.attendance.items()) if log else []

    def _take_tokens(self, buckets: list[tuple[str, float, float]]) -> bool:
        now = time.monotonic()
        if len(self._buckets) > BUCKETS_BEFORE_CLEANUP:
            self._buckets = {k: b for k, b in self._buckets.items() if not b.full(now)}
        chosen = [self._buckets.setdefault(key, TokenBucket(burst, rate))
                  for key, burst, rate in buckets]
        if not all(bucket.allows(now) for bucket in chosen):
            return False
        for bucket in chosen:
            bucket.take(now)
        return True

    async def admit_identity(self, address: str, burst: float, per_second: float) -> Admission:
        now = time.monotonic()
        if self._held.get(address, 0.0) > now:
            return "held"
        return "ok" if self._take_tokens([(f"ids:{address}", burst, per_second)]) else "limited"

    async def note_address(self, participant_id: str, address: str, ttl: float) -> None:
        now = time.monotonic()
        if len(self._addresses) > BUCKETS_BEFORE_CLEANUP:
            self._addresses = {p: a for p, a in self._addresses.items() if a[1] > now}
        self._addresses[participant_id] = (address, now + ttl)

    async def hold_address_of(self, participant_id: str, seconds: float) -> bool:
        now = time.monotonic()
        address, until = self._addresses.get(participant_id, ("", 0.0))
        if until <= now:
            return False
        if len(self._held) > BUCKETS_BEFORE_CLEANUP:
            self._held = {a: t for a, t in self._held.items() if t > now}
        self._held[address] = max(self._held.get(address, 0.0), now + seconds)
        return True

    async def generations(self) -> dict[str, int]:
        return dict(self._generations)

    async def bump_generation(self, key: str) -> int:
        self._generations[key] = self._generations.get(key, 0) + 1
        return self._generations[key]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
