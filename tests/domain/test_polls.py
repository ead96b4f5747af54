"""Polls: creating, opening, voting, results, the stage."""

from __future__ import annotations

import json

import pytest

from live.domain import Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import CLOSED, DRAFT, OPEN
from tests.domain.harness import MOD, P1, P2, P3, P4, Harness

# -- creating -----------------------------------------------------------------------------------


def test_create_poll() -> None:
    h = Harness()
    events = h.send(c.CreatePoll("  Votre avis ?  ", [" Oui ", "Non"], multiple=True), MOD)
    assert events == [e.PollCreated("p_1", "Votre avis ?", ("Oui", "Non"), True, h.now, None)]
    poll = h.room.state.polls["p_1"]
    assert (poll.status, poll.results_visible, poll.opened_at, poll.ballots) == (
        DRAFT, False, None, {})
    assert poll.counts() == [0, 0]
    assert h.room.state.stage_poll_id is None  # a draft is not shown
    assert poll.client_key is None and h.room.state.client_keys == {}


@pytest.mark.parametrize("count", [2, 10])
def test_two_to_ten_options(count: int) -> None:
    h = Harness()
    options = [f"Option {i}" for i in range(count)]
    events = h.send(c.CreatePoll("Choix ?", options), MOD)
    assert isinstance(events[0], e.PollCreated) and list(events[0].options) == options


def test_limits_are_inclusive() -> None:
    h = Harness()
    assert len(h.send(c.CreatePoll("q" * 200, ["o" * 100, "p"]), MOD)) == 1


@pytest.mark.parametrize(("question", "options"), [
    ("Choix ?", []),
    ("Choix ?", ["Seule"]),
    ("Choix ?", [f"Option {i}" for i in range(11)]),
    ("Choix ?", ["Oui", "Oui"]),
    ("Choix ?", ["Oui", " Oui "]),  # duplicates after trimming
    ("Choix ?", ["Oui", ""]),
    ("Choix ?", ["Oui", "   "]),
    ("Choix ?", ["Oui", "o" * 101]),
    ("Choix ?", ["Oui", "N\x00on"]),
    ("", ["Oui", "Non"]),
    ("   ", ["Oui", "Non"]),
    ("q" * 201, ["Oui", "Non"]),
    ("Choix\x1b ?", ["Oui", "Non"]),
])
def test_invalid_polls_are_refused(question: str, options: list[str]) -> None:
    h = Harness()
    assert h.refused(c.CreatePoll(question, options), MOD) == "invalid"
    assert h.room.state.polls == {}


def test_client_key_creates_a_poll_once() -> None:
    h = Harness()
    events = h.send(c.CreatePoll("Votre avis ?", ["Oui", "Non"], client_key="k1"), MOD)
    assert events == [e.PollCreated("p_1", "Votre avis ?", ("Oui", "Non"), False, h.now, "k1")]
    assert h.room.state.polls["p_1"].client_key == "k1"
    assert h.room.state.client_keys == {("", "k1"): "p_1"}
    assert h.room.snapshot()["polls"][0]["client_key"] == "k1"
    # the same poll re-sent after a reconnect (whatever its content, the key trimmed): no event
    assert h.send(c.CreatePoll("Votre avis ?", ["Oui", "Non"], client_key="k1"), MOD) == []
    assert h.send(c.CreatePoll("Autre ?", ["A", "B", "C"], True, client_key=" k1 "), MOD) == []
    assert list(h.room.state.polls) == ["p_1"]
    # another key is another poll; without a key, nothing is deduplicated
    assert h.create_poll("Votre avis ?", ["Oui", "Non"], client_key="k2") == "p_2"
    assert h.create_poll("Votre avis ?", ["Oui", "Non"]) == "p_3"
    assert h.create_poll("Votre avis ?", ["Oui", "Non"]) == "p_4"
    assert h.create_poll("Votre avis ?", ["Oui", "Non"], client_key="") == "p_5"  # empty: no key
    assert h.room.state.client_keys == {("", "k1"): "p_1", ("", "k2"): "p_2"}
    assert [p.client_key for p in h.room.state.polls.values()] == ["k1", "k2", None, None, None]


