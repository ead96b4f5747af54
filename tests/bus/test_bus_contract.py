"""One contract for both buses: the embedded one and Redis Pub/Sub (real server, unique prefix)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from live.bus import Bus
from live.bus.memory import MemoryBus
from live.bus.redis import RedisBus
from tests.conftest import REDIS_URL, redis_prefix
from tests.waiting import holds_for, wait_for


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    the_bus: Bus = MemoryBus() if request.param == "memory" else RedisBus(
        REDIS_URL, prefix=redis_prefix())  # Pub/Sub channels only: no keys to delete
    try:
        yield the_bus
    finally:
        await the_bus.close()


DELIVERY = 3.0  # seconds for a published message to reach a subscriber


async def test_subscribed_listener_gets_every_message_in_order(bus: Bus) -> None:
    got: list[str] = []
    await bus.subscribe("pleniere-aict", got.append)
    sent = [f'{{"n":{i},"text":"é {i}"}}' for i in range(100)]
    for message in sent:
        await bus.publish("pleniere-aict", message)
    await wait_for(lambda: len(got) >= 100, DELIVERY, "the 100 messages")
    assert got == sent


async def test_delivery_is_never_inside_the_publishers_call(bus: Bus) -> None:
    got: list[str] = []
    await bus.subscribe("s", got.append)
    await bus.publish("s", "m")
    assert got == []  # the service's listener takes locks: it must not run re-entrantly
    await wait_for(lambda: got == ["m"], DELIVERY, "the message")


async def test_unsubscribe_stops_delivery(bus: Bus) -> None:
    got: list[str] = []
    other: list[str] = []
    await bus.subscribe("s", got.append)
    await bus.subscribe("barrier", other.append)
    await bus.publish("s", "before")
    await wait_for(lambda: got == ["before"], DELIVERY, "the message before")
    await bus.unsubscribe("s")
    await bus.publish("s", "after")
    await bus.publish("barrier", "done")  # delivered in order: "after" would have come first
    await wait_for(lambda: other == ["done"], DELIVERY, "the barrier message")
    # Negative check: nothing more comes, not even a moment after the barrier.
    await holds_for(lambda: got == ["before"], 0.05, "nothing after unsubscribing")
    await bus.unsubscribe("never-subscribed")  # harmless


async def test_resubscribing_replaces_the_listener(bus: Bus) -> None:
    first: list[str] = []
    second: list[str] = []
    await bus.subscribe("s", first.append)
    await bus.unsubscribe("s")
    await bus.subscribe("s", second.append)
    await bus.publish("s", "m")
    await wait_for(lambda: second == ["m"], DELIVERY, "the message, at the new listener")
    assert first == []


async def test_channels_are_independent(bus: Bus) -> None:
    a: list[str] = []
    b: list[str] = []
    await bus.subscribe("atelier-1", a.append)
    await bus.subscribe("atelier-2", b.append)
    for i in range(20):
        await bus.publish("atelier-1" if i % 2 else "atelier-2", str(i))
    await bus.publish("atelier-3", "nobody listens")
    await wait_for(lambda: len(a) + len(b) >= 20, DELIVERY, "the 20 messages")
    assert a == [str(i) for i in range(1, 20, 2)]
    assert b == [str(i) for i in range(0, 20, 2)]


async def test_healthy_while_delivering_and_not_once_closed(bus: Bus) -> None:
    got: list[str] = []
    await bus.subscribe("s", got.append)
    await bus.publish("s", "m")
    await wait_for(lambda: got == ["m"], DELIVERY, "the message")
    assert bus.healthy
    await bus.close()
    assert not bus.healthy  # /healthz must not call a closed bus healthy


async def test_close_leaves_no_task_or_connection_behind(bus: Bus) -> None:
    got: list[str] = []
    await bus.subscribe("s", got.append)
    await bus.publish("s", "m")
    await wait_for(lambda: got == ["m"], DELIVERY, "the message")
    await bus.close()
    assert not bus.healthy
    assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()
    gc.collect()  # an unclosed socket or transport would warn here (warnings are errors)


# -- Redis only: processes ------------------------------------------------------------------


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    prefix = redis_prefix()
    a, b = RedisBus(REDIS_URL, prefix=prefix), RedisBus(REDIS_URL, prefix=prefix)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_redis_message_from_one_process_reaches_the_other(
        two_processes: tuple[RedisBus, RedisBus]) -> None:
    a, b = two_processes
    at_a: list[str] = []
    at_b: list[str] = []
    await a.subscribe("pleniere-aict", at_a.append)
    await b.subscribe("pleniere-aict", at_b.append)
    for i in range(50):
        await (a if i % 2 else b).publish("pleniere-aict", str(i))
    await wait_for(lambda: len(at_a) >= 50 and len(at_b) >= 50, DELIVERY,
                   "the 50 messages at both processes")
    assert at_a == at_b == [str(i) for i in range(50)]  # both see every message, same order


async def test_redis_a_failing_listener_does_not_stop_the_reader(
        two_processes: tuple[RedisBus, RedisBus]) -> None:
    bus, _ = two_processes
    got: list[str] = []

    def broken(message: str) -> None:
        raise ValueError(message)

    await bus.subscribe("broken", broken)
    await bus.subscribe("fine", got.append)
    await bus.publish("broken", "boom")  # logged by the reader, which goes on
    await bus.publish("fine", "still here")
    await wait_for(lambda: got == ["still here"], DELIVERY, "the message after the failure")
    assert bus.healthy


async def test_redis_publish_without_subscribing_still_reaches_others(
        two_processes: tuple[RedisBus, RedisBus]) -> None:
    a, b = two_processes
    got: list[str] = []
    await b.subscribe("s", got.append)
    await a.publish("s", "hello")  # `a` never subscribed to anything
    await wait_for(lambda: got == ["hello"], DELIVERY, "the message from the other process")


async def test_redis_prefixes_do_not_mix() -> None:
    a, b = RedisBus(REDIS_URL, prefix=redis_prefix()), RedisBus(REDIS_URL, prefix=redis_prefix())
    try:
        at_b: list[str] = []
        await b.subscribe("s", at_b.append)
        await a.publish("s", "foreign")
        await b.publish("s", "own")
        await wait_for(lambda: at_b == ["own"], DELIVERY, "the message of its own prefix")
        # Negative check: the other prefix's message, published first on another connection,
        # does not come later either.
        await holds_for(lambda: at_b == ["own"], 0.05, "nothing from the other prefix")
    finally:
        await a.close()
        await b.close()


async def test_redis_healthy_before_any_subscription() -> None:
    """A process no client has reached yet is healthy: /healthz must not keep it out of rotation."""
    bus = RedisBus(REDIS_URL, prefix=redis_prefix())
    try:
        assert bus.healthy
        await bus.subscribe("s", lambda message: None)
        assert bus.healthy
    finally:
        await bus.close()
    assert not bus.healthy


async def test_redis_reconnects_resubscribes_and_says_so() -> None:
    bus = RedisBus(REDIS_URL, prefix=redis_prefix())
    reconnects: list[bool] = []
    bus.on_reconnect = lambda: reconnects.append(True)
    got: list[str] = []
    admin = aioredis.from_url(REDIS_URL)
    try:
        await bus.subscribe("s", got.append)
        await bus.publish("s", "before")
        await wait_for(lambda: got == ["before"], DELIVERY, "the message before")
        # Cut this bus's own Pub/Sub connection (and no one else's) from the server side.
        assert bus._pubsub is not None and bus._pubsub.connection is not None
        host, port = bus._pubsub.connection._writer.get_extra_info("sockname")[:2]
        assert await admin.client_kill_filter(_type=None, addr=f"{host}:{port}") == 1
        await wait_for(lambda: reconnects and bus.healthy, 5, "reconnected and healthy")
        await bus.publish("s", "after")
        await wait_for(lambda: got == ["before", "after"], DELIVERY, "the message after")
    finally:
        await admin.aclose()
        await bus.close()
