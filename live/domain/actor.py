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
    # Scoped to a session and one language (the token says which): the interpreters of that
    # language's channel, and the live captioner (who may write several languages).
    INTERPRETER = "interpreter"
    CAPTIONER = "captioner"
    # A remote speaker: scoped to a session, the link names the guest (an id and a name).
    GUEST = "guest"


class Capability(StrEnum):
    ASK = "ask"
    UPVOTE = "upvote"
    VOTE = "vote"
    MODERATE = "moderate"
    MANAGE_POLLS = "manage_polls"
    BAN = "ban"
    BOOTH = "booth"  # talk with one's booth partner
    CAPTION = "caption"  # write live captions
    DIRECT = "direct"  # bring remote guests on and off air (the studio)
    GUEST = "guest"  # join the green room as the guest one's link names
    ACKNOWLEDGE = "acknowledge"  # say the moderators' message on the stage was read (the speaker)


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.PARTICIPANT: frozenset({Capability.ASK, Capability.UPVOTE, Capability.VOTE}),
    Role.MODERATOR: frozenset({Capability.MODERATE, Capability.MANAGE_POLLS, Capability.BAN}),
    Role.ADMIN: frozenset({Capability.MODERATE, Capability.MANAGE_POLLS, Capability.BAN,
                           Capability.DIRECT}),
    Role.STAGE: frozenset({Capability.ACKNOWLEDGE}),
    Role.STUDIO: frozenset({Capability.DIRECT}),
    Role.INTERPRETER: frozenset({Capability.BOOTH}),
    Role.CAPTIONER: frozenset({Capability.CAPTION}),
    Role.GUEST: frozenset({Capability.GUEST, Capability.ACKNOWLEDGE}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    participant_id: str | None = None
    # A registrant's personal identity (one per registrant, whatever the device), not one the
    # public link hands out to whoever asks: per-address vote budgets do not apply to it.
    registered: bool = False
    # An interpreter's booth: the language their link names (live/web/auth.py Grant.language).
    # It comes from the link, never from a command, so no one writes in another language's booth.
    language: str | None = None
    # A guest link's guest: its id and the name the studio gave it (live/domain/production.py).
    guest: str | None = None
    guest_name: str | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:
        return CAPABILITIES[self.role]

    @property
    def label(self) -> str:
        """How the audit trail names this actor."""
        return self.participant_id or self.role.value