def test_client_key_of_a_poll_dedupes_even_once_the_poll_moved_on() -> None:
    h = Harness()
    poll_id = h.create_poll("Votre avis ?", ["Oui", "Non"], client_key="k1")
    h.send(c.OpenPoll(poll_id), MOD)
    h.send(c.ClosePoll(poll_id), MOD)
    assert h.send(c.CreatePoll("Votre avis ?", ["Oui", "Non"], client_key="k1"), MOD) == []
    assert list(h.room.state.polls) == [poll_id]


def test_poll_and_question_client_keys_do_not_collide() -> None:
    h = Harness()
    question_id = h.ask(P1, "Ma question", client_key="k1")
    poll_id = h.create_poll("Votre avis ?", ["Oui", "Non"], client_key="k1")
    assert h.room.state.client_keys == {("p1", "k1"): question_id, ("", "k1"): poll_id}
    assert h.send(c.AskQuestion("Ma question", client_key="k1"), P1) == []
    assert h.send(c.CreatePoll("Votre avis ?", ["Oui", "Non"], client_key="k1"), MOD) == []


def test_poll_client_key_deduplication_survives_a_snapshot() -> None:
    h = Harness()
    question_id = h.ask(P1, "Ma question", client_key="k1")
    poll_id = h.create_poll("Votre avis ?", ["Oui", "Non"], client_key="k1")
    keys = dict(h.room.state.client_keys)
    snapshot = json.loads(json.dumps(h.room.snapshot()))
    assert [p["client_key"] for p in snapshot["polls"]] == ["k1"]
    h.room = Room.from_snapshot(snapshot)
    assert h.room.state.client_keys == keys == {("p1", "k1"): question_id, ("", "k1"): poll_id}
    assert h.room.state.polls[poll_id].client_key == "k1"
    assert h.send(c.CreatePoll("Votre avis ?", ["Oui", "Non"], client_key="k1"), MOD) == []
    assert h.create_poll("Votre avis ?", ["Oui", "Non"], client_key="k2") != poll_id
    assert len(h.room.state.polls) == 2


def test_poll_client_key_limits() -> None:
    h = Harness()
    assert h.room.state.polls == {}
    assert h.refused(c.CreatePoll("Avis ?", ["Oui", "Non"], client_key="k" * 65), MOD) == "invalid"
    assert h.refused(c.CreatePoll("Avis ?", ["Oui", "Non"], client_key="k\x00"), MOD) == "invalid"
    poll_id = h.create_poll("Avis ?", ["Oui", "Non"], client_key="k" * 64)
    assert h.room.state.polls[poll_id].client_key == "k" * 64


def test_an_invalid_poll_does_not_take_its_client_key() -> None:
    h = Harness()
    assert h.refused(c.CreatePoll("Avis ?", ["Oui"], client_key="k1"), MOD) == "invalid"
    assert h.room.state.client_keys == {}
    assert h.create_poll("Avis ?", ["Oui", "Non"], client_key="k1") == "p_1"


# -- opening and closing ----------------------------------------------------------------------------


def test_open_and_close() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    assert h.send(c.OpenPoll(poll_id), MOD) == [e.PollOpened(poll_id, h.now)]
    poll = h.room.state.polls[poll_id]
    assert (poll.status, poll.opened_at) == (OPEN, h.now)
    assert h.room.state.stage_poll_id == poll_id
    assert h.send(c.OpenPoll(poll_id), MOD) == []
    assert h.send(c.ClosePoll(poll_id), MOD) == [e.PollClosed(poll_id)]
    assert h.room.state.polls[poll_id].status == CLOSED
    assert h.refused(c.ClosePoll(poll_id), MOD) == "conflict"


def test_closing_a_draft_is_a_conflict() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    assert h.refused(c.ClosePoll(poll_id), MOD) == "conflict"


@pytest.mark.parametrize("command", [c.OpenPoll, c.ClosePoll, c.RevealResults, c.HideResults])
def test_unknown_poll_is_not_found(command: type) -> None:
    h = Harness()
    h.poll()
    assert h.refused(command("p_404"), MOD) == "not_found"
    assert h.refused(c.CastBallot("p_404", [0]), P1) == "not_found"


# -- voting ---------------------------------------------------------------------------------------


