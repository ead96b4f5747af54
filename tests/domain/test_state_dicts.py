"""Snapshots and events as plain data: a state with every field away from its default survives
to_dict/from_dict, a snapshot written before a field existed loads with that field's default, and
an event's tuples become lists (what JSON and the store hold). Plus the facts `apply` records that
the random replay in test_replay.py cannot tell apart (it compares a room with itself).
"""

from __future__ import annotations

import json

from live.domain import Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import Ban, BoothMessage, Caption, Poll, Question, RoomState
from tests.domain.harness import MOD, P1, Harness


def full_state() -> RoomState:
    """Every field away from its default."""
    return RoomState(
        "s7", interactive=False, premoderation=False,
        questions={"q1": Question("q1", "Quel budget ?", "p1", "Ana", "ACME", False, "answered",
                                  10, client_key="k1", starred=True, edited=True,
                                  answered_at=20, voters={"p2", "p3"})},
        polls={"p1": Poll("p1", "D'accord ?", ("Oui", "Non"), True, 30, status="closed",
                          results_visible=True, opened_at=31, client_key="k2",
                          ballots={"p2": (0, 1), "p3": (1,)})},
        stage_question_id="q1", stage_poll_id="p1", banned={"p9": Ban("q0", "Bob")},
        client_keys={("p1", "k1"): "q1", ("", "k2"): "p1"},
        captions=[Caption("fr", "Bonjour.", 40, True, "k3")],
        partials={"en": Caption("en", "Hello", 41, False)}, stage_captions="en",
        booth={"en": [BoothMessage("b1", "en", "Je prends", "Léa", "d1", 42, "k4")]})


def test_a_full_state_survives_a_snapshot() -> None:
    state = full_state()
    data = json.loads(json.dumps(state.to_dict()))
    assert (data["interactive"], data["premoderation"]) == (False, False)
    assert RoomState.from_dict(data) == state


def test_an_old_snapshot_loads_with_the_defaults() -> None:
    state = RoomState.from_dict({"session_id": "s1"})
    assert state == RoomState("s1")
    assert state.interactive is True and state.premoderation is True
    question = Question.from_dict({"id": "q1", "text": "?", "author_id": "p1", "author_name": None,
                                   "organisation": None, "anonymous": True, "status": "pending",
                                   "asked_at": 1})
    assert question.voters == set()
    poll = Poll.from_dict({"id": "p1", "question": "?", "options": ["a", "b"], "multiple": False,
                           "created_at": 1})
    assert poll.ballots == {} and poll.options == ("a", "b")


def test_an_events_tuples_become_lists() -> None:
    assert e.event_to_dict(e.BallotCast("p1", "p2", (0, 2))) == {
        "type": "BallotCast", "poll_id": "p1", "participant_id": "p2", "choices": [0, 2]}
    assert e.event_to_dict(e.ParticipantBanned("p1", "q1", None, ("q1", "q2")))["dismissed"] == [
        "q1", "q2"]


def test_a_new_room_is_its_sessions() -> None:
    room = Room.new("atelier-2", interactive=False, premoderation=False)
    assert room.state == RoomState("atelier-2", interactive=False, premoderation=False)


def test_apply_records_when_and_what() -> None:
    h = Harness()
    question_id = h.ask()
    assert h.room.state.questions[question_id].asked_at == h.now
    poll_id = h.create_poll("Êtes-vous d'accord ?", ["Oui", "Non"], client_key="k")
    poll = h.room.state.polls[poll_id]
    assert (poll.question, poll.options, poll.created_at, poll.client_key) == (
        "Êtes-vous d'accord ?", ("Oui", "Non"), h.now, "k")


def test_approving_with_an_edit_is_both() -> None:
    h = Harness()
    question_id = h.ask(P1, "Quel budget")
    assert h.send(c.ApproveQuestion(question_id, "Quel budget ?"), MOD) == [
        e.QuestionEdited(question_id, "Quel budget ?"), e.QuestionApproved(question_id, "pending")]


def test_an_anonymous_questions_organisation_is_not_even_read() -> None:
    # Like its name (test_questions.py): what an anonymous asker typed there is dropped, so no
    # mistake in it can refuse the question.
    h = Harness()
    question_id = h.ask(P1, "Question anonyme", organisation="o" * 500, anonymous=True)
    assert h.room.state.questions[question_id].organisation is None


def test_unbanning_someone_not_banned_applies_as_nothing() -> None:
    # `handle` never decides it, but `apply` takes any event the log holds without failing.
    h = Harness()
    h.room.apply(e.ParticipantUnbanned("p9"))
    assert h.room.state == RoomState("s1")
