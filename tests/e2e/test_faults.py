"""Faults under `run.py --workers 2`: a worker killed mid-burst, Redis restarted under the service."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets

from tests.conftest import SESSION, redis_prefix
from tests.e2e.supervised import PrivateRedis, Service, paused
from tests.waiting import wait_for
from tests.wsclient import Client, poll_of

pytestmark = pytest.mark.redis

VOTERS = 200
FAN_OUT = 3.0


class Voter:
    """A participant that votes once and, like the real page, reconnects with resume when its
    connection drops, re-sending its ballot if no Ack came back (a repeat is a no-op)."""

    def __init__(self, service: Service, client: Client, choice: int) -> None:
        self.service, self.client, self.choice = service, client, choice
        self.identity = client.participant
        self.acked = False
        self.reconnects = 0

    @property
    def dropped(self) -> bool:
        return self.client.closed_code is not None

    async def vote(self, poll_id: str, delay: float) -> None:
        await asyncio.sleep(delay)  # the burst is spread over about a second
        deadline = time.monotonic() + 30
        while not self.acked:
            assert time.monotonic() < deadline, "no Ack for the ballot in time"
            try:
                reply = await self.client.send("CastBallot", poll_id=poll_id, choices=[self.choice])
            except (AssertionError, websockets.ConnectionClosed):  # dropped before the answer
                await self.reconnect()
                continue
            if reply["type"] == "Ack":
                self.acked = True
            else:  # storage briefly unavailable (the worker holding a lock died): try again
                assert reply["code"] == "unavailable", reply
                await asyncio.sleep(0.2)

    async def reconnect(self) -> None:
        """Resume where the dropped connection was, on whichever worker accepts."""
        old = self.client
        if old.ws is not None and old.closed_code is None:
            await old.close()
        for attempt in range(50):
            client = Client(self.service.ws_base, SESSION, self.service.tokens["participant"])
            client.view = old.view
            try:
                await client.connect(participant=self.identity, resume=(old.epoch, old.seq))
                break
            except (OSError, AssertionError, websockets.WebSocketException):
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.0))
        else:
            raise AssertionError("could not reconnect")
        assert client.participant == self.identity
        self.client, self.reconnects = client, self.reconnects + 1


async def test_a_worker_killed_mid_burst_loses_no_acknowledged_vote_nor_any_voter_s_identity(
        service: Service) -> None:
    """A ballot replaces its voter's earlier one, so a re-sent ballot cannot be counted twice
    under the same identity; what can go wrong is a voter coming back as someone else (counted
    again) or an acknowledged ballot lost. Both are checked: each voter resumes with its identity,
    there are exactly as many ballots as voters, and the counts are the acknowledged choices."""
    pids = service.worker_pids()
    async with paused(pids[1]):  # the moderator and the stage on worker 0, which survives
        moderator = await service.connect("moderator")
        stage = await service.connect("stage")
    await moderator.ok("CreatePoll", question="Un fonds commun ?", options=["Oui", "Non", "Abstention"],
                       multiple=False)
    poll_id = moderator.view["polls"][0]["id"]
    await moderator.ok("OpenPoll", poll_id=poll_id)

    voters: list[Voter] = []
    for other in (pids[1], pids[0]):  # half the voters on each worker
        async with paused(other):
            clients = await asyncio.gather(*(service.connect("participant")
                                             for _ in range(VOTERS // 2)))
        voters += [Voter(service, c, (len(voters) + i) % 3) for i, c in enumerate(clients)]
    await asyncio.gather(*(v.client.wait_for(
        lambda v=v: any(p["id"] == poll_id for p in v.client.view["polls"])) for v in voters))

    burst = [asyncio.create_task(v.vote(poll_id, delay=i * 0.005)) for i, v in enumerate(voters)]
    await wait_for(lambda: sum(v.acked for v in voters) >= 30, 10, "the burst under way")
    os.kill(pids[1], signal.SIGKILL)
    acked_before_kill = sum(v.acked for v in voters)
    await asyncio.gather(*burst)
    assert acked_before_kill < VOTERS, "the burst was over before the kill: nothing tested"

    # Those acknowledged before the kill reconnect too (the others did, to re-send).
    await asyncio.gather(*(v.reconnect() for v in voters if v.dropped))
    assert sum(v.reconnects > 0 for v in voters) >= VOTERS // 2, "worker 1's voters lost their socket"
    # Re-synced (resumed or a fresh snapshot): each one's own ballot is in its state.
    for v in voters:
        await v.client.wait_for(lambda v=v: v.client.view["me"]["ballots"].get(poll_id)
                                == [v.choice], timeout=FAN_OUT)

    expected = [sum(v.choice == k for v in voters if v.acked) for k in range(3)]
    assert sum(expected) == VOTERS  # every voter got its Ack in the end
    await stage.wait_for(lambda: poll_of(stage, poll_id)["ballots"] == VOTERS, timeout=FAN_OUT)
    await moderator.wait_for(lambda: poll_of(moderator, poll_id)["counts"] == expected,
                             timeout=FAN_OUT)
    assert poll_of(moderator, poll_id)["ballots"] == VOTERS

    # The supervisor started worker 1 again (not the links: they were printed once).
    restarted = await wait_for(lambda: service.worker_pids().get(1) not in (None, pids[1]), 10,
                               "worker 1 restarted", blocking=True)
    assert restarted and service.worker_pids()[0] == pids[0]
    await wait_for(lambda: service.health()[0] == 200, 15, "healthy again with both workers",
                   blocking=True)
    assert service.output().count("tribune is running.") == 1
    fresh = await service.connect("stage")  # on either worker, the restarted one included
    assert poll_of(fresh, poll_id)["ballots"] == VOTERS
    await moderator.ok("RevealResults", poll_id=poll_id)
    await stage.wait_for(lambda: poll_of(stage, poll_id)["counts"] == expected, timeout=FAN_OUT)
    for client in (moderator, stage, fresh, *(v.client for v in voters)):
        await client.close()


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        server.kill()


async def test_the_service_rides_out_a_redis_restart(private_redis: PrivateRedis,
                                                     tmp_path: Path) -> None:
    # No configured secret: the service generates one in a file, never in Redis (which loses all).
    service = Service(private_redis.url, redis_prefix(), tmp_path, configured_secret=False)
    await asyncio.to_thread(service.start)
    try:
        pids = service.worker_pids()
        moderator = await service.connect("moderator")
        participant = await service.connect("participant")
        identity, old_epoch = participant.participant, participant.epoch
        await participant.ok("AskQuestion", text="Avant la panne")
        await moderator.wait_for(lambda: moderator.question("Avant la panne"), timeout=FAN_OUT)
        # What Redis holds cannot sign a link: the secret is in none of its values.
        held = await asyncio.to_thread(private_redis.everything)
        assert held and service.secret not in held

        private_redis.kill()
        body = await wait_for(service.failing_health, 10, "/healthz 503 while Redis is down",
                              blocking=True)
        assert "store" in body["failed"], body
        reply = await participant.send("AskQuestion", text="Pendant la panne")
        assert reply["type"] == "Error" and reply["code"] == "unavailable", reply

        await asyncio.to_thread(private_redis.start)  # empty: it kept nothing
        await wait_for(lambda: service.health()[0] == 200, 20, "/healthz 200 after Redis is back",
                       blocking=True)
        assert service.worker_pids() == pids and service.proc is not None  # nothing restarted
        assert service.proc.poll() is None

        # The history restarted under a new epoch: clients get a fresh snapshot, resuming or not.
        await participant.close()
        back = Client(service.ws_base, SESSION, service.tokens["participant"])
        await back.connect(participant=identity, resume=(old_epoch, participant.seq))
        await back.wait_for(lambda: back.epoch != old_epoch, timeout=FAN_OUT)
        await moderator.wait_for(lambda: moderator.epoch == back.epoch, timeout=FAN_OUT)
        await back.ok("AskQuestion", text="Après la panne")
        await moderator.wait_for(lambda: moderator.question("Après la panne"), timeout=FAN_OUT)
        late = await service.connect("moderator")  # on either worker
        assert late.epoch == back.epoch and late.question("Après la panne")

        # A worker restarted after Redis lost the secret still takes the links issued before.
        os.kill(pids[1], signal.SIGKILL)
        await wait_for(lambda: service.worker_pids().get(1) not in (None, pids[1])
                       and service.health()[0] == 200, 20, "worker 1 restarted and healthy",
                       blocking=True)
        async with paused(service.worker_pids()[0]):  # only the new worker 1 can accept
            again = await service.connect("participant", participant=identity)
            assert again.welcome["participant"]["id"] == identity["id"]
            await again.close()
        for client in (moderator, back, late):
            await client.close()
    finally:
        await asyncio.to_thread(service.stop)
