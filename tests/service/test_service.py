"""The service without a server: memory store and bus, real asyncio."""

from __future__ import annotations

import asyncio
import collections
import json
from dataclasses import replace
from typing import Any

import pytest

from live.bus.memory import MemoryBus
from live.config import load_programme
from live.domain import Actor, DomainError, Role
from live.domain import commands as c
from live.limits import ASK_BURST, CLIENT_ASK_BURST
from live.service import Service
from live.store.base import HISTORY
from live.store.memory import MemoryStore
from live.views import Audience
from tests.conftest import SESSION


@pytest.fixture
async def service() -> Service:
    return Service(load_programme(None), MemoryStore(), MemoryBus())


async def test_questions_are_limited_per_participant(service: Service) -> None:
    anna = Actor(Role.PARTICIPANT, "u_anna")
    for i in range(ASK_BURST):
        await service.execute(SESSION, c.AskQuestion(f"q{i}"), anna)
    with pytest.raises(DomainError) as info:
        await service.execute(SESSION, c.AskQuestion("one more"), anna)
    assert info.value.code == "rate_limited"
    # A refused command costs nothing and is not stored.
    hub = await service.hub(SESSION)
    assert len(hub.room.state.questions) == ASK_BURST


async def test_fresh_identities_from_one_address_are_limited_too(service: Service) -> None:
    accepted = 0
    for i in range(CLIENT_ASK_BURST + 10):
        try:
            await service.execute(SESSION, c.AskQuestion(f"spam {i}"),
                                  Actor(Role.PARTICIPANT, f"u_{i}"), client="203.0.113.7")
            accepted += 1
        except DomainError as exc:
            assert exc.code == "rate_limited"
    assert accepted == CLIENT_ASK_BURST
    # Another address, and this machine (a local proxy, tests), are not affected.
    await service.execute(SESSION, c.AskQuestion("legit"), Actor(Role.PARTICIPANT, "u_x"),
                          client="198.51.100.1")
    await service.execute(SESSION, c.AskQuestion("local"), Actor(Role.PARTICIPANT, "u_y"),
                          client="127.0.0.1")


async def test_a_banned_participant_hears_banned_not_rate_limited(service: Service) -> None:
    anna, moderator = Actor(Role.PARTICIPANT, "u_anna"), Actor(Role.MODERATOR)
    for i in range(ASK_BURST):
        await service.execute(SESSION, c.AskQuestion(f"q{i}"), anna)
    hub = await service.hub(SESSION)
    first = next(iter(hub.room.state.questions))
    await service.execute(SESSION, c.BanParticipant(first), moderator)
    with pytest.raises(DomainError) as info:
        await service.execute(SESSION, c.AskQuestion("again"), anna)
    assert info.value.code == "banned"


async def test_falling_behind_the_history_resends_snapshots(service: Service) -> None:
    """A process that missed more than the store keeps reloads, and its clients start afresh."""
    class Sink:
        audience = Audience.STAGE
        participant_id = None
        booth = None

        def __init__(self) -> None:
            self.messages: list[str] = []

        def deliver(self, text: str) -> None:
            self.messages.append(text)

        def deliver_latest(self, slot: str, text: str) -> None:
            pass

    other = Service(service.programme, service.store, MemoryBus())  # a second process, deaf
    sink = Sink()
    await service.attach(SESSION, sink, None)
    moderator = Actor(Role.MODERATOR)
    for i in range(HISTORY + 5):
        await other.execute(SESSION, c.SetPremoderation(i % 2 == 1), moderator)
    hub = await service.hub(SESSION)
    await service._resync(hub, catch_up=True)
    assert hub.seq == 2 * (HISTORY + 5)  # each act and its moderation log line
    assert sum('"type":"Snapshot"' in m for m in sink.messages) == 2


async def test_records_appended_while_subscribing_are_not_missed(service: Service) -> None:
    """Between a hub's load and its bus subscription another process may append: the load then
    checks the store's head instead of waiting for the next periodic check."""
    other = Service(service.programme, service.store, MemoryBus())
    bus = service.bus
    subscribe = bus.subscribe

    async def subscribe_after_a_write(channel: str, listener: Any) -> None:
        await other.execute(SESSION, c.SetPremoderation(False), Actor(Role.MODERATOR))
        await subscribe(channel, listener)

    bus.subscribe = subscribe_after_a_write  # type: ignore[method-assign]
    hub = await service.hub(SESSION)
    assert hub.seq == 2 and hub.room.state.premoderation is False  # the act and its log line


def two_processes(service: Service) -> Service:
    """A second service on the same store whose bus hears nothing: only the store links them."""
    return Service(service.programme, service.store, MemoryBus())


