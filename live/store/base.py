"""The store interface, shared by the memory and Redis implementations.

Each session has an append-only log of records (one JSON text per event, numbered by `seq` from 1),
trimmed to the last `history` records, an occasional snapshot of the whole state, and an `epoch` that
changes when the history is lost (Redis flushed or restarted without persistence): a client that
resumes from another epoch must take a fresh snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

HISTORY = 1000  # records kept per session for resuming clients
SNAPSHOT_EVERY = 200  # records between snapshots (must stay well under HISTORY)


class Conflict(Exception):
    """Another writer appended first: catch up, decide again, retry."""


class EpochChanged(Exception):
    """The session's history was lost and restarted under a new epoch: reload."""


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    data: str  # the event as JSON text, with its envelope (seq, at, actor)


@dataclass(frozen=True, slots=True)
class Loaded:
    epoch: str
    snapshot: str | None  # JSON text of the state at `snapshot_seq`, or None for an empty session
    snapshot_seq: int
    records: list[Record]  # everything after the snapshot, in order

    @property
    def seq(self) -> int:
        return self.records[-1].seq if self.records else self.snapshot_seq


class Store(Protocol):
    async def load(self, session_id: str) -> Loaded:
        """The latest snapshot and the records after it; creates the epoch on first use."""
        ...

    async def append(self, session_id: str, epoch: str, expected_seq: int, data: list[str]) -> int:
        """Append records numbered expected_seq+1…; return the new last seq.

        Raises Conflict if the log is not at `expected_seq`, EpochChanged if `epoch` is not current.
        """
        ...

    async def read_since(self, session_id: str, epoch: str, seq: int) -> list[Record] | None:
        """Records after `seq`, or None when they are no longer all kept (or the epoch changed)."""
        ...

    async def head(self, session_id: str) -> tuple[str | None, int]:
        """The current epoch (None if the session has none yet) and last seq."""
        ...

    async def save_snapshot(self, session_id: str, epoch: str, seq: int, data: str) -> None:
        """Keep `data` as the state at `seq`, unless a newer snapshot is already there."""
        ...

    async def set_presence(self, session_id: str, node: str, count: int, ttl: float) -> None:
        """Say how many participants `node` holds in the session, valid for `ttl` seconds."""
        ...

    async def presence(self, session_id: str) -> int:
        """Participants connected to the session across all nodes still alive."""
        ...

    async def secret(self, proposal: str, *, replace: bool = False) -> str:
        """The signing secret shared by every process: the first proposal stored wins, unless
        `replace` (an operator set a new secret: every earlier link stops working)."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...

    async def close(self) -> None: ...
