"""The store interface, shared by the memory and Redis implementations.

Each session has an append-only log of records (one JSON text per event, numbered by `seq` from 1),
trimmed to the last `history` records, an occasional snapshot of the whole state, and an `epoch` that
changes when the history is lost (Redis flushed or restarted without persistence): a client that
resumes from another epoch must take a fresh snapshot.

Two kinds of append share the log. A *guarded* append (most commands) names the session `version`
it was decided on: the count of guarded appends so far. It fails with Conflict if another guarded
append came first, and bumps the version. A *free* append (votes, see `live.domain.gates`) is never
refused for being late, only when the gate it needs is closed. Guarded appends open and close gates
atomically with their records. The store numbers records itself, writing `"seq"` and `"v"` (the
version after the record) at the front of each JSON text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol

from live.store.programme_doc import ProgrammeDocs

HISTORY = 5000  # records kept per session for resuming clients
# Records between snapshots (well under HISTORY: loading needs every record after the snapshot).
# A snapshot carries every ballot, so during a vote burst one costs ~10 ms of a process's loop.
SNAPSHOT_EVERY = 1000
# Attendance (live/attendance.py): each node (a worker) records its own counts in a session once a
# minute, and readers sum the nodes' samples of each minute. Bounded per session: past
# ATTENDANCE_SAMPLES node-minutes (16 workers through a whole day) the oldest go, and Redis drops a
# session's samples ATTENDANCE_TTL seconds after the last one was recorded.
ATTENDANCE_SAMPLES = 24_000
ATTENDANCE_TTL = 60 * 24 * 3600

# One minute of a session's attendance: (epoch minute, counts by name summed over the nodes).
AttendanceMinute = tuple[int, dict[str, int]]


class Conflict(Exception):
    """Another writer appended first: catch up, decide again, retry."""


class EpochChanged(Exception):
    """The session's history was lost and restarted under a new epoch: reload."""


class RateLimited(Exception):
    """A guarded append's rate limit is spent: nothing was appended."""


@dataclass(frozen=True, slots=True)
class Quota:
    """A free append's share of its gate's budget per network address (`live.limits`).

    `voter` is counted against `address` for the gate, once whatever they append after, and the
    append is refused (OVER_LIMIT) if `limit` voters of that address are counted already. With no
    `limit`, the voter is uncounted instead (a withdrawn upvote gives its share back).
    """

    voter: str
    address: str = ""
    limit: int = 0


class Refusal(Enum):
    OVER_LIMIT = "over_limit"


OVER_LIMIT = Refusal.OVER_LIMIT  # a free append refused by its Quota

# A new participant identity from an address: admitted, refused because a ban holds the address,
# or because the address has taken its share of new identities for now.
Admission = Literal["ok", "held", "limited"]


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    data: str  # the event as JSON text, with its envelope (seq, at, actor)


def sum_attendance(samples: Iterable[tuple[int, dict[str, int]]]) -> list[AttendanceMinute]:
    """Nodes' samples (minute, counts) as one total per minute, oldest first."""
    minutes: dict[int, dict[str, int]] = {}
    for minute, counts in samples:
        total = minutes.setdefault(minute, {})
        for name, count in counts.items():
            total[name] = total.get(name, 0) + count
    return sorted(minutes.items())


def stamp(seq: int, version: int, body: str) -> str:
    """A record's text: its seq and version put in front of the event's JSON object."""
    return f'{{"seq":{seq},"v":{version},{body[1:]}'


@dataclass(frozen=True, slots=True)
class Loaded:
    epoch: str
    snapshot: str | None  # JSON text of the state at `snapshot_seq`, or None for an empty session
    snapshot_seq: int
    snapshot_version: int
    records: list[Record]  # everything after the snapshot, in order

    @property
    def seq(self) -> int:
        return self.records[-1].seq if self.records else self.snapshot_seq


class Store(Protocol):
    programme_docs: ProgrammeDocs  # the programme as edited live (live/store/programme_doc.py)

    async def load(self, session_id: str) -> Loaded:
        """The latest snapshot and the records after it; creates the epoch on first use."""
        ...

    async def append(self, session_id: str, epoch: str, version: int, bodies: list[str],
                     gates: list[tuple[str, bool]] | None = None,
                     limits: list[tuple[str, float, float]] | None = None) -> list[Record]:
        """A guarded append: records for `bodies` (JSON objects without seq and v), as stored.

        Raises Conflict if the session's version is not `version`, EpochChanged if `epoch` is not
        current. In the same atomic step, `gates` are opened (True) or closed (False), and one
        token is taken from each of the session's token buckets `limits` (key, burst, refill per
        second), all or none: RateLimited (nothing appended) if one is empty. The buckets hold
        whichever process a client reaches, and cost no round trip of their own.
        """
        ...

    async def append_free(self, session_id: str, epoch: str, items: list[tuple[str, str]],
                          quotas: list[Quota | None] | None = None
                          ) -> list[Record | Refusal | None]:
        """Free appends of (body, gate) items in one atomic step: each item's record, None where
        its gate was closed, OVER_LIMIT where its quota (`quotas[i]`, if given) was spent. Raises
        EpochChanged (nothing appended) if `epoch` is stale."""
        ...

    async def admit_identity(self, address: str, burst: float, per_second: float) -> Admission:
        """Whether a new participant identity may be issued to `address` (a group from
        `live.limits.address_group`): not while a ban holds it, and one token from its bucket
        (burst, refill per second), shared by every process."""
        ...

    async def note_address(self, participant_id: str, address: str, ttl: float) -> None:
        """Remember for `ttl` seconds the address a participant connects from (for a ban)."""
        ...

    async def hold_address_of(self, participant_id: str, seconds: float) -> bool:
        """Refuse new identities, for `seconds`, from the address `participant_id` last connected
        from; False if none is remembered."""
        ...

    async def gates(self, session_id: str) -> set[str]:
        """The open gates (for checks and tests)."""
        ...

    async def read_since(self, session_id: str, epoch: str, seq: int) -> list[Record] | None:
        """Records after `seq`, or None when they are no longer all kept (or the epoch changed)."""
        ...

    async def head(self, session_id: str) -> tuple[str | None, int]:
        """The current epoch (None if the session has none yet) and last seq."""
        ...

    async def save_snapshot(self, session_id: str, epoch: str, seq: int, version: int,
                            data: str) -> None:
        """Keep `data` as the state at `seq` (and `version`), unless a newer one is there."""
        ...

    async def set_presence(self, session_id: str, node: str, count: int, ttl: float) -> None:
        """Say how many participants `node` holds in the session, valid for `ttl` seconds."""
        ...

    async def presence(self, session_id: str) -> int:
        """Participants connected to the session across all nodes still alive."""
        ...

    async def record_attendance(self, session_id: str, node: str, minute: int,
                                counts: dict[str, int]) -> None:
        """`node`'s own counts in the session ("participants", "viewers"…) at `minute` (seconds
        since the epoch // 60), replacing what `node` recorded for that minute if anything."""
        ...

    async def attendance(self, session_id: str) -> list[AttendanceMinute]:
        """Every recorded minute of the session, oldest first, each count summed over the nodes
        that recorded that minute."""
        ...

    async def generations(self) -> dict[str, int]:
        """Link generations above 0, by "role:scope" (live/web/revocation.py): a link of that role
        and scope is valid only if it carries at least that generation."""
        ...

    async def bump_generation(self, key: str) -> int:
        """Revoke every link of one "role:scope": the new generation, which new links carry."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...

    async def close(self) -> None: ...
