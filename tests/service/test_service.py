"""The service without a server: memory store and bus, real asyncio."""

from __future__ import annotations

from typing import Any

import pytest

from live.bus.memory import MemoryBus
from live.config import load_programme
from live.domain import Actor, DomainError, Role
from live.domain import commands as c
from live.service import ASK_BURST, CLIENT_ASK_BURST, Service
from live.store.base import HISTORY
from live.store.memory import MemoryStore
from live.views import Audience

SESSION = "pleniere-geopolitique"


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
    async with hub.lock:
        await service._catch_up(hub)
    assert hub.seq == HISTORY + 5
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
    assert hub.seq == 1 and hub.room.state.premoderation is False
