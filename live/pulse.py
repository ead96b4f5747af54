"""What the service does on a clock: coalesced tallies, and presence with a store head check.

Vote counts never go out per vote: moderators and the stage get the latest tally at most four times a
second, participants once a second (every few seconds in a large room), only when it changed. Every
two seconds each process reports its participants, reads everyone's total, and checks the store's
head (a bus message can be lost).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from live.hub import Hub
from live.protocol import encode
from live.views import Audience, tally_view

if TYPE_CHECKING:
    from live.service import Service

log = logging.getLogger(__name__)

FAST_TICK = 0.25  # tallies to moderators and the stage, at most 4 per second
SLOW_EVERY = 4  # participants get every 4th tick: one tally per second…
PARTICIPANTS_PER_SECOND = 2000  # …and a second more per 2,000 connected to this process
PRESENCE_EVERY = 2.0  # seconds between presence reports and store head checks
PRESENCE_TTL = 10.0


def participant_ticks(hub: Hub) -> int:
    """Ticks between participants' tallies: one a second, slower in a large room, where each
    round is a frame to every participant (5,000 a second cost a quarter of a core)."""
    return SLOW_EVERY * (1 + len(hub.audiences[Audience.PARTICIPANT]) // PARTICIPANTS_PER_SECOND)


class Pulse:
    def __init__(self, service: Service) -> None:
        self.service = service

    async def tallies(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(FAST_TICK)
            self.service.last_tick = time.monotonic()
            tick += 1
            for hub in self.service.hubs:
                self._send_tallies(hub, slow=tick % participant_ticks(hub) == 0)

    def _send_tallies(self, hub: Hub, *, slow: bool) -> None:
        audiences: list[Audience] = []
        if hub.tally_dirty_fast:
            audiences += [Audience.MODERATOR, Audience.STAGE]
            hub.tally_dirty_fast = False
        if slow and hub.tally_dirty_slow:
            audiences.append(Audience.PARTICIPANT)
            hub.tally_dirty_slow = False
        encoded = {a: encode(tally_view(hub.room.state, a, hub.seq)) for a in audiences}
        for audience, text in encoded.items():
            for sub in list(hub.audiences[audience]):
                sub.deliver_latest("tally", text)

    async def presence(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_EVERY)
            for hub in self.service.hubs:
                try:
                    await self.service.store.set_presence(
                        hub.session_id, self.service.node, hub.local_participants(), PRESENCE_TTL)
                    total = await self.service.store.presence(hub.session_id)
                except Exception:
                    log.warning("presence update failed", exc_info=True)
                    continue
                if total != hub.connected:
                    hub.connected = total
                    text = encode({"type": "Presence", "connected": total})
                    for audience in (Audience.MODERATOR, Audience.STAGE):
                        for sub in list(hub.audiences[audience]):
                            sub.deliver_latest("presence", text)
                await self.service.check_head(hub)
