"""One session's live state in this process: the room, its sequence, its local subscribers."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from live.domain import Room
from live.domain.events import Event
from live.views import Audience, Fanout, Message

RECENT = 1000  # records kept in memory for resuming clients without asking the store


class Subscriber(Protocol):
    """A client connection as the service sees it (the WebSocket session implements it)."""

    audience: Audience
    participant_id: str | None

    def deliver(self, text: str) -> None:
        """Queue a message; never blocks (a connection that cannot keep up closes itself)."""
        ...

    def deliver_latest(self, slot: str, text: str) -> None:
        """Replace the pending message of `slot` (tallies, presence): only the latest matters."""
        ...


@dataclass(slots=True)
class Applied:
    seq: int
    event: Event
    envelope: Message


@dataclass
class Hub:
    session_id: str
    session_view: Message
    room: Room
    epoch: str
    seq: int
    snapshot_seq: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    subscribers: set[Subscriber] = field(default_factory=set)
    recent: deque[Applied] = field(default_factory=lambda: deque(maxlen=RECENT))
    tally_dirty_fast: bool = False
    tally_dirty_slow: bool = False
    connected: int = 0  # participants, all processes together (last known)

    def local_participants(self) -> int:
        return sum(1 for s in self.subscribers if s.audience is Audience.PARTICIPANT)

    def recent_since(self, seq: int) -> list[Applied] | None:
        """Records after `seq` from memory, or None if memory no longer reaches back that far."""
        if seq == self.seq:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        return [a for a in self.recent if a.seq > seq]

    def fan_out(self, fanout: Fanout, encoded: dict[Any, str]) -> None:
        """Deliver one event's messages to the local subscribers, each encoded once."""
        for sub in list(self.subscribers):
            pid = sub.participant_id
            if pid is not None and pid in fanout.private:
                sub.deliver(encoded[pid])
            elif sub.audience in encoded:
                sub.deliver(encoded[sub.audience])
