"""A Redis that keeps its data (append-only file) restarted under `run.py --workers 2`: what was
accepted before is all there after, once, and the clients carry on where they were; restarted in
the middle of a ballot burst, every acknowledged ballot is counted exactly once.

The Redis is the test's own, on its own port: `appendfsync always` makes every write it answered
durable, so it is killed outright (SIGKILL, the harshest restart), and whatever is missing or
doubled afterwards is the service's doing. (tests/e2e/test_faults.py restarts a Redis that keeps
nothing: a new history.)"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis

from live.bus.memory import MemoryBus
from live.config import load_programme
from live.service import Service as SessionService
from live.store.redis import RedisStore
from tests.conftest import redis_prefix
from tests.e2e.supervised import SESSION, PrivateRedis, Service, paused
from tests.e2e.test_faults import Voter
from tests.waiting import wait_for, wait_for_sync
from tests.wsclient import Client

pytestmark = pytest.mark.redis

FAN_OUT = 3.0  # seconds for a change made through one worker to reach clients of the other
VOTERS = 120
QUESTIONS = ["Quel budget pour 2021 ?", "Qui pilote le fonds ?", "Et les petites communes ?"]


class DurableRedis(PrivateRedis):
    """The test's redis-server with an append-only file fsynced on every write, in its own
    directory: started again on the same port and directory, it has everything it answered."""

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)

        def loaded() -> bool:  # answers, and has read its file back (LOADING replies until then)
            try:
                return bool(client.ping())
            except (redis.ConnectionError, redis.BusyLoadingError):
                return False

        try:
            wait_for_sync(loaded, 10, f"redis-server answering on port {self.port}")
        finally:
            client.close()


@pytest.fixture
async def durable_redis(tmp_path: Path) -> AsyncIterator[DurableRedis]:
    server = DurableRedis(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
async def service(durable_redis: DurableRedis, tmp_path: Path) -> AsyncIterator[Service]:
    the_service = Service(durable_redis.url, redis_prefix(), tmp_path)
    await asyncio.to_thread(the_service.start)
    try:
        yield the_service
    finally:
        await asyncio.to_thread(the_service.stop)


def poll_of(client: Client, poll_id: str) -> dict[str, Any]:
    return next(p for p in client.view["polls"] if p["id"] == poll_id)


def comparable(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "connected"}


def recovered(service: Service, since: float) -> bool:
    """/healthz 200 on heartbeats every worker wrote after `since` (Redis back): beating again,
    not merely not stale yet."""
    status, body = service.health()
    ages = body.get("heartbeat_age", {}).values() if status == 200 else ()
    return bool(ages) and all(age is not None and age < time.time() - since for age in ages)


async def stored_ballots(service: Service, poll_id: str) -> dict[str, tuple[int, ...]]:
    """The poll's ballots as a worker rebuilds them from the store (snapshot and records)."""
    store = RedisStore(service.redis_url, prefix=service.prefix)
    reader = SessionService(load_programme(None), store, MemoryBus())
    try:
        hub = await reader.hub(SESSION)
        return dict(hub.room.state.polls[poll_id].ballots)
    finally:
        await reader.stop()
        await store.close()


async def test_what_was_accepted_before_a_redis_restart_is_all_there_after_it(
        durable_redis: DurableRedis, service: Service) -> None:
    pids = service.worker_pids()
    async with paused(pids[1]):  # the moderator on worker 0…
        moderator = await service.connect("moderator")
    async with paused(pids[0]):  # …the participants on worker 1
        asker = await service.connect("participant")
        voters = await asyncio.gather(*(service.connect("participant") for _ in range(5)))
    for text in QUESTIONS:
        await asker.ok("AskQuestion", text=text)
    await moderator.wait_for(lambda: all(moderator.question(t) for t in QUESTIONS), FAN_OUT)
    approved, dismissed = (moderator.question(t)["id"] for t in QUESTIONS[:2])
    await moderator.ok("ApproveQuestion", question_id=approved)
    await moderator.ok("DismissQuestion", question_id=dismissed)
    await moderator.ok("CreatePoll", question="Un fonds commun ?", options=["Oui", "Non"],
                       multiple=False)
    await moderator.ok("CreatePoll", question="Pour plus tard ?", options=["A", "B"])
    poll_id = next(p["id"] for p in moderator.view["polls"] if p["question"] == "Un fonds commun ?")
    await moderator.ok("OpenPoll", poll_id=poll_id)
    for i, voter in enumerate(voters):
        await voter.wait_for(lambda v=voter: any(p["id"] == poll_id for p in v.view["polls"]))
        await voter.ok("CastBallot", poll_id=poll_id, choices=[i % 2])
        await voter.wait_for(lambda v=voter: v.view["me"]["ballots"].get(poll_id))
        await voter.ok("UpvoteQuestion", question_id=approved)
    await moderator.wait_for(lambda: poll_of(moderator, poll_id)["counts"] == [3, 2]
                             and moderator.question(QUESTIONS[0])["votes"] == 5, FAN_OUT)
    # One participant leaves before the restart, to resume after it from where it was.
    away = voters[0]
    away_view, away_identity, away_seq = away.view, away.participant, away.seq
    await away.close()
    # Votes reach moderators as tallies, not records: a new connection has the last number.
    first = await service.connect("moderator")
    epoch, seq, before = first.epoch, first.seq, comparable(first.view)
    assert before == comparable(moderator.view)

    durable_redis.kill()
    body = await wait_for(service.failing_health, 10, "/healthz 503 while Redis is down",
                          blocking=True)
    assert "store" in body["failed"], body
    refused = await asker.send("AskQuestion", text="Pendant la panne")
    assert refused["type"] == "Error" and refused["code"] == "unavailable", refused
    # Down long enough that each worker failed to write a heartbeat, which it must write again.
    await wait_for(lambda: service.output().count("heartbeat not written") == 2, 10,
                   "both workers' heartbeats failing")
    await asyncio.to_thread(durable_redis.start)
    back_at = time.time()
    await wait_for(lambda: recovered(service, back_at), 20, "/healthz 200 after Redis is back",
                   blocking=True)
    assert service.worker_pids() == pids  # the workers rode it out: none restarted

    # The same history (same epoch, same last record): nothing lost, nothing added.
    after = await service.connect("moderator")
    assert (after.epoch, after.seq) == (epoch, seq)
    assert comparable(after.view) == before
    # The participant who left resumes where it was: only what it missed, never a snapshot.
    back = Client(service.ws_base, SESSION, service.tokens["participant"])
    back.view = away_view
    await back.connect(participant=away_identity, resume=(epoch, away_seq))
    assert back.resumed is not None and back.resumed["epoch"] == epoch, back.messages[:3]
    assert not any(m["type"] == "Snapshot" for m in back.messages)
    assert back.view["me"]["ballots"] == {poll_id: [0]}
    # The clients that stayed connected carry on, across workers, from the same numbering.
    await asker.ok("AskQuestion", text="Après la panne")
    await moderator.wait_for(lambda: moderator.question("Après la panne"), FAN_OUT)
    assert moderator.seq == seq + 1
    await voters[1].ok("CastBallot", poll_id=poll_id, choices=[0])  # a change of mind: 1 → 0
    await moderator.wait_for(lambda: poll_of(moderator, poll_id)["counts"] == [4, 1], FAN_OUT)
    assert poll_of(moderator, poll_id)["ballots"] == 5
    texts = sorted(q["text"] for q in moderator.view["questions"])
    assert texts == sorted([*QUESTIONS, "Après la panne"])  # each once; the refused one absent
    last = await service.connect("moderator")
    assert comparable(last.view) == comparable(moderator.view)
    for client in (moderator, asker, *voters[1:], first, after, back, last):
        await client.close()


