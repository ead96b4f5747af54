"""Replay: applying the events `handle` returned to an earlier snapshot reaches the same state.

The store appends events and every process (or a restart) rebuilds rooms from a snapshot plus the
events after it, so for random command sequences, at every step:
- snapshot(before) + the step's events == the live room, with events as objects, as dicts and as
  JSON text;
- a snapshot restores to an equal room (the hidden client-key index included);
- invariants hold (stage, ballots, bans, votes frozen off the public list);
- `handle` never mutates, and refusals are DomainErrors with a documented code.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live.domain import Actor, DomainError, Role, Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.gates import gate_changes, is_free, open_gates, required_gate
from live.domain.state import APPROVED, DRAFT, PENDING

PARTICIPANTS = [Actor(Role.PARTICIPANT, f"p{i}") for i in range(1, 5)]
MOD = Actor(Role.MODERATOR)
OTHERS = [MOD, Actor(Role.STAGE), Actor(Role.ADMIN), *PARTICIPANTS]
CODES = {"invalid", "forbidden", "banned", "not_found", "conflict", "not_interactive"}
PARTICIPANT_COMMANDS = (c.AskQuestion, c.UpvoteQuestion, c.WithdrawUpvote, c.CastBallot)

TEXTS = st.one_of(
    st.sampled_from([
        "Quelle place pour les villes ?", "  Avec des espaces  ", "", "   ", "x" * 500, "x" * 501,
        "deux\nlignes", "nul\x00", "Oui", "Non",
    ]),
    st.text(max_size=12),
)
NAMES = st.one_of(st.none(), st.sampled_from(["Marie Dupont", " Paul ", "", "n" * 61]))
KEYS = st.one_of(st.none(), st.sampled_from(["k1", "k2", " k1 ", ""]))
POLL_QUESTIONS = st.one_of(st.just("Êtes-vous d'accord ?"), st.just("Lequel ?"), TEXTS)
OPTIONS = st.one_of(
    st.sampled_from([["Oui", "Non"], ["A", "B", "C", "D"], ["Rouge", "Vert", "Bleu"]]),
    st.lists(st.sampled_from(["Oui", "Non", "Peut-être", " Oui ", "", "o" * 101, "A", "B"]),
             max_size=11),
)
CHOICES = st.one_of(
    st.sampled_from([[0], [1], [2], [0, 2]]),
    st.lists(st.integers(min_value=-1, max_value=4), max_size=4),
)
KINDS = st.sampled_from(["choice", "rating", "words", "text", "quiz"])
ANSWERS = st.one_of(
    st.sampled_from([["Mobilité"], ["mobilité !", "Eau"], ["a", "b", "c", "d"], ["x" * 41], [""],
                     ["Une réponse libre."], ["a", "A"]]),
    st.lists(st.text(max_size=6), max_size=4),
)
SCREENED = st.sampled_from(["mobilité", "eau", "Une réponse libre.", "a", "absent"])
POLL_KEYS = st.one_of(st.none(), st.sampled_from(["k1", "k2", " k2 ", "", "k" * 65]))
# Raw ids, left as they are by `resolve`: a participant or poll id is no question to ban through,
# and a question is a ban id only if the ban was made through it.
NOT_A_QUESTION = st.sampled_from(["p1", "p_5", "", "q_404"])
MAYBE_A_BAN = st.sampled_from(["q_1", "q_2", "q_4", "p1", "p2", ""])


# Ids are drawn as indexes and resolved against the room when the command is sent (see `resolve`):
# the strategies stay constant (fast), and ids are mostly those that exist, sometimes a bogus one.
BOGUS = 12  # drawn indexes from BOGUS up name no question or poll
QUESTION = st.integers(min_value=0, max_value=BOGUS)
POLL = st.integers(min_value=0, max_value=BOGUS)
BAN = st.integers(min_value=0, max_value=BOGUS)

ASK = st.builds(c.AskQuestion, TEXTS, NAMES, NAMES, st.booleans(), KEYS)
COMMAND = st.one_of(
    ASK, ASK,  # questions must exist for the other commands to do something
    st.builds(c.UpvoteQuestion, QUESTION),
    st.builds(c.WithdrawUpvote, QUESTION),
    st.builds(c.CastBallot, POLL, CHOICES),
    st.builds(c.CastBallot, POLL, answers=ANSWERS),
    st.builds(c.CastBallot, POLL, st.sampled_from([[1], [5], [0], [6], [3, 4]])),  # ratings
    st.builds(c.ApproveQuestion, QUESTION, st.one_of(st.none(), TEXTS)),
    st.builds(c.EditQuestion, QUESTION, TEXTS),
    st.builds(c.DismissQuestion, QUESTION),
    st.builds(c.StarQuestion, QUESTION, st.booleans()),
    st.builds(c.PutOnStage, QUESTION),
    st.builds(c.ClearStage, st.sampled_from(["question", "poll", "all", "stage"])),
    st.builds(c.MarkAnswered, QUESTION),
    st.builds(c.ArchiveQuestion, QUESTION),
    st.builds(c.RestoreQuestion, QUESTION),
    st.builds(c.MergeQuestions, QUESTION, QUESTION),
    st.builds(c.UnmergeQuestion, QUESTION),
    st.builds(c.SetPremoderation, st.booleans()),
    st.builds(c.CreatePoll, POLL_QUESTIONS, OPTIONS, st.booleans()),
    st.builds(c.CreatePoll, POLL_QUESTIONS, OPTIONS, st.booleans(), POLL_KEYS),
    # a valid poll with a key, often one already used: a re-sent poll is created once
    st.builds(c.CreatePoll, st.just("Lequel ?"), st.just(["A", "B"]), st.booleans(),
              st.sampled_from(["k1", "k2", " k1 "])),
    st.builds(c.EditPoll, POLL, POLL_QUESTIONS, OPTIONS, st.booleans()),
    st.builds(c.CreatePoll, POLL_QUESTIONS, st.just([]), st.booleans(), st.none(), KINDS),
    st.builds(c.EditPoll, POLL, POLL_QUESTIONS, st.just([]), st.booleans(), KINDS),
    st.builds(c.ScreenAnswer, POLL, SCREENED, st.booleans()),
    st.builds(c.DeletePoll, POLL),
    st.builds(c.DuplicatePoll, POLL),
    st.builds(c.ResetPoll, POLL),
    st.builds(c.OpenPoll, POLL),
    st.builds(c.ClosePoll, POLL),
    st.builds(c.RevealResults, POLL),
    st.builds(c.PutPollOnStage, POLL),
    st.builds(c.HideResults, POLL),
    st.builds(c.BanParticipant, QUESTION),
    st.builds(c.BanParticipant, QUESTION),  # bans must exist for unbans to do something
    st.builds(c.BanParticipant, NOT_A_QUESTION),
    st.builds(c.UnbanParticipant, BAN),
    st.builds(c.UnbanParticipant, MAYBE_A_BAN),
)
# Mostly the right role for the command, sometimes anyone (to exercise refusals).
WRONG_ROLE = st.integers(min_value=0, max_value=9).map(lambda n: n == 9)
ANYONE = st.sampled_from(OTHERS)
A_PARTICIPANT = st.sampled_from([*PARTICIPANTS[:2], *PARTICIPANTS])  # p1, p2 more often


def _pick(index: int, ids: list[str], bogus: str) -> str:
    return ids[index % len(ids)] if ids and index < BOGUS else bogus


def resolve(command: c.Command, room: Room) -> c.Command:
    """Turn drawn indexes into ids of the room's questions, polls or bans, or a bogus id."""
    polls = sorted(room.state.polls)
    if room.state.stage_poll_id is not None:  # the shown poll first: likely open
        polls.insert(0, room.state.stage_poll_id)
    choices = {
        "question_id": (sorted(room.state.questions), "q_404"),
        "into_id": (sorted(room.state.questions), "q_404"),
        "poll_id": (polls, "p_404"),
        "ban_id": (sorted(ban.ban_id for ban in room.state.banned.values()), "q_404"),
    }
    changes = {
        name: _pick(value, *choices[name])
        for name in choices
        if isinstance(value := getattr(command, name, None), int)
    }
    return dataclasses.replace(command, **changes)


