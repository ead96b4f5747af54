"""The interaction flow through the real server, with real WebSocket clients."""

from __future__ import annotations

import asyncio

from tests.conftest import SESSION, RunningServer, token_of
from tests.wsclient import Client


async def clients(server: RunningServer, *roles: str) -> list[Client]:
    return [await Client(server.ws_base, SESSION, token_of(server.link(role, SESSION))).connect()
            for role in roles]


async def test_question_asked_approved_and_put_on_stage(live_server: RunningServer) -> None:
    participant, moderator, stage = await clients(live_server, "participant", "moderator", "stage")
    assert participant.welcome["role"] == "participant" and participant.participant
    assert moderator.view["settings"]["premoderation"] is True

    text = "Quel rôle pour les collectivités face aux crises ? <b>HTML</b>"
    await participant.ok("AskQuestion", text=text, name="Marie Dupont",
                         organisation="Ville de Lyon")
    pending = await moderator.wait_for(lambda: moderator.question(text))
    assert pending["status"] == "pending" and pending["author"] == "Marie Dupont"
    assert "author_id" not in pending
    assert stage.question(text) is None  # premoderation: the stage does not see it yet
    mine = await participant.wait_for(lambda: participant.question(text))
    assert mine["mine"] is True and mine["status"] == "pending"

    await moderator.ok("ApproveQuestion", question_id=pending["id"])
    await moderator.ok("PutOnStage", question_id=pending["id"])
    on_stage = await stage.wait_for(lambda: stage.question(text))
    await stage.wait_for(lambda: stage.view["stage"]["question_id"] == pending["id"])
    assert on_stage["text"] == text and on_stage["author"] == "Marie Dupont"
    assert "author_id" not in on_stage
    await participant.wait_for(lambda: participant.question(text)["status"] == "approved")

    for client in (participant, moderator, stage):
        await client.close()


async def test_participant_cannot_moderate_and_stays_connected(live_server: RunningServer) -> None:
    (participant,) = await clients(live_server, "participant")
    await participant.ok("AskQuestion", text="Une question", anonymous=True)
    qid = participant.view["questions"][0]["id"]
    reply = await participant.send("ApproveQuestion", question_id=qid)
    assert reply["type"] == "Error" and reply["code"] == "forbidden"
    reply = await participant.send("NoSuchCommand")
    assert reply["code"] == "unknown_type"
    reply = await participant.send("AskQuestion", text=42)
    assert reply["code"] == "invalid"
    assert participant.closed_code is None
    await participant.close()


async def test_poll_with_200_voters_gives_an_exact_tally(live_server: RunningServer) -> None:
    moderator, stage = await clients(live_server, "moderator", "stage")
    await moderator.ok("CreatePoll", question="Faut-il renforcer l'AICT ?",
                       options=["Oui", "Non", "Sans avis"], multiple=False)
    poll = moderator.view["polls"][0]
    await moderator.ok("OpenPoll", poll_id=poll["id"])
    await stage.wait_for(lambda: stage.view["stage"]["poll_id"] == poll["id"])

    participant_token = token_of(live_server.link("participant", SESSION))
    voters = await asyncio.gather(*(
        Client(live_server.ws_base, SESSION, participant_token).connect() for _ in range(200)))
    expected = [0, 0, 0]
    choices = [i % 3 if i % 7 else 0 for i in range(200)]
    for choice in choices:
        expected[choice] += 1
    replies = await asyncio.gather(*(
        v.send("CastBallot", poll_id=poll["id"], choices=[c]) for v, c in zip(voters, choices, strict=True)))
    assert all(r["type"] == "Ack" for r in replies)
    # Ten voters change their mind while the poll is open: still one ballot each.
    await asyncio.gather(*(v.ok("CastBallot", poll_id=poll["id"], choices=[1])
                           for v, c in zip(voters[:10], choices[:10], strict=True) if c != 1))
    for c in choices[:10]:
        if c != 1:
            expected[c] -= 1
            expected[1] += 1
    await moderator.ok("ClosePoll", poll_id=poll["id"])
    late = await voters[-1].send("CastBallot", poll_id=poll["id"], choices=[0])
    assert late["code"] == "conflict"

    def moderator_tally() -> bool:
        p = moderator.view["polls"][0]
        return p["ballots"] == 200 and p["counts"] == expected

    await moderator.wait_for(moderator_tally)
    assert stage.view["polls"][0]["counts"] is None  # not revealed yet
    await moderator.ok("RevealResults", poll_id=poll["id"])
    await stage.wait_for(lambda: stage.view["polls"][0]["counts"] == expected)
    # Tallies are coalesced: the stage got far fewer tally messages than there were ballots.
    tallies = [m for m in stage.messages if m["type"] == "Tally"]
    assert len(tallies) < 40
    await asyncio.gather(*(v.close() for v in voters))
    await moderator.close()
    await stage.close()


async def test_reconnect_with_sequence_gets_missed_events(live_server: RunningServer) -> None:
    participant, moderator = await clients(live_server, "participant", "moderator")
    identity = participant.participant
    await participant.ok("AskQuestion", text="Première question")
    epoch, seq = participant.epoch, participant.seq
    await participant.close()

    first = moderator.question("Première question")
    await moderator.ok("ApproveQuestion", question_id=first["id"])
    await moderator.ok("SetPremoderation", enabled=False)

    back = Client(live_server.ws_base, SESSION, participant.token)
    back.view = participant.view  # a resuming client keeps the state it had
    await back.connect(participant=identity, resume=(epoch, seq))
    assert back.resumed is not None and back.resumed["from"] == seq
    assert back.participant == identity

    def missed() -> list[str]:
        return [m["type"] for m in back.messages if "seq" in m and m["type"] not in
                ("Resumed", "Tally", "Snapshot")]

    await back.wait_for(lambda: len(missed()) >= 2)
    assert missed() == ["QuestionApproved", "PremoderationSet"]
    assert back.question("Première question")["status"] == "approved"
    assert back.view["settings"]["premoderation"] is False

    stale = Client(live_server.ws_base, SESSION, participant.token)
    await stale.connect(participant=identity, resume=("another-epoch", 3))
    assert stale.resumed is None and stale.view["settings"]["premoderation"] is False
    assert stale.question("Première question")["mine"] is True
    for client in (back, stale, moderator):
        await client.close()
