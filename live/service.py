"""The one place that combines the domain, the store and the bus.

A command is decided by the room, appended to the store (optimistic: the append names the sequence
number it expects), applied, fanned out to local subscribers and published on the bus. Records from
other processes come back through the bus; a gap (Pub/Sub is at most once) is filled from the store.
Every change to a hub happens under its lock, so a record is never applied twice or out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from live.bus import Bus
from live.domain import Actor, DomainError, Room
from live.domain.commands import AskQuestion, Command
from live.domain.events import TALLY_EVENTS, event_from_dict, event_to_dict
from live.domain.programme import Programme
from live.domain.ratelimit import TokenBucket
from live.hub import Applied, Hub, Subscriber
from live.protocol import encode
from live.store import Conflict, EpochChanged, Record, Store
from live.store.base import SNAPSHOT_EVERY
from live.views import Audience, Fanout, Message, project, state_view, tally_view

log = logging.getLogger(__name__)

FAST_TICK = 0.25  # tallies to moderators and the stage, at most 4 per second
SLOW_EVERY = 4  # participants get every 4th tick: one tally per second
PRESENCE_EVERY = 2.0  # seconds between presence reports and store head checks
PRESENCE_TTL = 10.0
ASK_BURST, ASK_PER_SECOND = 5, 1 / 12  # questions per participant: 5 at once, then 5 a minute
# Per network address: generous, since a venue's Wi-Fi puts many people behind one address.
CLIENT_ASK_BURST, CLIENT_ASK_PER_SECOND = 30, 1.0
APPEND_ATTEMPTS = 40  # appends a command may lose to other processes before it gives up
CONFLICT_PAUSE = 0.02  # longest random pause (s) after a lost append


def session_view(programme: Programme, session_id: str) -> Message:
    s = programme.session(session_id)
    assert s is not None
    return {
        "id": s.id, "title": s.title, "description": s.description, "date": s.day.isoformat(),
        "start": s.start.strftime("%H:%M"), "end": s.end.strftime("%H:%M"), "kind": s.kind,
        "room": s.room, "interactive": s.interactive, "streamed": s.streamed,
    }


class Service:
    def __init__(self, programme: Programme, store: Store, bus: Bus, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.programme = programme
        self.store = store
        self.bus = bus
        self.clock = clock
        self.node = secrets.token_hex(6)
        self._own_prefix = f'{{"node":"{self.node}"'  # how _publish's messages start
        self._hubs: dict[str, Hub] = {}
        self._loading: dict[str, asyncio.Task[Hub]] = {}
        self._ask_buckets: dict[str, TokenBucket] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self.last_tick = time.monotonic()  # for the health check: a stuck loop stops ticking

    async def start(self) -> None:
        self.bus.on_reconnect = self._on_bus_reconnect
        self._tasks = [asyncio.create_task(self._tally_loop(), name="tally"),
                       asyncio.create_task(self._presence_loop(), name="presence")]

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
                  epoch="", seq=0, snapshot_seq=0)
        await self._reload(hub)
        await self.bus.subscribe(session_id, lambda message: self._on_bus(hub, message))
        await self._check_head(hub)  # what was appended between the load and the subscription
        self._hubs[session_id] = hub
        return hub

    def _fresh_room(self, session_id: str) -> Room:
        info = self.programme.session(session_id)
        assert info is not None
        return Room.new(session_id, interactive=info.interactive, premoderation=info.premoderation)

    async def _reload(self, hub: Hub) -> None:
        """Rebuild the hub from the store: on first load, when the history's epoch changed, or
        when this process fell further behind than the store's history reaches."""
        loaded = await self.store.load(hub.session_id)
        room = (Room.from_snapshot(json.loads(loaded.snapshot)) if loaded.snapshot
                else self._fresh_room(hub.session_id))
        was_loaded = hub.epoch != ""
        if was_loaded and hub.epoch != loaded.epoch:
            log.warning("session %s: history restarted (epoch %s)", hub.session_id, loaded.epoch)
        hub.room, hub.epoch, hub.seq = room, loaded.epoch, loaded.snapshot_seq
        hub.snapshot_seq = loaded.snapshot_seq
        hub.recent.clear()
        for record in loaded.records:
            self._apply(hub, _decode(record), fan_out=False)
        if was_loaded:  # what changed in between was never fanned out: start clients afresh
            for sub in hub.subscribers:
                sub.deliver(self.snapshot_message(hub, sub))

    # -- commands -----------------------------------------------------------------------------

    async def execute(self, session_id: str, command: Command, actor: Actor, *,
                      client: str | None = None) -> int:
        """Decide, store, apply, fan out, publish; return the session's sequence number after it.

        `client` (the network address) bounds how many questions one machine may send, since a
        public link lets anyone take as many participant identities as they like.
        """
        hub = await self.hub(session_id)
        async with hub.lock:
            for attempt in range(APPEND_ATTEMPTS):
                now = int(self.clock() * 1000)
                events = hub.room.handle(command, actor, now, _new_id)
                if not events:
                    return hub.seq
                if attempt == 0 and isinstance(command, AskQuestion):
                    self._limit_questions(actor, client)
                applied = [Applied(hub.seq + i + 1, ev, {"type": type(ev).__name__,
                                                         "seq": hub.seq + i + 1, "at": now})
                           for i, ev in enumerate(events)]
                texts = [encode({**a.envelope, "actor": actor.label, **event_to_dict(a.event)})
                         for a in applied]
                try:
                    new_seq = await self.store.append(session_id, hub.epoch, hub.seq, texts)
                except Conflict:
                    # Another process got there first. During a burst (everyone voting at once)
                    # it keeps appending, and an immediate retry mostly loses again: pause a
                    # random, growing moment first, then catch up and decide again.
                    await asyncio.sleep(random.uniform(0, min(CONFLICT_PAUSE, 0.001 * 2**attempt)))
                    await self._catch_up(hub)
                    continue
                except EpochChanged:
                    await self._reload(hub)
                    continue
                for a in applied:
                    self._apply(hub, a, fan_out=True)
                await self._publish(hub, texts)
                await self._maybe_snapshot(hub)
                return new_seq
        raise DomainError("unavailable", "the session is too busy: try again")

    def _limit_questions(self, actor: Actor, client: str | None) -> None:
        """Raise rate_limited past a participant's or a network address's question budget."""
        now = time.monotonic()
        buckets = [self._ask_buckets.setdefault(
            f"p:{actor.participant_id}", TokenBucket(ASK_BURST, ASK_PER_SECOND))]
        if client is not None and not _is_loopback(client):
            buckets.append(self._ask_buckets.setdefault(
                f"ip:{client}", TokenBucket(CLIENT_ASK_BURST, CLIENT_ASK_PER_SECOND)))
        if not all(bucket.allows(now) for bucket in buckets):
            raise DomainError("rate_limited", "too many questions: wait a little")
        for bucket in buckets:
            bucket.take(now)

    async def _publish(self, hub: Hub, texts: list[str]) -> None:
        message = json.dumps({"node": self.node, "epoch": hub.epoch, "records": texts},
                             separators=(",", ":"))
        try:
            await self.bus.publish(hub.session_id, message)
        except Exception:  # stored already: other processes catch up from the store
            log.warning("session %s: bus publish failed", hub.session_id, exc_info=True)

    async def _maybe_snapshot(self, hub: Hub) -> None:
        if hub.seq - hub.snapshot_seq >= SNAPSHOT_EVERY:
            data = json.dumps(hub.room.snapshot(), separators=(",", ":"))
            await self.store.save_snapshot(hub.session_id, hub.epoch, hub.seq, data)
            hub.snapshot_seq = hub.seq

    def _apply(self, hub: Hub, applied: Applied, *, fan_out: bool) -> None:
        hub.room.apply(applied.event)
        hub.seq = applied.seq
        hub.recent.append(applied)
        if isinstance(applied.event, TALLY_EVENTS):
            hub.tally_dirty_fast = hub.tally_dirty_slow = True
        if fan_out:
            fanout = project(applied.event, applied.envelope, hub.room.state)
            hub.fan_out(fanout, _encode_fanout(fanout))

    # -- records from other processes ---------------------------------------------------------

    def _on_bus(self, hub: Hub, message: str) -> None:
        if message.startswith(self._own_prefix):
            return  # our own records, applied already: not worth parsing
        self._spawn(self._receive(hub, message))

    async def _receive(self, hub: Hub, message: str) -> None:
        try:
            data = json.loads(message)
            async with hub.lock:
                if data["epoch"] != hub.epoch:
                    await self._reload(hub)
                    return
                for text in data["records"]:
                    record = json.loads(text)
                    if record["seq"] <= hub.seq:
                        continue  # already fetched from the store
                    if record["seq"] != hub.seq + 1:
                        await self._catch_up(hub)
                        return
                    self._apply(hub, _applied(record), fan_out=True)
        except Exception:
            log.exception("session %s: bad bus message dropped; catching up", hub.session_id)
            async with hub.lock:
                await self._catch_up(hub)

    async def _catch_up(self, hub: Hub) -> None:
        """Apply what the store has beyond our sequence number (caller holds the lock)."""
        records = await self.store.read_since(hub.session_id, hub.epoch, hub.seq)
        if records is None:
            await self._reload(hub)
            return
        for record in records:
            if record.seq == hub.seq + 1:
                self._apply(hub, _decode(record), fan_out=True)

    def _on_bus_reconnect(self) -> None:
        for hub in list(self._hubs.values()):
            self._spawn(self._check_head(hub))

    async def _check_head(self, hub: Hub) -> None:
        try:
            epoch, seq = await self.store.head(hub.session_id)
            if epoch != hub.epoch or seq > hub.seq:
                async with hub.lock:
                    if epoch != hub.epoch:
                        await self._reload(hub)
                    else:
                        await self._catch_up(hub)
        except Exception:
            log.warning("session %s: store check failed", hub.session_id, exc_info=True)

    # -- subscribers --------------------------------------------------------------------------

    def snapshot_message(self, hub: Hub, sub: Subscriber) -> str:
        state = state_view(hub.room.state, hub.session_view, sub.audience, sub.participant_id,
                           hub.connected)
        return encode({"type": "Snapshot", "epoch": hub.epoch, "seq": hub.seq, "state": state})

    async def attach(self, session_id: str, sub: Subscriber,
                     resume: tuple[str, int] | None) -> None:
        """Send a snapshot (or the missed events) and subscribe, with nothing lost in between."""
        hub = await self.hub(session_id)
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
                text = _message_for(fanout, sub)
                if text is not None:
                    sub.deliver(text)
        hub.add(sub)
        sub.deliver_latest("tally", encode(tally_view(hub.room.state, sub.audience, hub.seq)))

    async def _stored_since(self, hub: Hub, seq: int) -> list[Applied] | None:
        records = await self.store.read_since(hub.session_id, hub.epoch, seq)
        if records is None:
            return None
        older = [_decode(r) for r in records if r.seq <= hub.seq]
        newer = hub.recent_since(older[-1].seq if older else seq)
        return None if newer is None else older + newer

    def detach(self, session_id: str, sub: Subscriber) -> None:
        hub = self._hubs.get(session_id)
        if hub is not None:
            hub.discard(sub)

    # -- coalesced tallies and presence -------------------------------------------------------

    async def _tally_loop(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(FAST_TICK)
            self.last_tick = time.monotonic()
            tick += 1
            for hub in list(self._hubs.values()):
                self._send_tallies(hub, slow=tick % SLOW_EVERY == 0)

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

    async def _presence_loop(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_EVERY)
            for hub in list(self._hubs.values()):
                try:
                    await self.store.set_presence(
                        hub.session_id, self.node, hub.local_participants(), PRESENCE_TTL)
                    total = await self.store.presence(hub.session_id)
                except Exception:
                    log.warning("presence update failed", exc_info=True)
                    continue
                if total != hub.connected:
                    hub.connected = total
                    text = encode({"type": "Presence", "connected": total})
                    for audience in (Audience.MODERATOR, Audience.STAGE):
                        for sub in list(hub.audiences[audience]):
                            sub.deliver_latest("presence", text)
                await self._check_head(hub)
            now = time.monotonic()
            for key in [k for k, b in self._ask_buckets.items() if b.full(now)]:
                del self._ask_buckets[key]  # a full bucket is the same as no bucket


def _is_loopback(address: str) -> bool:
    """Loopback peers are this machine (a local proxy without forwarded headers, the tests):
    limiting them per address would throttle everyone at once."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _applied(record: dict[str, Any]) -> Applied:
    """A stored record (envelope and event fields together) as the hub keeps it."""
    envelope = {"type": record["type"], "seq": record["seq"], "at": record["at"]}
    return Applied(record["seq"], event_from_dict(record), envelope)


def _decode(record: Record) -> Applied:
    return _applied(json.loads(record.data))


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(9)}"


def _encode_fanout(fanout: Fanout) -> dict[Any, str]:
    encoded: dict[Any, str] = {a: encode(m) for a, m in fanout.shared.items()}
    encoded.update({pid: encode(m) for pid, m in fanout.private.items()})
    return encoded


def _message_for(fanout: Fanout, sub: Subscriber) -> str | None:
    pid = sub.participant_id
    if pid is not None and pid in fanout.private:
        return encode(fanout.private[pid])
    message = fanout.shared.get(sub.audience)
    return encode(message) if message is not None else None