def via_dict(event: e.Event) -> e.Event:
    return e.event_from_dict(e.event_to_dict(event))


def via_json(event: e.Event) -> e.Event:
    return e.event_from_dict(json.loads(json.dumps(e.event_to_dict(event))))


def replayed(snapshot: dict[str, Any], events: list[e.Event],
             transform: Callable[[e.Event], e.Event]) -> Room:
    room = Room.from_snapshot(copy.deepcopy(snapshot))
    for event in events:
        room.apply(transform(event))
    return room


def check_invariants(room: Room) -> None:
    s = room.state
    if s.stage_question_id is not None:
        assert s.questions[s.stage_question_id].status == APPROVED
    if s.stage_poll_id is not None:
        assert s.polls[s.stage_poll_id].status != DRAFT  # participants never see drafts
    for question in s.questions.values():
        # a ban dismissed its question and the author's pending ones of the same face (name and
        # organisation), no other (that would link an anonymous question to a named one); and a
        # banned participant cannot ask any more
        ban = s.banned.get(question.author_id)
        if ban is not None and question.status == PENDING:
            through = s.questions[ban.ban_id]
            assert question.id != ban.ban_id
            assert (through.anonymous or question.anonymous
                    or (question.author_name, question.organisation)
                    != (through.author_name, through.organisation))
        if question.anonymous:
            assert question.author_name is None
    for poll in s.polls.values():
        if poll.kind != "choice":
            assert poll.options == () and not poll.multiple
            if poll.kind == "rating":
                assert all(len(b) == 1 and 1 <= b[0] <= 5 for b in poll.ballots.values())
                assert sum(poll.counts()) == len(poll.ballots)
            else:
                assert not poll.ballots
                assert all(1 <= len(a) <= (3 if poll.kind == "words" else 1)
                           for a in poll.answers.values())
            continue
        assert not poll.answers and not poll.screened
        assert 2 <= len(poll.options) <= 10 and len(set(poll.options)) == len(poll.options)
        for choices in poll.ballots.values():
            assert choices and list(choices) == sorted(set(choices))
            assert all(0 <= i < len(poll.options) for i in choices)
            assert poll.multiple or len(choices) == 1
        assert sum(poll.counts()) == sum(len(ch) for ch in poll.ballots.values())
    # bans are named by the question they were made through, and carry only that question's name
    for participant_id, ban in s.banned.items():
        through = s.questions[ban.ban_id]
        assert through.author_id == participant_id
        assert ban.name == (None if through.anonymous else through.author_name)
    assert len({ban.ban_id for ban in s.banned.values()}) == len(s.banned)
    assert s.client_keys == {
        (q.author_id, q.client_key): q.id for q in s.questions.values() if q.client_key
    } | {("", p.client_key): p.id for p in s.polls.values() if p.client_key}


