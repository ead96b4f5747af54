"""The one place that combines the domain, the store and the bus.

A command is decided by the room, appended to the store (votes free and batched, the others guarded
by the session version: `live.store.base`), applied, fanned out to local subscribers and published
on the bus. Records from other processes come back through the bus; records are applied strictly in
sequence order, and a gap (Pub/Sub is at most once, and appends race) is filled from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from live.bus import Bus
from live.domain import Actor, DomainError, Room
from live.domain.commands import Command, PostCaption
from live.domain.events import TALLY_EVENTS, ParticipantBanned
from live.domain.gates import gate_changes, is_free
from live.domain.programme import Programme
from live.hub import Applied, Hub, Subscriber
from live.limits import AddressLimits, command_limits, vote_quota
from live.protocol import encode
from live.pulse import Pulse
from live.records import applied_from, body, decode, own_record
from live.store import Conflict, EpochChanged, RateLimited, Store
from live.store.base import SNAPSHOT_EVERY
from live.views import encode_fanout, message_for, project, session_view, state_view, tally_view
from live.votes import FreeAppends

log = logging.getLogger(__name__)

APPEND_ATTEMPTS = 40  # appends a command may lose to other processes before it gives up
CONFLICT_PAUSE = 0.005  # longest random pause (s) after a lost append
GAP_WAIT = 0.05  # how long a record missing from the sequence may take to come before a store read
APPLY_WAIT = 5.0  # longest wait for a command's own records to be applied before its Ack


class Service:
    def __init__(self, programme: Programme, store: Store, bus: Bus, *,
                 clock: Callable[[], float] = time.time,
                 limits: AddressLimits | None = None) -> None:
        self.programme = programme
        self.limits = limits or AddressLimits()
        self.store = store
        self.bus = bus
        self.clock = clock
        self.node = secrets.token_hex(6)
        self._own_prefix = f'{{"node":"{self.node}"'  # how _publish's messages start
        self._hubs: dict[str, Hub] = {}
        self._loading: dict[str, asyncio.Task[Hub]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self.last_tick = time.monotonic()  # for the health check: a stuck loop stops ticking
        self.applied_total = 0  # records applied (for /metrics: events per second)
        self.votes = FreeAppends(store, self._spawn, self._ingest, self._publish)

    async def start(self) -> None:
        self.bus.on_reconnect = self._on_bus_reconnect
        pulse = Pulse(self)
        self._tasks = [asyncio.create_task(pulse.tallies(), name="tally"),
                       asyncio.create_task(pulse.presence(), name="presence")]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` in the background, keeping a reference until it ends (and for stop())."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def hubs(self) -> list[Hub]:
        """The sessions this process has loaded."""
        return list(self._hubs.values())

    def knows(self, session_id: str) -> bool:
        return self.programme.session(session_id) is not None

    # -- hubs ---------------------------------------------------------------------------------

    async def hub(self, session_id: str) -> Hub:
        """The session's hub, loaded from the store and subscribed to the bus on first use."""
        hub = self._hubs.get(session_id)
        if hub is not None:
            return hub
        task = self._loading.get(session_id)
        if task is None:
            task = asyncio.create_task(self._load(session_id))
            self._loading[session_id] = task
            # Forget the load only once it is over: a cancelled waiter must not start a second one.
            task.add_done_callback(lambda _: self._loading.pop(session_id, None))
        return await asyncio.shield(task)

    async def _load(self, session_id: str) -> Hub:
        info = self.programme.session(session_id)
        if info is None:
            raise KeyError(session_id)
        hub = Hub(session_id, session_view(self.programme, session_id), self._fresh_room(session_id),
                  epoch="", seq=0, version=0, snapshot_seq=0)
        await self._reload(hub)
        await self.bus.subscribe(session_id, lambda message: self._on_bus(hub, message))
        await self.check_head(hub)  # what was appended between the load and the subscription
        self._hubs[session_id] = hub
        return hub

    def _fresh_room(self, session_id: str) -> Room:
        info = self.programme.session(session_id)
        assert info is not None
        return Room.new(session_id, interactive=info.interactive, premoderation=info.premoderation,
                        languages=info.languages)

    async def _reload(self, hub: Hub) -> None:
        """Rebuild the hub from the store: on first load, when the history's epoch changed, or
        when this process fell further behind than the store's history reaches."""
        loaded = await self.store.load(hub.session_id)
        info = self.programme.session(hub.session_id)
        assert info is not None
        room = (Room.from_snapshot(json.loads(loaded.snapshot), languages=info.languages)
                if loaded.snapshot else self._fresh_room(hub.session_id))
        room.state.interactive = info.interactive  # the programme's, edited since the snapshot
        was_loaded = hub.epoch != ""
        if was_loaded and hub.epoch != loaded.epoch:
            log.warning("session %s: history restarted (epoch %s)", hub.session_id, loaded.epoch)
        hub.room, hub.epoch = room, loaded.epoch
        hub.seq, hub.version = loaded.snapshot_seq, loaded.snapshot_version
        hub.snapshot_seq = loaded.snapshot_seq
        hub.recent.clear()
        hub.pending.clear()
        for record in loaded.records:
            self._apply(hub, decode(record), fan_out=False)
        hub.wake(everyone=True)
        if was_loaded:  # what changed in between was never fanned out: start clients afresh
            for sub in hub.subscribers:
                sub.deliver(self.snapshot_message(hub, sub))

    # -- commands -----------------------------------------------------------------------------

    async def execute(self, session_id: str, command: Command, actor: Actor, *,
                      client: str | None = None) -> int:
        """Decide, store, apply, fan out, publish; return the session's sequence number after it.

        Votes are appended free (see `live.domain.gates`); every other command is decided on the
        latest version of the session and retried if another process's command came first.
        `client` (the network address) bounds how many questions, ballots per poll and upvotes
        per question one machine may send, since a public link lets anyone take as many
        participant identities as they like (`live.limits`).
        """
        hub = await self.hub(session_id)
        for _ in range(APPEND_ATTEMPTS):
            now = int(self.clock() * 1000)
            events = hub.room.handle(command, actor, now, _new_id)
            if not events:
                return hub.seq
            epoch = hub.epoch
            try:
                if is_free(events):
                    quota = vote_quota(events[0], actor, client, self.limits)
                    applied = [await self.votes.append(hub, events[0], actor, now, quota)]
                else:
                    applied = await self._append_guarded(
                        hub, command, actor, command_limits(command, actor, client))
                    if applied:
                        await self._publish(hub, applied)
            except EpochChanged:
                await self._resync(hub, stale_epoch=epoch)
                continue
            if not applied:
                return hub.seq
            await self._hold_banned_addresses(applied)
            await self._maybe_snapshot(hub)
            # The Ack follows the command's events (docs/protocol.md); a gap before them closes
            # within GAP_WAIT and a store read, and the records are stored whatever happens.
            waiting = hub.applied(applied[-1].seq)
            if waiting is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting, APPLY_WAIT)
            return applied[-1].seq
        raise DomainError("unavailable", "the session is too busy: try again")

    async def _append_guarded(self, hub: Hub, command: Command, actor: Actor,
                              limits: list[tuple[str, float, float]] | None) -> list[Applied]:
        """Decide on the latest version and append; [] if there is nothing (left) to do."""
        async with hub.lock:  # this process's guarded commands would only conflict with each other
            for _ in range(APPEND_ATTEMPTS):
                now = int(self.clock() * 1000)
                events = hub.room.handle(command, actor, now, _new_id)
                if not events:
                    return []
                bodies = [body(event, actor, now) for event in events]
                try:
                    records = await self.store.append(
                        hub.session_id, hub.epoch, hub.version, bodies, gate_changes(events),
                        limits)
                except RateLimited:
                    what = "captions" if isinstance(command, PostCaption) else "questions"
                    # At most the slowest budget's time to earn one more (budgets: `live.limits`).
                    wait = max((1 / rate for _, _, rate in limits or () if rate > 0), default=1)
                    raise DomainError("rate_limited", f"too many {what}: wait a little",
                                      retry_after=math.ceil(wait)) from None
                except Conflict:
                    # Another process's guarded command came first: catch up, decide again.
                    await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE))
                    await self._resync(hub, catch_up=True)
                    continue
                applied = [own_record(r, ev, now) for r, ev in zip(records, events, strict=True)]
                # Applied before the lock is released, unless a gap holds them back, so that the
                # next command is decided on them.
                self._ingest(hub, applied)
                return applied
        raise DomainError("unavailable", "the session is too busy: try again")

    async def _hold_banned_addresses(self, applied: list[Applied]) -> None:
        """A ban also refuses new identities from the banned one's address for a while, so that
        they cannot come back at once as someone new (`AddressLimits.ban_hold`)."""
        for a in applied:
            if isinstance(a.event, ParticipantBanned) and self.limits.ban_hold > 0:
                try:
                    await self.store.hold_address_of(a.event.participant_id, self.limits.ban_hold)
                except Exception:  # the ban itself stands
                    log.warning("could not hold a banned participant's address", exc_info=True)

    async def _publish(self, hub: Hub, applied: list[Applied]) -> None:
        texts = ",".join(a.text for a in applied)
        message = f'{{"node":"{self.node}","epoch":"{hub.epoch}","records":[{texts}]}}'
        try:
            await self.bus.publish(hub.session_id, message)
        except Exception:  # stored already: other processes catch up from the store
            log.warning("session %s: bus publish failed", hub.session_id, exc_info=True)

    async def _maybe_snapshot(self, hub: Hub) -> None:
        if hub.seq - hub.snapshot_seq >= SNAPSHOT_EVERY:
            seq, version = hub.seq, hub.version
            hub.snapshot_seq = seq  # before the await: concurrent commands must not snapshot too
            data = json.dumps(hub.room.snapshot(), separators=(",", ":"))
            await self.store.save_snapshot(hub.session_id, hub.epoch, seq, version, data)

    # -- applying records in order --------------------------------------------------------------

    def _ingest(self, hub: Hub, applied: list[Applied]) -> None:
        """Apply records in sequence order, whatever order they come in (our own appends and
        other processes' bus messages race); a gap that stays open is filled from the store."""
        for a in applied:
            if a.seq > hub.seq:
                hub.pending[a.seq] = a
        while hub.seq + 1 in hub.pending:
            self._apply(hub, hub.pending.pop(hub.seq + 1), fan_out=True)
        hub.wake()
        if hub.pending and not hub.gap_timer:
            hub.gap_timer = True
            self._spawn(self._fill_gap(hub))

    async def _fill_gap(self, hub: Hub) -> None:
        await asyncio.sleep(GAP_WAIT)
        hub.gap_timer = False
        for seq in [s for s in hub.pending if s <= hub.seq]:
            del hub.pending[seq]
        if hub.pending:
            await self._resync(hub, catch_up=True)

    def _apply(self, hub: Hub, applied: Applied, *, fan_out: bool) -> None:
        hub.room.apply(applied.event)
        self.applied_total += 1
        hub.seq, hub.version = applied.seq, applied.version
        hub.recent.append(applied)
        event = applied.event
        if isinstance(event, TALLY_EVENTS):
            hub.tally_dirty_fast = hub.tally_dirty_slow = True
            if event.participant_id not in hub.participants:
                return  # a vote goes to its voter alone (counts go in tallies), not connected here
        if fan_out:
            fanout = project(event, applied.envelope, hub.room.state)
            hub.fan_out(fanout, encode_fanout(fanout))

    async def _resync(self, hub: Hub, *, catch_up: bool = False,
                      stale_epoch: str | None = None) -> None:
        """Apply what the store has beyond our sequence number, or reload if that is gone (or
        `catch_up` is false: the epoch changed). One store read at a time per hub; a reload for
        `stale_epoch` is skipped if another one already left it."""
        async with hub.sync:
            if stale_epoch is not None and hub.epoch != stale_epoch:
                return
            if catch_up:
                records = await self.store.read_since(hub.session_id, hub.epoch, hub.seq)
                if records is not None:
                    self._ingest(hub, [decode(r) for r in records if r.seq > hub.seq])
                    return
            await self._reload(hub)

    # -- records from other processes ---------------------------------------------------------

    def _on_bus(self, hub: Hub, message: str) -> None:
        if message.startswith(self._own_prefix):
            return  # our own records, applied already: not worth parsing
        try:
            data = json.loads(message)
            if data["epoch"] == hub.epoch:
                self._ingest(hub, [applied_from(record) for record in data["records"]])
                return
        except Exception:
            log.exception("session %s: bad bus message dropped; catching up", hub.session_id)
            self._spawn(self._resync(hub, catch_up=True))
            return
        self._spawn(self.check_head(hub))  # another epoch: ours may be the stale one

    def _on_bus_reconnect(self) -> None:
        for hub in list(self._hubs.values()):
            self._spawn(self.check_head(hub))

    async def check_head(self, hub: Hub) -> None:
        try:
            epoch, seq = await self.store.head(hub.session_id)
            if epoch != hub.epoch:
                await self._resync(hub)
            elif seq > hub.seq:
                await self._resync(hub, catch_up=True)
        except Exception:
            log.warning("session %s: store check failed", hub.session_id, exc_info=True)

    # -- subscribers --------------------------------------------------------------------------

    def snapshot_message(self, hub: Hub, sub: Subscriber) -> str:
        state = state_view(hub.room.state, hub.session_view, sub.audience, sub.participant_id,
                           hub.connected, booth=sub.booth)
        return encode({"type": "Snapshot", "epoch": hub.epoch, "seq": hub.seq, "state": state})

    async def attach(self, session_id: str, sub: Subscriber,
                     resume: tuple[str, int] | None) -> None:
        """Send a snapshot (or the missed events) and subscribe, with nothing lost in between."""
        hub = await self.hub(session_id)
        if resume is not None and resume[0] == hub.epoch and resume[1] > hub.seq:
            # The client was served by a process further along than this one's bus has brought
            # it: read what we miss first, or it would get an older snapshot, then events twice.
            await self._resync(hub, catch_up=True)
        replay: list[Applied] | None = None
        if resume is not None and resume[0] == hub.epoch and 0 <= resume[1] <= hub.seq:
            replay = hub.recent_since(resume[1])
            if replay is None:
                replay = await self._stored_since(hub, resume[1])
                if resume[0] != hub.epoch:  # the history restarted while we read it
                    replay = None
        # From here to the end nothing awaits: no event can slip between the replay and the live feed.
        if replay is None:
            sub.deliver(self.snapshot_message(hub, sub))
        else:
            assert resume is not None
            sub.deliver(encode({"type": "Resumed", "epoch": hub.epoch, "from": resume[1],
                                "seq": hub.seq}))
            for applied in replay:
                fanout = project(applied.event, applied.envelope, hub.room.state)
                text = message_for(fanout, sub.audience, sub.participant_id, sub.booth)
                if text is not None:
                    sub.deliver(text)
        hub.add(sub)
        sub.deliver_latest("tally", encode(tally_view(hub.room.state, sub.audience, hub.seq)))

    async def _stored_since(self, hub: Hub, seq: int) -> list[Applied] | None:
        records = await self.store.read_since(hub.session_id, hub.epoch, seq)
        if records is None:
            return None
        older = [decode(r) for r in records if r.seq <= hub.seq]
        newer = hub.recent_since(older[-1].seq if older else seq)
        return None if newer is None else older + newer

    def detach(self, session_id: str, sub: Subscriber) -> None:
        hub = self._hubs.get(session_id)
        if hub is not None:
            hub.discard(sub)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(9)}"
