"""News of the floor's broadcast for the session's pages: on air, or ended by the studio.

A page waiting for the studio used to learn that it went on air from the readout it polls every
3 to 6 s; a page whose studio stopped on purpose could not tell that from a lost signal. The relay
announces both here, and every process tells the pages connected to it over their WebSocket (a
`Broadcast` message, docs/protocol.md), whichever worker holds the studio. Only a WHIP `DELETE`
of the connection on air is an end: a connection that fails or times out is a drop, and pages go on
saying "signal lost" (docs/media.md, "A broadcast's start and end").
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from live.bus.base import Bus
from live.media.channels import split_key
from live.media.feeds import is_feed
from live.protocol import encode

if TYPE_CHECKING:
    from live.media.relay import Relay, Resource
    from live.service import Service

log = logging.getLogger(__name__)
CHANNEL = "media:on-air"  # one bus channel for every session (session ids have no colon)


class OnAirNews:
    def __init__(self, bus: Bus, service: Service) -> None:
        self.bus, self.service = bus, service
        # Sessions whose studio ended the broadcast, as this process heard: the readout says so to
        # pages that load afterwards. Going on air again removes it.
        self.ended: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.bus.subscribe(CHANNEL, self._heard)

    async def stop(self) -> None:
        await self.bus.unsubscribe(CHANNEL)
        for task in list(self._tasks):
            task.cancel()

    def on_air(self, session_id: str) -> None:
        """A studio's connection is up (the relay calls this once its media flows)."""
        if split_key(session_id)[1] is None:  # the floor: channels have their own readout
            self._announce(session_id, live=True)

    async def end(self, relay: Relay, resource: Resource) -> None:
        """A WHIP or WHEP `DELETE`: the client ends its connection. The studio's connection on
        air ending this way is the end of the broadcast, not a drop."""
        broadcast = relay.broadcasts.get(resource.session_id)
        deliberate = (resource.kind == "whip" and resource.source is not None
                      and broadcast is not None and broadcast.source is resource.source
                      and split_key(resource.session_id)[1] is None
                      and not is_feed(resource.session_id))
        await relay.end(resource.id)
        if deliberate:
            self._announce(resource.session_id, live=False)
            if relay.recorder is not None:
                relay.recorder.ended(resource.session_id)

    def _announce(self, session_id: str, *, live: bool) -> None:
        message = json.dumps({"session": session_id, "live": live})
        task = asyncio.ensure_future(self._publish(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, message: str) -> None:
        try:
            await self.bus.publish(CHANNEL, message)  # this process hears it back too
        except Exception as exc:  # the pages' readout poll still tells them, later
            log.warning("cannot announce %s: %r", message, exc)

    def _heard(self, message: str) -> None:
        try:
            data: Any = json.loads(message)
            session_id, live = data["session"], data["live"]
            if not isinstance(session_id, str) or not isinstance(live, bool):
                raise ValueError("bad field types")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("bad on-air news dropped: %r", exc)
            return
        if live:
            self.ended.discard(session_id)
        else:
            self.ended.add(session_id)
        text = encode({"type": "Broadcast", "live": live, "ended": not live})
        for hub in self.service.hubs:
            if hub.session_id == session_id:
                for sub in hub.subscribers:
                    sub.deliver_latest("broadcast", text)


async def delete(relay: Relay, resource: Resource) -> None:
    """A client's `DELETE` of its connection, whichever worker it reached first."""
    if relay.news is not None:
        await relay.news.end(relay, resource)
    else:
        await relay.end(resource.id)