def test_single_choice_vote() -> None:
    h = Harness()
    poll_id = h.poll()
    assert h.send(c.CastBallot(poll_id, [1]), P1) == [e.BallotCast(poll_id, "p1", (1,))]
    assert h.room.state.polls[poll_id].ballots == {"p1": (1,)}
    assert h.counts(poll_id) == [0, 1, 0]


@pytest.mark.parametrize("choices", [[], [0, 1], [0, 0], [3], [-1], [0, 3]])
def test_single_choice_poll_takes_exactly_one_valid_choice(choices: list[int]) -> None:
    h = Harness()
    poll_id = h.poll()
    assert h.refused(c.CastBallot(poll_id, choices), P1) == "invalid"
    assert h.room.state.polls[poll_id].ballots == {}


def test_multiple_choice_vote() -> None:
    h = Harness()
    poll_id = h.poll(multiple=True)
    assert h.send(c.CastBallot(poll_id, [2, 0]), P1) == [e.BallotCast(poll_id, "p1", (0, 2))]
    assert h.send(c.CastBallot(poll_id, [0, 2]), P1) == []  # the same ballot, in another order
    assert h.send(c.CastBallot(poll_id, [1]), P2) == [e.BallotCast(poll_id, "p2", (1,))]
    assert h.send(c.CastBallot(poll_id, [0, 1, 2]), P3) == [
        e.BallotCast(poll_id, "p3", (0, 1, 2))]
    assert h.counts(poll_id) == [2, 2, 2]


@pytest.mark.parametrize("choices", [[], [0, 0], [1, 3], [-1, 0], [99]])
def test_multiple_choice_poll_refuses_bad_ballots(choices: list[int]) -> None:
    h = Harness()
    poll_id = h.poll(multiple=True)
    assert h.refused(c.CastBallot(poll_id, choices), P1) == "invalid"


def test_ballot_can_change_while_open() -> None:
    h = Harness()
    poll_id = h.poll()
    h.send(c.CastBallot(poll_id, [0]), P1)
    assert h.counts(poll_id) == [1, 0, 0]
    assert h.send(c.CastBallot(poll_id, [2]), P1) == [e.BallotCast(poll_id, "p1", (2,))]
    assert h.counts(poll_id) == [0, 0, 1]
    assert h.send(c.CastBallot(poll_id, [2]), P1) == []  # the same ballot twice: no event
    assert h.counts(poll_id) == [0, 0, 1]


def test_cannot_vote_in_a_draft_or_closed_poll() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    assert h.refused(c.CastBallot(poll_id, [0]), P1) == "conflict"
    h.send(c.OpenPoll(poll_id), MOD)
    h.send(c.CastBallot(poll_id, [0]), P1)
    h.send(c.ClosePoll(poll_id), MOD)
    assert h.refused(c.CastBallot(poll_id, [1]), P1) == "conflict"
    assert h.refused(c.CastBallot(poll_id, [0]), P2) == "conflict"
    assert h.room.state.polls[poll_id].ballots == {"p1": (0,)}


def test_counts_are_exact() -> None:
    h = Harness()
    poll_id = h.poll(("A", "B", "C", "D"))
    for actor, choice in [(P1, 0), (P2, 0), (P3, 3), (P4, 1)]:
        h.send(c.CastBallot(poll_id, [choice]), actor)
    assert h.counts(poll_id) == [2, 1, 0, 1]
    h.send(c.CastBallot(poll_id, [3]), P1)
    assert h.counts(poll_id) == [1, 1, 0, 2]
    assert sum(h.counts(poll_id)) == len(h.room.state.polls[poll_id].ballots) == 4


def test_ballots_are_per_poll() -> None:
    h = Harness()
    first, second = h.poll(), h.poll(("Rouge", "Vert"))
    h.send(c.CastBallot(first, [0]), P1)
    h.send(c.CastBallot(second, [1]), P1)
    assert h.counts(first) == [1, 0, 0] and h.counts(second) == [0, 1]


# -- results and the stage ------------------------------------------------------------------------


