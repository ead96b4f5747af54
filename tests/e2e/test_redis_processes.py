"""Real service processes (`python run.py --redis …`) sharing one Redis: fan-out and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL, SESSION
from tests.e2e.supervised import Service
from tests.wsclient import Client, poll_of

pytestmark = pytest.mark.redis

FAN_OUT = 2.0  # seconds for a change made on one process to reach clients of the other


class Cluster:
    """`run.py` processes (one worker each) sharing one Redis key prefix and one signing secret."""

    def __init__(self, prefix: str, logs: Path) -> None:
        self.prefix, self.logs = prefix, logs
        self.secret = secrets.token_urlsafe(24)
        self.processes: list[Service] = []
        self.clients: list[Client] = []

    async def start(self, *names: str) -> list[Service]:
        new = [Service(REDIS_URL, self.prefix, self.logs, workers=1, secret=self.secret, name=name)
               for name in names]
        self.processes += new
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in new))
        return new

    async def stop(self, process: Service) -> None:
        await asyncio.to_thread(process.stop)
        assert process.proc is not None and process.proc.returncode is not None

    def client(self, process: Service, role: str) -> Client:
        client = Client(process.ws_base, SESSION, process.tokens[role])
        self.clients.append(client)
        return client

    async def connect(self, process: Service, role: str, **hello: Any) -> Client:
        return await self.client(process, role).connect(**hello)

    async def close(self) -> None:
        """Every client, then every process (the tests do it too; this is for failures)."""
        for client in self.clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5)
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in self.processes))


@pytest.fixture
async def cluster(key_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Torn down before `key_prefix` deletes the keys: every process is gone by then."""
    the_cluster = Cluster(key_prefix, tmp_path)
    try:
        yield the_cluster
    finally:
        await the_cluster.close()


async def test_two_processes_share_questions_moderation_polls_and_tallies(
        cluster: Cluster) -> None:
    a, b = await cluster.start("A", "B")
    participant = await cluster.connect(a, "participant")
    moderator = await cluster.connect(b, "moderator")
    stage = await cluster.connect(a, "stage")
    assert participant.epoch == moderator.epoch == stage.epoch  # one history, in Redis

    text = "Comment financer la coopération décentralisée ?"
    await participant.ok("AskQuestion", text=text, name="Marie Dupont")
    asked = await moderator.wait_for(lambda: moderator.question(text), timeout=FAN_OUT)
    assert asked["status"] == "pending" and asked["author"] == "Marie Dupont"
    assert asked["text"] == text and asked["organisation"] is None
    # moderators see the author's name, never the participant id: a ban goes through the question
    participant_id = participant.participant["id"]  # type: ignore[index]
    assert "author_id" not in asked and participant_id not in asked.values()

    await moderator.ok("ApproveQuestion", question_id=asked["id"])
    await participant.wait_for(lambda: participant.question(text)["status"] == "approved",
                               timeout=FAN_OUT)
    assert participant.question(text)["mine"] is True
    await stage.wait_for(lambda: stage.question(text), timeout=FAN_OUT)

    await moderator.ok("CreatePoll", question="Faut-il un fonds commun ?",
                       options=["Oui", "Non", "Sans avis"], multiple=False)
    poll_id = moderator.view["polls"][0]["id"]
    await moderator.ok("OpenPoll", poll_id=poll_id)
    await stage.wait_for(lambda: stage.view["stage"]["poll_id"] == poll_id, timeout=FAN_OUT)
    assert poll_of(stage, poll_id)["status"] == "open"

    voters = await asyncio.gather(*(cluster.connect(a if i % 2 else b, "participant")
                                    for i in range(50)))
    choices = [(i * 7) % 3 if i % 5 else 1 for i in range(50)]
    expected = [choices.count(k) for k in range(3)]
    replies = await asyncio.gather(*(v.send("CastBallot", poll_id=poll_id, choices=[c])
                                     for v, c in zip(voters, choices, strict=True)))
    assert all(r["type"] == "Ack" for r in replies), replies

    def exact(client: Client) -> bool:
        poll = poll_of(client, poll_id)
        return bool(poll["ballots"] == 50 and poll["counts"] == expected)

    await moderator.wait_for(lambda: exact(moderator), timeout=FAN_OUT)
    await stage.wait_for(lambda: poll_of(stage, poll_id)["ballots"] == 50, timeout=FAN_OUT)
    assert poll_of(stage, poll_id)["counts"] is None  # not revealed yet
    await moderator.ok("RevealResults", poll_id=poll_id)
    await stage.wait_for(lambda: exact(stage), timeout=FAN_OUT)
    # Presence: the participants of both processes together (reported every 2 s).
    await moderator.wait_for(lambda: moderator.view.get("connected") == 51, timeout=6.0)

    await asyncio.gather(*(c.close() for c in (participant, moderator, stage, *voters)))
    await cluster.stop(a)
    await cluster.stop(b)


