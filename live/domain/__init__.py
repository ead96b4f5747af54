"""The pure domain core: programme, questions, polls and moderation.

No I/O here (no asyncio, JSON, Redis, Starlette or aiortc): commands go in, events come out, and
time and ids are passed in by the caller. `Room.handle` is the one place where capability checks
happen, so the web layer cannot skip one.
"""

from live.domain.actor import Actor, Capability, Role
from live.domain.errors import DomainError
from live.domain.room import Room

__all__ = ["Actor", "Capability", "DomainError", "Role", "Room"]
