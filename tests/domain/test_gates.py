"""Gates: which gate a free event needs, which gates events open and close, and what a voter is
told when their ballot or upvote finds its gate closed or their address's share spent.

test_replay.py checks, over random histories, that the gates the events imply are those the state
implies; here, the cases one by one, the ban among them, and the refusals' exact words."""

from __future__ import annotations

import pytest

from live.domain import events as e
from live.domain.gates import gate_changes, refusal, required_gate


def test_each_free_event_needs_its_own_gate() -> None:
    assert required_gate(e.BallotCast("p1", "v", (0,))) == "poll:p1"
    assert required_gate(e.QuestionUpvoted("q1", "v")) == "q:q1"
    assert required_gate(e.UpvoteWithdrawn("q2", "v")) == "q:q2"


def test_an_event_that_needs_no_gate_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as info:
        required_gate(e.PollClosed("p1"))
    assert str(info.value) == "PollClosed is not a free event"


@pytest.mark.parametrize(("event", "code", "message"), [
    (e.BallotCast("p1", "v", (0,)), "conflict", "the poll is not open"),
    (e.QuestionUpvoted("q1", "v"), "conflict", "the question is not open to votes"),
    (e.UpvoteWithdrawn("q1", "v"), "conflict", "the question is not open to votes"),
])
def test_a_closed_gate_refuses(event: e.Event, code: str, message: str) -> None:
    error = refusal(event)
    assert (error.code, error.message, str(error)) == (code, message, message)


@pytest.mark.parametrize(("event", "message"), [
    (e.BallotCast("p1", "v", (0,)),
     "too many ballots in this poll come from your network address"),
    (e.QuestionUpvoted("q1", "v"),
     "too many upvotes of this question come from your network address"),
])
def test_a_spent_address_share_refuses(event: e.Event, message: str) -> None:
    error = refusal(event, over_limit=True)
    assert (error.code, error.message, str(error)) == ("address_limited", message, message)


def test_questions_open_and_close_their_gates() -> None:
    assert gate_changes([
        e.QuestionAsked("q1", "a", None, None, True, "?", "pending", 1),
        e.QuestionAsked("q2", "a", None, None, True, "?", "approved", 1),
        e.QuestionApproved("q1", "pending"),
        e.QuestionDismissed("q2", "approved"),
        e.QuestionRestored("q2", "dismissed"),
        e.QuestionArchived("q1", "approved"),
        e.QuestionPutOnStage("q1", "archived"),
        e.QuestionAnswered("q1", "approved", 2),
        e.QuestionEdited("q1", "!"),  # changes no gate
    ]) == [("q:q1", False), ("q:q2", True), ("q:q1", True), ("q:q2", False), ("q:q2", True),
           ("q:q1", False), ("q:q1", True), ("q:q1", True)]


def test_polls_open_and_close_their_gates() -> None:
    assert gate_changes([e.PollCreated("p1", "?", ("a", "b"), False, 1), e.PollOpened("p1", 2),
                         e.ResultsRevealed("p1"), e.PollClosed("p1")]) == [
        ("poll:p1", True), ("poll:p1", False)]


def test_a_ban_closes_the_gates_of_the_questions_it_dismisses() -> None:
    # Pending questions take no votes anyway, but the gates must follow the state whatever
    # (the store checks them, not the state): a dismissed question's gate is closed.
    assert gate_changes([
        e.QuestionAsked("q1", "a", "Ana", None, False, "?", "approved", 1),
        e.ParticipantBanned("a", "q1", "Ana", ("q2", "q3")),
        e.PollOpened("p1", 2),
    ]) == [("q:q1", True), ("q:q2", False), ("q:q3", False), ("poll:p1", True)]
    assert gate_changes([e.ParticipantBanned("a", "q1", None, ())]) == []