def test_reveal_and_hide() -> None:
    h = Harness()
    poll_id = h.poll()
    h.send(c.ClosePoll(poll_id), MOD)
    h.send(c.ClearStage("poll"), MOD)
    assert h.send(c.RevealResults(poll_id), MOD) == [e.ResultsRevealed(poll_id)]
    assert h.room.state.polls[poll_id].results_visible is True
    assert h.room.state.stage_poll_id == poll_id  # revealing shows the poll
    assert h.send(c.RevealResults(poll_id), MOD) == []
    assert h.send(c.HideResults(poll_id), MOD) == [e.ResultsHidden(poll_id)]
    assert h.room.state.polls[poll_id].results_visible is False
    assert h.send(c.HideResults(poll_id), MOD) == []


def test_results_of_a_draft_cannot_be_revealed() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    assert h.refused(c.RevealResults(poll_id), MOD) == "conflict"
    assert h.room.state.stage_poll_id is None  # a draft never reaches the stage


def test_opening_or_revealing_sets_the_stage_poll() -> None:
    h = Harness()
    first = h.poll()
    assert h.room.state.stage_poll_id == first
    second = h.poll(("Rouge", "Vert"))
    assert h.room.state.stage_poll_id == second
    h.send(c.RevealResults(first), MOD)
    assert h.room.state.stage_poll_id == first
    h.send(c.ClosePoll(first), MOD)  # closing keeps it shown with its results
    assert h.room.state.stage_poll_id == first


def _stage_with_question_and_poll(h: Harness) -> tuple[str, str]:
    [asked] = h.send(c.AskQuestion("Une question ?"), P1)
    assert isinstance(asked, e.QuestionAsked)
    question_id = asked.question_id
    h.send(c.ApproveQuestion(question_id), MOD)
    h.send(c.PutOnStage(question_id), MOD)
    return question_id, h.poll()


@pytest.mark.parametrize(("target", "cleared", "question_left", "poll_left"), [
    ("question", e.StageCleared(question=True, poll=False), False, True),
    ("poll", e.StageCleared(question=False, poll=True), True, False),
    ("all", e.StageCleared(question=True, poll=True), False, False),
])
def test_clear_stage_targets(target: str, cleared: e.StageCleared, question_left: bool,
                             poll_left: bool) -> None:
    h = Harness()
    question_id, poll_id = _stage_with_question_and_poll(h)
    assert h.send(c.ClearStage(target), MOD) == [cleared]
    assert h.room.state.stage_question_id == (question_id if question_left else None)
    assert h.room.state.stage_poll_id == (poll_id if poll_left else None)
    assert h.send(c.ClearStage(target), MOD) == []  # nothing left to clear there
    # clearing the stage changes neither the question nor the poll
    assert h.room.state.questions[question_id].status == "approved"
    assert h.room.state.polls[poll_id].status == OPEN


def test_clear_stage_defaults_to_all() -> None:
    h = Harness()
    _stage_with_question_and_poll(h)
    assert h.send(c.ClearStage(), MOD) == [e.StageCleared(True, True)]


def test_clear_stage_only_reports_what_was_there() -> None:
    h = Harness()
    h.poll()
    assert h.send(c.ClearStage("all"), MOD) == [e.StageCleared(question=False, poll=True)]
    assert h.send(c.ClearStage("all"), MOD) == []


def test_clear_stage_with_unknown_target_is_invalid() -> None:
    h = Harness()
    _stage_with_question_and_poll(h)
    assert h.refused(c.ClearStage("everything"), MOD) == "invalid"


def test_a_poll_goes_back_on_stage_after_being_cleared() -> None:
    h = Harness()
    first, second = h.poll(), h.poll(("A", "B"))
    assert h.room.state.stage_poll_id == second
    [event] = h.send(c.PutPollOnStage(first), MOD)
    assert isinstance(event, e.PollPutOnStage) and h.room.state.stage_poll_id == first
    assert h.send(c.PutPollOnStage(first), MOD) == []
    h.send(c.ClearStage("poll"), MOD)
    assert h.room.state.stage_poll_id is None
    h.send(c.PutPollOnStage(first), MOD)
    assert h.room.state.stage_poll_id == first


def test_a_draft_poll_cannot_go_on_stage() -> None:
    h = Harness()
    draft = h.poll(open_=False)
    assert h.refused(c.PutPollOnStage(draft), MOD) == "conflict"
