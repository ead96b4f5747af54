"""One session's live state in this process: the room, its sequence, its local subscribers."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from live.domain import Room
from live.domain.events import Event
from live.store.base import Quota
from live.views import Audience, Fanout, Message, booth_key

RECENT = 1000  # records kept in memory for resuming clients without asking the store


class Subscriber(Protocol):
    """A client connection as the service sees it (the WebSocket session implements it)."""

    audience: Audience
    participant_id: str | None
    booth: str | None  # an interpreter's language: that booth's chat comes to it too

    def deliver(self, text: str) -> None:
        """Queue a message; never blocks (a connection that cannot keep up closes itself)."""
        ...

    def deliver_latest(self, slot: str, text: str) -> None:
        """Replace the pending message of `slot` (tallies, presence): only the latest matters."""
        ...


@dataclass(slots=True)
class Applied:
    seq: int
    version: int
    event: Event
    envelope: Message
    text: str = ""  # the stored JSON, for publishing our own records


@dataclass(slots=True)
class FreeAppend:
    """A vote waiting to be appended with the others that came meanwhile (`live.votes`)."""

    body: str
    gate: str
    event: Event
    now: int
    done: asyncio.Future[Applied]
    quota: Quota | None = None  # its share of the per-address budget (`live.limits.vote_quota`)


@dataclass
class Hub:
    session_id: str
    session_view: Message
    room: Room
    epoch: str
    seq: int  # the last record applied
    version: int  # guarded appends up to it (the store's `v`): what guarded commands are decided on
    snapshot_seq: int
    # Guarded commands of this process, one at a time (they would only conflict with each other).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Reads from the store to fill a gap or reload, one at a time.
    sync: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Records that came ahead of a gap (from the bus, or our own appends), applied once it is filled.
    pending: dict[int, Applied] = field(default_factory=dict)
    gap_timer: bool = False
    # Votes waiting for the append in flight to end; they go together in the next one.
    free_queue: list[FreeAppend] = field(default_factory=list)
    free_flushing: bool = False
    # Commands waiting for their records to be applied (their Ack comes after their events).
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)
    # Local subscribers by audience (moderators first: they are told first), and participants by id
    # too, so a message for one voter does not walk every connection.
    audiences: dict[Audience, set[Subscriber]] = field(
        default_factory=lambda: {a: set() for a in (Audience.MODERATOR, Audience.STAGE,
                                                    Audience.PARTICIPANT)})
    participants: dict[str, set[Subscriber]] = field(default_factory=dict)
    # Interpreters by booth (language), also in their audience: only they get that booth's chat.
    booths: dict[str, set[Subscriber]] = field(default_factory=dict)
    recent: deque[Applied] = field(default_factory=lambda: deque(maxlen=RECENT))
    tally_dirty_fast: bool = False
    tally_dirty_slow: bool = False
    connected: int = 0  # participants, all processes together (last known)

    @property
    def subscribers(self) -> list[Subscriber]:
        return [sub for subs in self.audiences.values() for sub in subs]

    def add(self, sub: Subscriber) -> None:
        self.audiences[sub.audience].add(sub)
        if sub.participant_id is not None:
            self.participants.setdefault(sub.participant_id, set()).add(sub)
        if sub.booth is not None:
            self.booths.setdefault(sub.booth, set()).add(sub)

    def discard(self, sub: Subscriber) -> None:
        self.audiences[sub.audience].discard(sub)
        _leave(self.participants, sub.participant_id, sub)
        _leave(self.booths, sub.booth, sub)

    def local_participants(self) -> int:
        """People, not sockets: two tabs of one participant count once."""
        return len(self.participants)

    def applied(self, seq: int) -> asyncio.Future[None] | None:
        """None if record `seq` is applied, else a future that resolves when it is."""
        if seq <= self.seq:
            return None
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((seq, future))
        return future

    def wake(self, *, everyone: bool = False) -> None:
        """Resolve the waiters whose record is applied (all of them when the history restarted)."""
        if not self.waiters:
            return
        waiting = []
        for seq, future in self.waiters:
            if everyone or seq <= self.seq:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((seq, future))
        self.waiters = waiting

    def recent_since(self, seq: int) -> list[Applied] | None:
        """Records after `seq` from memory, or None if memory no longer reaches back that far."""
        if seq == self.seq:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        return [a for a in self.recent if a.seq > seq]

    def fan_out(self, fanout: Fanout, encoded: dict[Any, str]) -> None:
        """Deliver one event's messages to the local subscribers, each encoded once."""
        for pid in fanout.private:
            for sub in list(self.participants.get(pid, ())):
                sub.deliver(encoded[pid])
        for language in fanout.booth:
            for sub in list(self.booths.get(language, ())):
                sub.deliver(encoded[booth_key(language)])
        for audience, subs in self.audiences.items():
            text = encoded.get(audience)
            if text is None:
                continue
            for sub in list(subs):
                if sub.participant_id is None or sub.participant_id not in fanout.private:
                    sub.deliver(text)


def _leave(groups: dict[str, set[Subscriber]], key: str | None, sub: Subscriber) -> None:
    """Take `sub` out of its group, and the group out once empty."""
    if key is None:
        return
    group = groups.get(key)
    if group is not None:
        group.discard(sub)
        if not group:
            del groups[key]