class Replayer:
    """Sends commands to a live room and checks, at every step, that replay reaches it."""

    def __init__(self, premoderation: bool) -> None:
        self.room = Room.new("pleniere-aict", premoderation=premoderation)
        self.initial = self.room.snapshot()
        self.log: list[e.Event] = []
        self.gates: set[str] = set()  # as the store keeps them, from the events alone
        self.now = 1_600_765_200_000
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def step(self, command: c.Command, actor: Actor, dt: int = 1_000) -> list[e.Event] | str:
        room = self.room
        self.now += dt
        s0 = room.snapshot()
        state0 = copy.deepcopy(room.state)
        try:
            events = room.handle(command, actor, self.now, self.new_id)
        except DomainError as error:
            assert error.code in CODES, error.code
            assert room.state == state0 and room.snapshot() == s0
            return error.code
        assert room.state == state0 and room.snapshot() == s0, "handle mutated the room"
        if events and is_free(events):
            # What a free append checks in the store, from the gates alone, is what the room
            # checked: its gate is open. (Votes the room refuses never reach the store.)
            assert len(events) == 1 and required_gate(events[0]) in self.gates
        for event in events:
            room.apply(event)
        for gate, is_open in gate_changes(events):
            (self.gates.add if is_open else self.gates.discard)(gate)
        assert self.gates == open_gates(room.state)
        for question in state0.questions.values():
            if not question.public:  # votes only change on the public list, and freeze off it
                assert room.state.questions[question.id].voters == question.voters
        self.log += events
        s1 = room.snapshot()

        assert [via_json(event) for event in events] == events  # tuples come back as tuples
        for transform in (lambda ev: ev, via_dict, via_json):
            again = replayed(s0, events, transform)
            assert again.snapshot() == s1
            assert again.state == room.state  # client keys included
        restored = Room.from_snapshot(s1)
        assert restored.snapshot() == s1
        assert restored.state == room.state
        assert Room.from_snapshot(json.loads(json.dumps(s1))).state == room.state
        check_invariants(room)
        return events


def seed(replayer: Replayer) -> None:
    """Questions from p1..p3 and two open polls, so that random commands find things to act on."""
    p1, p2, p3, _ = PARTICIPANTS
    script: list[tuple[c.Command, Actor]] = [
        (c.AskQuestion("Q1 ?", name="Marie"), p1),
        (c.AskQuestion("Q2 ?"), p2),
        (c.AskQuestion("Q3 ?", name="Paul", organisation="Lyon"), p3),
        (c.AskQuestion("Q4 ?", name="Marie", client_key="k1"), p1),
        (c.CreatePoll("Un choix ?", ["Oui", "Non", "Sans avis"]), MOD),
        (c.CreatePoll("Plusieurs ?", ["A", "B", "C"], multiple=True, client_key="k1"), MOD),
        (c.OpenPoll("p_5"), MOD),
        (c.OpenPoll("p_6"), MOD),
    ]
    for command, actor in script:
        events = replayer.step(command, actor)
        assert len([ev for ev in events if not isinstance(ev, e.ModerationLogged)]) == 1


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), premoderation=st.booleans(), seeded=st.booleans(),
       steps=st.integers(min_value=1, max_value=60))