async def test_votes_of_two_processes_never_conflict_and_both_converge(service: Service) -> None:
    """Ballots, upvotes and questions from two processes at once: every accepted one is counted,
    its retry recorded no second time, and each process ends with the whole log, its late records
    fetched from the store."""
    other = two_processes(service)
    moderator = Actor(Role.MODERATOR)
    await service.execute(SESSION, c.SetPremoderation(False), moderator)
    await service.execute(SESSION, c.CreatePoll("Choix ?", ["A", "B"]), moderator)
    hub = await service.hub(SESSION)
    poll_id = next(iter(hub.room.state.polls))
    await service.execute(SESSION, c.OpenPoll(poll_id), moderator)
    await service.execute(SESSION, c.AskQuestion("Q ?"), Actor(Role.PARTICIPANT, "author"))
    question_id = next(iter(hub.room.state.questions))
    await other._resync(await other.hub(SESSION), catch_up=True)

    async def voter(n: int) -> None:
        proc = (service, other)[n % 2]
        me = Actor(Role.PARTICIPANT, f"voter{n}")
        seq = await proc.execute(SESSION, c.CastBallot(poll_id, [n % 2]), me)
        # The Ack comes after the command's events, even when the other process's records
        # before them had to be read from the store first.
        assert (await proc.hub(SESSION)).seq >= seq
        await proc.execute(SESSION, c.UpvoteQuestion(question_id), me)
        await proc.execute(SESSION, c.CastBallot(poll_id, [n % 2]), me)  # a retry: no change
        if n % 10 == 0:
            await proc.execute(SESSION, c.AskQuestion(f"Q{n} ?"), me)

    await asyncio.gather(*(voter(n) for n in range(200)))
    hubs = [await service.hub(SESSION), await other.hub(SESSION)]
    # Every execute returned after its own records were applied: a process that missed others'
    # records before them read them from the store. What came after, the periodic head check
    # (or the bus, deaf here) brings.
    for proc, h in zip((service, other), hubs, strict=True):
        await proc.check_head(h)
    for h in hubs:
        assert h.seq == (await service.store.head(SESSION))[1] and not h.pending
        poll = h.room.state.polls[poll_id]
        assert len(poll.ballots) == 200
        assert sorted(poll.ballots.values()).count((0,)) == 100
        assert len(h.room.state.questions[question_id].voters) == 200
        assert len(h.room.state.questions) == 21
    assert hubs[0].room.snapshot() == hubs[1].room.snapshot()
    # Counted once: a ballot replaces the voter's earlier one, so the tallies above cannot show a
    # doubled vote; the log can. Each voter's retry after its Ack added no record.
    epoch, _ = await service.store.head(SESSION)
    assert epoch is not None
    records = await service.store.read_since(SESSION, epoch, 0)
    assert records is not None
    kinds = collections.Counter(json.loads(r.data)["type"] for r in records)
    assert kinds["BallotCast"] == 200 and kinds["QuestionUpvoted"] == 200, kinds


async def test_a_vote_decided_on_stale_state_after_the_close_is_refused(service: Service) -> None:
    """The process that takes the ballot has not heard of the close yet: the store's gate has."""
    other = two_processes(service)
    moderator = Actor(Role.MODERATOR)
    await service.execute(SESSION, c.CreatePoll("Choix ?", ["A", "B"]), moderator)
    poll_id = next(iter((await service.hub(SESSION)).room.state.polls))
    await service.execute(SESSION, c.OpenPoll(poll_id), moderator)
    stale = await other.hub(SESSION)
    await other._resync(stale, catch_up=True)
    assert stale.room.state.polls[poll_id].status == "open"
    await service.execute(SESSION, c.ClosePoll(poll_id), moderator)
    head = await service.store.head(SESSION)
    with pytest.raises(DomainError) as info:
        await other.execute(SESSION, c.CastBallot(poll_id, [0]), Actor(Role.PARTICIPANT, "late"))
    assert info.value.code == "conflict"
    assert await service.store.head(SESSION) == head  # nothing appended


async def test_a_guarded_command_on_stale_state_is_decided_again(service: Service) -> None:
    """Two processes close the same poll: the second one's first try conflicts, it catches up,
    and deciding again finds the poll closed already."""
    other = two_processes(service)
    moderator = Actor(Role.MODERATOR)
    await service.execute(SESSION, c.CreatePoll("Choix ?", ["A", "B"]), moderator)
    poll_id = next(iter((await service.hub(SESSION)).room.state.polls))
    await service.execute(SESSION, c.OpenPoll(poll_id), moderator)
    await other._resync(await other.hub(SESSION), catch_up=True)
    await service.execute(SESSION, c.ClosePoll(poll_id), moderator)
    with pytest.raises(DomainError) as info:
        await other.execute(SESSION, c.ClosePoll(poll_id), moderator)
    assert info.value.code == "conflict"
    assert (await other.hub(SESSION)).room.state.polls[poll_id].status == "closed"
    assert await service.store.gates(SESSION) == set()


async def test_a_participant_question_budget_holds_across_processes(service: Service) -> None:
    """Reconnecting to another process must not refill a participant's question budget."""
    other = two_processes(service)
    anna = Actor(Role.PARTICIPANT, "anna")
    for n in range(ASK_BURST):
        await (service, other)[n % 2].execute(SESSION, c.AskQuestion(f"Q{n} ?"), anna)
    for proc in (service, other):
        with pytest.raises(DomainError) as info:
            await proc.execute(SESSION, c.AskQuestion("Encore ?"), anna)
        assert info.value.code == "rate_limited"


