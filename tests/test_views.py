"""What clients see: an old view plus the projected events (and a tally) equals a fresh view.

This checks the projection rules of live/views.py the way a client experiences them: if a rule forgot
to tell an audience about a change, or told it something it must not see, the views differ. The
client is the browser's own static/js/state.js (under Node, tests/statejs.py): the old view takes
the events and the tally there, and the fresh view is what state.js makes of a fresh Snapshot.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from live.domain import Actor, DomainError, Role, Room
from live.domain import commands as c
from live.domain.events import TALLY_EVENTS
from live.views import Audience, project, state_view, tally_view
from tests.statejs import Op, host

PARTICIPANTS = ["u_anna", "u_bruno", "u_chloe"]
SESSION = {"id": "s"}


def random_command(rng: random.Random, room: Room) -> tuple[c.Command, Actor]:
    questions = list(room.state.questions) + ["q_missing"]
    polls = list(room.state.polls) + ["p_missing"]
    participant = Actor(Role.PARTICIPANT, rng.choice(PARTICIPANTS))
    moderator = Actor(Role.MODERATOR)
    q, p = rng.choice(questions), rng.choice(polls)
    guest = rng.choice(["g1", "g2", "g_missing"])
    options: list[tuple[c.Command, Actor]] = [
        (c.AskQuestion(f"question {rng.random():.3f}", name=rng.choice([None, "Ana"]),
                       organisation=rng.choice([None, "Ville"]), anonymous=rng.random() < 0.3,
                       client_key=rng.choice([None, "k1", "k2"])), participant),
        (c.UpvoteQuestion(q), participant), (c.WithdrawUpvote(q), participant),
        (c.CastBallot(p, [rng.randrange(3)]), participant),
        (c.ApproveQuestion(q, rng.choice([None, "edited text"])), moderator),
        (c.EditQuestion(q, f"edit {rng.random():.2f}"), moderator),
        (c.ReplyToQuestion(q, rng.choice(["", "Oui.", f"Réponse {rng.random():.2f}"])), moderator),
        (c.DismissQuestion(q), moderator), (c.StarQuestion(q, rng.random() < 0.5), moderator),
        (c.PutOnStage(q), moderator), (c.ClearStage(rng.choice(["question", "poll", "all"])),
                                       moderator),
        (c.MarkAnswered(q), moderator), (c.ArchiveQuestion(q), moderator),
        (c.RestoreQuestion(q), moderator), (c.SetPremoderation(rng.random() < 0.5), moderator),
        (c.MergeQuestions(q, rng.choice(questions)), moderator),
        (c.UnmergeQuestion(q), moderator),
        (c.CreatePoll("Oui ou non ?", ["Oui", "Non", "Peut-être"]), moderator),
        (c.OpenPoll(p), moderator), (c.ClosePoll(p), moderator),
        (c.RevealResults(p), moderator), (c.HideResults(p), moderator),
        (c.PutPollOnStage(p), moderator),
        (c.BanParticipant(q), moderator), (c.UnbanParticipant(q), moderator),
        (c.SetReplayPublished(rng.random() < 0.5), moderator),
        (c.JoinAsGuest(), Actor(Role.GUEST, guest=guest, guest_name=f"Invitée {guest}")),
        (c.SetGuestOnAir(guest, rng.random() < 0.6), Actor(Role.STUDIO)),
        (c.SendStageMessage(f"Plus que {rng.randrange(9)} minutes"), moderator),
        (c.SetStageTimer(rng.choice([None, 60, 300])), moderator),
        (c.AcknowledgeStageMessage((room.state.stage_message or {"id": "m_x"})["id"]),
         Actor(Role.STAGE)),
    ]
    return rng.choice(options)


def viewers() -> list[tuple[Audience, str | None]]:
    return [(Audience.MODERATOR, None), (Audience.STAGE, None),
            *[(Audience.PARTICIPANT, pid) for pid in PARTICIPANTS]]


def fresh(room: Room, audience: Audience, pid: str | None) -> dict[str, Any]:
    return state_view(room.state, SESSION, audience, pid, 0)


def ordered(view: dict[str, Any]) -> dict[str, Any]:
    """Clients sort lists themselves: compare the contents, not the arrival order."""
    return {**view, "questions": sorted(view["questions"], key=lambda q: q["id"]),
            "polls": sorted(view["polls"], key=lambda p: p["id"])}


@pytest.mark.parametrize("seed", range(60))
def test_old_view_plus_projected_events_equals_fresh_view(seed: int) -> None:
    rng = random.Random(seed)
    room = Room.new("s")
    counter = iter(range(1, 10**6))  # event seqs after the snapshot's 0
    keys = {v: f"views-{seed}-{v[0].value}-{v[1]}" for v in viewers()}
    # The page's state per viewer, from the snapshot it started with (seq 0: nothing yet).
    host().run([(keys[v], "snapshot", fresh(room, *v), {"epoch": "e", "seq": 0}) for v in viewers()])
    for step in range(1, 121):
        ops: list[Op] = []
        command, actor = random_command(rng, room)
        try:
            events = room.handle(command, actor, step * 1000,
                                 lambda kind: f"{kind}_{next(counter):03d}")
        except DomainError:
            continue
        for event in events:
            room.apply(event)
            seq = next(counter)  # one per event, as the store numbers them
            fanout = project(event, {"type": type(event).__name__, "seq": seq}, room.state)
            for audience, pid in viewers():
                message = (fanout.private[pid] if pid in fanout.private
                           else fanout.shared.get(audience))
                if message is not None:
                    ops.append((keys[(audience, pid)], "event", message, None))
            if isinstance(event, TALLY_EVENTS):
                assert not fanout.shared  # votes never go to everyone one by one
        seq = next(counter)
        ops += [(keys[(audience, pid)], "tally", tally_view(room.state, audience, seq), None)
                for audience, pid in viewers()]
        # What a page holds after a fresh Snapshot now, per viewer.
        ops += [(f"fresh-{keys[v]}", "snapshot", fresh(room, *v), {"epoch": "e", "seq": seq})
                for v in viewers()]
        views = host().run(ops)
        synced, fresh_views = views[-2 * len(keys):-len(keys)], views[-len(keys):]
        for (audience, pid), old, new in zip(viewers(), synced, fresh_views, strict=True):
            assert old is not None and new is not None
            assert ordered(old) == ordered(new), (seed, step, audience, pid, command)


def test_participants_never_see_pending_questions_of_others() -> None:
    room = Room.new("s", premoderation=True)
    event = room.handle(c.AskQuestion("secret?", name="Ana"), Actor(Role.PARTICIPANT, "u_anna"),
                        0, lambda k: "q_1")[0]
    room.apply(event)
    fanout = project(event, {"type": "QuestionAsked", "seq": 1}, room.state)
    assert Audience.PARTICIPANT not in fanout.shared and Audience.STAGE not in fanout.shared
    assert fanout.private["u_anna"]["question"]["mine"] is True
    # Nobody gets participant ids: an anonymous question cannot be linked to a named one.
    assert "author_id" not in fanout.shared[Audience.MODERATOR]["question"]