async def test_state_and_resume_points_survive_a_restart(cluster: Cluster) -> None:
    (first,) = await cluster.start("first")
    participant = await cluster.connect(first, "participant")
    moderator = await cluster.connect(first, "moderator")
    voter = await cluster.connect(first, "participant")
    identity = participant.participant
    assert identity is not None

    await participant.ok("AskQuestion", text="Première question")
    await participant.ok("AskQuestion", text="Question hors sujet", anonymous=True)
    await moderator.wait_for(lambda: moderator.question("Question hors sujet"))
    kept = moderator.question("Première question")
    dropped = moderator.question("Question hors sujet")
    await moderator.ok("ApproveQuestion", question_id=kept["id"])
    await moderator.ok("DismissQuestion", question_id=dropped["id"])
    await moderator.ok("CreatePoll", question="Un fonds commun ?", options=["Oui", "Non"],
                       multiple=False)
    poll_id = moderator.view["polls"][0]["id"]
    await moderator.ok("OpenPoll", poll_id=poll_id)
    await participant.wait_for(lambda: participant.view["stage"]["poll_id"] == poll_id)
    await participant.ok("CastBallot", poll_id=poll_id, choices=[1])
    await voter.ok("CastBallot", poll_id=poll_id, choices=[0])
    await participant.wait_for(lambda: participant.view["me"]["ballots"] == {poll_id: [1]})
    epoch, seq, old_view = participant.epoch, participant.seq, participant.view
    await participant.close()
    # What the participant misses: it must be replayed after the restart.
    await moderator.ok("ClosePoll", poll_id=poll_id)
    await moderator.ok("SetPremoderation", enabled=False)
    await moderator.wait_for(lambda: poll_of(moderator, poll_id)["counts"] == [1, 1])
    before = {k: v for k, v in moderator.view.items() if k != "connected"}
    await moderator.close()
    await voter.close()
    await cluster.stop(first)

    (second,) = await cluster.start("second")
    fresh = await cluster.connect(second, "moderator")
    assert fresh.epoch == epoch and fresh.seq == moderator.seq
    assert {k: v for k, v in fresh.view.items() if k != "connected"} == before
    assert fresh.question("Première question")["status"] == "approved"
    assert fresh.question("Question hors sujet")["status"] == "dismissed"
    poll = poll_of(fresh, poll_id)
    assert (poll["status"], poll["ballots"], poll["counts"]) == ("closed", 2, [1, 1])
    assert fresh.view["settings"]["premoderation"] is False

    back = cluster.client(second, "participant")
    back.view = old_view  # a resuming client keeps the state it had
    await back.connect(participant=identity, resume=(epoch, seq))
    assert back.resumed is not None, "expected Resumed, got a Snapshot"
    assert back.resumed["from"] == seq and back.resumed["epoch"] == epoch
    assert back.participant == identity
    await back.wait_for(lambda: back.seq == fresh.seq and not back.view["settings"]["premoderation"])
    assert [m["type"] for m in back.messages if m["type"] in ("Snapshot", "PollClosed")] == [
        "PollClosed"]
    assert poll_of(back, poll_id)["status"] == "closed"
    assert back.view["me"]["ballots"] == {poll_id: [1]}

    again = await cluster.connect(second, "participant", participant=identity)  # a new device
    assert again.participant == identity and again.resumed is None
    assert again.view["me"]["ballots"] == {poll_id: [1]}
    assert again.question("Première question")["mine"] is True
    assert again.question("Question hors sujet")["status"] == "dismissed"  # its own: still shown
    for client in (fresh, back, again):
        await client.close()
    await cluster.stop(second)