async def test_votes_arriving_together_share_one_store_call(service: Service) -> None:
    """Group commit: the votes queued while a store call is in flight go in the next one."""
    moderator = Actor(Role.MODERATOR)
    await service.execute(SESSION, c.CreatePoll("Choix ?", ["A", "B"]), moderator)
    hub = await service.hub(SESSION)
    poll_id = next(iter(hub.room.state.polls))
    await service.execute(SESSION, c.OpenPoll(poll_id), moderator)
    calls: list[int] = []
    append_free = service.store.append_free

    async def counted(session_id: str, epoch: str, items: list[tuple[str, str]],
                      quotas: Any = None) -> Any:
        calls.append(len(items))
        await asyncio.sleep(0.01)  # a round trip to Redis
        return await append_free(session_id, epoch, items, quotas)

    service.store.append_free = counted  # type: ignore[method-assign]
    seqs = await asyncio.gather(*(
        service.execute(SESSION, c.CastBallot(poll_id, [n % 2]), Actor(Role.PARTICIPANT, f"v{n}"))
        for n in range(300)))
    assert sum(calls) == 300 and len(calls) < 10, calls
    # Every Ack names its own record (after the poll's creation, opening and their log lines).
    assert sorted(seqs) == list(range(5, 305))
    assert len(hub.room.state.polls[poll_id].ballots) == 300


async def test_votes_that_meet_a_restarted_history_reload_it_once(service: Service) -> None:
    """Redis lost the session (a new epoch): a batch of votes all hear EpochChanged, and the
    hub reloads once for all of them, not once per vote."""
    moderator = Actor(Role.MODERATOR)
    await service.execute(SESSION, c.CreatePoll("Choix ?", ["A", "B"]), moderator)
    hub = await service.hub(SESSION)
    poll_id = next(iter(hub.room.state.polls))
    await service.execute(SESSION, c.OpenPoll(poll_id), moderator)
    store = service.store
    assert isinstance(store, MemoryStore)
    store._logs.pop(SESSION)  # what a Redis restarted without persistence looks like
    loads = 0
    load = store.load

    async def counted(session_id: str) -> Any:
        nonlocal loads
        loads += 1
        return await load(session_id)

    store.load = counted  # type: ignore[method-assign]
    results = await asyncio.gather(*(
        service.execute(SESSION, c.CastBallot(poll_id, [0]), Actor(Role.PARTICIPANT, f"v{n}"))
        for n in range(50)), return_exceptions=True)
    assert loads == 1
    # The poll went with the old history: every vote is refused, none lost in a retry loop.
    assert all(isinstance(r, DomainError) and r.code == "not_found" for r in results), results


async def test_a_client_ahead_of_this_process_resumes_without_an_older_snapshot(
        service: Service) -> None:
    """A client served by a process further along reconnects to one its bus has not caught up:
    the process reads what it misses from the store first, then resumes the client from its own
    sequence number (an older snapshot would take back what the client already showed)."""
    class Sink:
        audience = Audience.STAGE
        participant_id = None
        booth = None

        def __init__(self) -> None:
            self.messages: list[dict[str, Any]] = []

        def deliver(self, text: str) -> None:
            self.messages.append(json.loads(text))

        def deliver_latest(self, slot: str, text: str) -> None:
            pass

    behind = two_processes(service)
    await behind.hub(SESSION)  # loaded now, then deaf to what the first process appends
    moderator = Actor(Role.MODERATOR)
    for i in range(3):
        await service.execute(SESSION, c.SetPremoderation(i % 2 == 0), moderator)
    ahead = await service.hub(SESSION)
    sink = Sink()
    await behind.attach(SESSION, sink, (ahead.epoch, ahead.seq))
    assert sink.messages[0] == {"type": "Resumed", "epoch": ahead.epoch, "from": ahead.seq,
                                "seq": ahead.seq}
    assert [m["type"] for m in sink.messages[1:]] == []
    assert (await behind.hub(SESSION)).room.state.premoderation is True


async def test_a_room_loaded_from_a_snapshot_takes_questions_as_the_programme_says_now(
        service: Service) -> None:
    """A snapshot taken while the session took questions does not keep it interactive once the
    programme made it a break: the programme decides, as it does for a loaded room."""

    await service.execute(SESSION, c.AskQuestion("Avant ?"), Actor(Role.PARTICIPANT, "u_1"))
    hub = await service.hub(SESSION)
    store = service.store
    await store.save_snapshot(SESSION, hub.epoch, hub.seq, hub.version,
                              json.dumps(hub.room.snapshot()))
    programme = service.programme
    service.programme = replace(programme, sessions=tuple(
        replace(s, interactive=False) if s.id == SESSION else s for s in programme.sessions))
    other = Service(service.programme, store, MemoryBus())
    with pytest.raises(DomainError) as refused:
        await other.execute(SESSION, c.AskQuestion("Encore ?"), Actor(Role.PARTICIPANT, "u_1"))
    assert refused.value.code == "not_interactive"