async def test_a_redis_restart_during_a_ballot_burst_counts_every_acknowledged_ballot_once(
        durable_redis: DurableRedis, service: Service) -> None:
    pids = service.worker_pids()
    async with paused(pids[1]):
        moderator = await service.connect("moderator")
        stage = await service.connect("stage")
    await moderator.ok("CreatePoll", question="Quel lieu pour 2021 ?",
                       options=["Lyon", "Lille", "Nantes"], multiple=False)
    poll_id = moderator.view["polls"][0]["id"]
    await moderator.ok("OpenPoll", poll_id=poll_id)
    voters: list[Voter] = []
    for other in (pids[1], pids[0]):  # half the voters on each worker
        async with paused(other):
            clients = await asyncio.gather(*(service.connect("participant")
                                             for _ in range(VOTERS // 2)))
        voters += [Voter(service, c, (len(voters) + i) % 3) for i, c in enumerate(clients)]
    identities = {v.identity["id"] for v in voters if v.identity}
    assert len(identities) == VOTERS  # distinct voters: a tally that lost or doubled one shows
    await asyncio.gather(*(v.client.wait_for(
        lambda v=v: any(p["id"] == poll_id for p in v.client.view["polls"])) for v in voters))

    burst = [asyncio.create_task(v.vote(poll_id, delay=i * 0.01)) for i, v in enumerate(voters)]
    try:
        await wait_for(lambda: sum(v.acked for v in voters) >= VOTERS // 5, 10, "the burst under way")
        durable_redis.kill()
        acked_before = sum(v.acked for v in voters)
        await wait_for(service.failing_health, 10, "/healthz 503 while Redis is down",
                       blocking=True)
        await asyncio.to_thread(durable_redis.start)
        back_at = time.time()
        await asyncio.gather(*burst)
    finally:
        for task in burst:
            task.cancel()
    assert acked_before < VOTERS, "the burst was over before the restart: nothing tested"
    assert all(v.acked for v in voters)  # every voter got its Ack in the end
    await wait_for(lambda: recovered(service, back_at), 20, "/healthz 200 after Redis is back",
                   blocking=True)

    # What the store holds, as any worker rebuilds it: exactly one ballot per acknowledged voter,
    # the one acknowledged, and nobody else's.
    acknowledged = {v.identity["id"]: (v.choice,) for v in voters if v.acked and v.identity}
    assert await stored_ballots(service, poll_id) == acknowledged
    # What the room is shown agrees: the moderator's live tally, the stage once revealed, each
    # voter's own ballot.
    expected = [sum(1 for choice in acknowledged.values() if choice == (k,)) for k in range(3)]
    await moderator.wait_for(lambda: poll_of(moderator, poll_id)["counts"] == expected
                             and poll_of(moderator, poll_id)["ballots"] == VOTERS, FAN_OUT)
    await moderator.ok("RevealResults", poll_id=poll_id)
    await stage.wait_for(lambda: poll_of(stage, poll_id)["counts"] == expected, FAN_OUT)
    for v in voters:
        await v.client.wait_for(lambda v=v: v.client.view["me"]["ballots"].get(poll_id)
                                == [v.choice], timeout=FAN_OUT)
    fresh = await service.connect("moderator")
    assert poll_of(fresh, poll_id)["counts"] == expected
    # The restart did fall in the burst: ballots were refused meanwhile, and sent again.
    assert any(r.get("code") == "unavailable" for v in voters for r in v.client.replies.values())
    for client in (moderator, stage, fresh, *(v.client for v in voters)):
        await client.close()