def test_replay_from_snapshot_matches_live_room(data: st.DataObject, premoderation: bool,
                                                seeded: bool, steps: int) -> None:
    replayer = Replayer(premoderation)
    if seeded:
        seed(replayer)
    for _ in range(steps):
        dt = data.draw(st.integers(min_value=1, max_value=120_000), label="dt")
        command = resolve(data.draw(COMMAND, label="command"), replayer.room)
        if data.draw(WRONG_ROLE, label="wrong role"):
            actor = data.draw(ANYONE, label="actor")
        elif isinstance(command, PARTICIPANT_COMMANDS):
            actor = data.draw(A_PARTICIPANT, label="participant")
        else:
            actor = MOD
        replayer.step(command, actor, dt)

    # and the whole log from the start, as the store would replay it
    assert replayed(replayer.initial, replayer.log, via_json).snapshot() == replayer.room.snapshot()


def test_replay_covers_the_interesting_paths() -> None:
    """Guard against a generator that only ever produces refusals: a fixed, varied sequence."""
    room = Room.new("s", premoderation=True)
    counter = itertools.count(1)
    p1, p2 = PARTICIPANTS[:2]
    script: list[tuple[c.Command, Actor]] = [
        (c.AskQuestion("Q1 ?", name="Marie", client_key="k1"), p1),
        (c.AskQuestion("Q2 ?", anonymous=True), p2),
        (c.ApproveQuestion("q_1"), MOD),
        (c.PutOnStage("q_1"), MOD),
        (c.UpvoteQuestion("q_1"), p2),
        (c.AskQuestion("Q1 encore ?", name="Paul"), p2),
        (c.MergeQuestions("q_3", "q_1"), MOD),
        (c.UnmergeQuestion("q_3"), MOD),
        (c.MergeQuestions("q_3", "q_1"), MOD),
        (c.CreatePoll("Avis ?", ["Oui", "Non"], True, client_key="k1"), MOD),
        (c.OpenPoll("p_4"), MOD),
        (c.CastBallot("p_4", [0, 1]), p1),
        (c.RevealResults("p_4"), MOD),
        (c.BanParticipant("q_2"), MOD),
        (c.MarkAnswered("q_1"), MOD),
        (c.RestoreQuestion("q_2"), MOD),
        (c.ApproveQuestion("q_1", "Q1, corrigée ?"), MOD),
        (c.ClearStage(), MOD),
        (c.UnbanParticipant("q_2"), MOD),
    ]
    snapshots = [room.snapshot()]
    steps: list[list[e.Event]] = []
    for i, (command, actor) in enumerate(script):
        events = room.handle(command, actor, 1_000 * (i + 1), lambda p: f"{p}_{next(counter)}")
        assert events, command
        for event in events:
            room.apply(event)
        steps.append(events)
        snapshots.append(room.snapshot())
        check_invariants(room)
    assert all(a != b for a, b in itertools.pairwise(snapshots))
    events = {type(ev): ev for events in steps for ev in events}
    assert events[e.ParticipantBanned] == e.ParticipantBanned("p2", "q_2", None, ("q_2",))
    assert events[e.ParticipantUnbanned] == e.ParticipantUnbanned("p2")
    assert events[e.PollCreated].client_key == "k1"
    assert room.state.client_keys == {("p1", "k1"): "q_1", ("", "k1"): "p_4"}
    # the same poll re-sent, and a ban through the banned author's other question: no events
    assert room.handle(c.CreatePoll("Avis ?", ["Oui", "Non"], client_key="k1"), MOD, 0, str) == []
    room.apply(room.handle(c.BanParticipant("q_1"), MOD, 0, str)[0])
    assert room.handle(c.BanParticipant("q_1"), MOD, 0, str) == []
    assert room.handle(c.UnbanParticipant("q_2"), MOD, 0, str) == []
    # any snapshot plus the events logged after it reaches the final state
    for k, snapshot in enumerate(snapshots):
        later = [event for events in steps[k:] for event in events]
        assert replayed(snapshot, later, via_json).snapshot() == snapshots[-1]
    assert {type(ev).__name__ for events in steps for ev in events} >= {
        "QuestionAsked", "QuestionPutOnStage", "QuestionUpvoted", "PollCreated", "PollOpened",
        "BallotCast", "ResultsRevealed", "ParticipantBanned", "QuestionAnswered",
        "QuestionRestored", "QuestionEdited", "QuestionApproved", "StageCleared",
        "ParticipantUnbanned", "QuestionMerged", "QuestionUnmerged", "ModerationLogged"}
