"""Who sends a command, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    PARTICIPANT = "participant"
    MODERATOR = "moderator"
    STAGE = "stage"
    STUDIO = "studio"
    ADMIN = "admin"


class Capability(StrEnum):
    ASK = "ask"
    UPVOTE = "upvote"
    VOTE = "vote"
    MODERATE = "moderate"
    MANAGE_POLLS = "manage_polls"
    BAN = "ban"


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.PARTICIPANT: frozenset({Capability.ASK, Capability.UPVOTE, Capability.VOTE}),
    Role.MODERATOR: frozenset({Capability.MODERATE, Capability.MANAGE_POLLS, Capability.BAN}),
    Role.ADMIN: frozenset({Capability.MODERATE, Capability.MANAGE_POLLS, Capability.BAN}),
    Role.STAGE: frozenset(),
    Role.STUDIO: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    participant_id: str | None = None
    # A registrant's personal identity (one per registrant, whatever the device), not one the
    # public link hands out to whoever asks: per-address vote budgets do not apply to it.
    registered: bool = False

    @property
    def capabilities(self) -> frozenset[Capability]:
        return CAPABILITIES[self.role]

    @property
    def label(self) -> str:
        """How the audit trail names this actor."""
        return self.participant_id or self.role.value
