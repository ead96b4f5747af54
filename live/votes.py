"""Votes (ballots, upvotes) appended free and grouped: the service's fast path.

Votes need no version check (`live.domain.gates`), so those that come while a store call is in
flight go together in the next one: a lone vote goes at once; in a burst, each round trip carries
many, and the votes never queue for the store's connections. Each vote may carry its share of its
network address's budget (`live.limits.vote_quota`), checked by the store in the same call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from live.domain import Actor, DomainError
from live.domain.events import Event
from live.domain.gates import refusal, required_gate
from live.hub import Applied, FreeAppend, Hub
from live.records import body, own_record
from live.store import Quota, Refusal, Store

FREE_BATCH = 500  # votes in one store call at most


class FreeAppends:
    def __init__(self, store: Store, spawn: Callable[[Coroutine[Any, Any, None]], None],
                 ingest: Callable[[Hub, list[Applied]], None],
                 publish: Callable[[Hub, list[Applied]], Awaitable[None]]) -> None:
        self.store = store
        self._spawn, self._ingest, self._publish = spawn, ingest, publish

    async def append(self, hub: Hub, event: Event, actor: Actor, now: int,
                     quota: Quota | None = None) -> Applied:
        """The vote's record once stored and applied; DomainError if its gate was closed or its
        address's share spent."""
        item = FreeAppend(body(event, actor, now), required_gate(event), event, now,
                          asyncio.get_running_loop().create_future(), quota)
        hub.free_queue.append(item)
        if not hub.free_flushing:
            hub.free_flushing = True
            self._spawn(self._flush(hub))
        return await item.done

    async def _flush(self, hub: Hub) -> None:
        """One store call and one publish for the votes that came while the previous call was in
        flight, until none waits."""
        try:
            while hub.free_queue:
                batch = hub.free_queue[:FREE_BATCH]
                del hub.free_queue[:FREE_BATCH]
                quotas = [item.quota for item in batch]
                try:
                    records = await self.store.append_free(
                        hub.session_id, hub.epoch, [(item.body, item.gate) for item in batch],
                        quotas if any(quotas) else None)
                except Exception as exc:  # EpochChanged, Redis away: each command decides
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)
                    continue
                applied = []
                for item, record in zip(batch, records, strict=True):
                    if record is None or isinstance(record, Refusal):
                        outcome: Applied | DomainError = refusal(
                            item.event, over_limit=record is not None)
                    else:
                        outcome = own_record(record, item.event, item.now)
                        applied.append(outcome)
                    if item.done.done():  # its client went away: the vote stands all the same
                        continue
                    if isinstance(outcome, DomainError):
                        item.done.set_exception(outcome)
                    else:
                        item.done.set_result(outcome)
                if applied:
                    self._ingest(hub, applied)
                    await self._publish(hub, applied)
        finally:
            hub.free_flushing = False
