"""Polls prepared and run again: drafts edited, deleted, duplicated; closed polls reset."""

from __future__ import annotations

import pytest

from live.domain import commands as c
from live.domain import events as e
from live.domain.state import CLOSED, DRAFT, POLLS_MAX
from tests.domain.harness import MOD, P1, P2, STAGE, Harness


def test_a_draft_is_edited() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    events = h.send(c.EditPoll(poll_id, " Plutôt ? ", ["A", " B "], True), MOD)
    assert events == [e.PollEdited(poll_id, "Plutôt ?", ("A", "B"), True)]
    poll = h.room.state.polls[poll_id]
    assert (poll.question, poll.options, poll.multiple, poll.status) == (
        "Plutôt ?", ("A", "B"), True, DRAFT)
    assert h.logged[0].action == "EditPoll" and h.logged[0].target == poll_id
    # the same text again changes nothing
    assert h.send(c.EditPoll(poll_id, "Plutôt ?", ["A", "B"], True), MOD) == []


def test_an_edit_is_checked_as_a_creation() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    assert h.refused(c.EditPoll(poll_id, "Q ?", ["seule"]), MOD) == "invalid"
    assert h.refused(c.EditPoll(poll_id, "Q ?", ["A", "A"]), MOD) == "invalid"
    assert h.refused(c.EditPoll(poll_id, "", ["A", "B"]), MOD) == "invalid"
    assert h.refused(c.EditPoll("p_404", "Q ?", ["A", "B"]), MOD) == "not_found"


@pytest.mark.parametrize("command", [
    lambda pid: c.EditPoll(pid, "Q ?", ["A", "B"]), lambda pid: c.DeletePoll(pid)])
def test_only_drafts_are_edited_or_deleted(command: object) -> None:
    h = Harness()
    poll_id = h.poll()  # open
    assert h.refused(command(poll_id), MOD) == "conflict"  # type: ignore[operator]
    h.send(c.ClosePoll(poll_id), MOD)
    assert h.refused(command(poll_id), MOD) == "conflict"  # type: ignore[operator]


def test_a_draft_is_deleted() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    assert h.send(c.DeletePoll(poll_id), MOD) == [e.PollDeleted(poll_id)]
    assert poll_id not in h.room.state.polls
    assert h.logged[0].target == poll_id and h.logged[0].detail == "Êtes-vous d'accord ?"
    assert h.refused(c.DeletePoll(poll_id), MOD) == "not_found"


def test_a_poll_is_duplicated_as_a_new_draft_without_ballots() -> None:
    h = Harness()
    poll_id = h.poll(multiple=True)
    h.send(c.CastBallot(poll_id, [0, 1]), P1)
    [created] = h.send(c.DuplicatePoll(poll_id), MOD)
    assert isinstance(created, e.PollCreated) and created.poll_id != poll_id
    copy = h.room.state.polls[created.poll_id]
    original = h.room.state.polls[poll_id]
    assert (copy.question, copy.options, copy.multiple) == (
        original.question, original.options, original.multiple)
    assert (copy.status, copy.ballots) == (DRAFT, {})
    assert original.ballots == {"p1": (0, 1)}  # the original is left as it was
    assert h.logged[0].action == "DuplicatePoll" and h.logged[0].target == copy.id


def test_a_closed_poll_is_reset_and_run_again() -> None:
    h = Harness()
    poll_id = h.poll()
    h.send(c.CastBallot(poll_id, [0]), P1)
    h.send(c.CastBallot(poll_id, [1]), P2)
    assert h.refused(c.ResetPoll(poll_id), MOD) == "conflict"  # still open
    h.send(c.ClosePoll(poll_id), MOD)
    assert h.send(c.ResetPoll(poll_id), MOD) == [e.PollReset(poll_id)]
    poll = h.room.state.polls[poll_id]
    assert (poll.status, poll.ballots, poll.counts()) == (CLOSED, {}, [0, 0, 0])
    assert h.send(c.ResetPoll(poll_id), MOD) == []  # nothing left to clear
    h.send(c.OpenPoll(poll_id), MOD)
    h.send(c.CastBallot(poll_id, [2]), P1)  # the same participant votes afresh
    assert h.counts(poll_id) == [0, 0, 1]


def test_a_draft_cannot_be_reset() -> None:
    h = Harness()
    assert h.refused(c.ResetPoll(h.poll(open_=False)), MOD) == "conflict"


def test_polls_per_session_are_bounded() -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    for _ in range(POLLS_MAX - 1):
        h.send(c.DuplicatePoll(poll_id), MOD)
    assert h.refused(c.DuplicatePoll(poll_id), MOD) == "too_many_polls"
    assert h.refused(c.CreatePoll("Q ?", ["A", "B"]), MOD) == "too_many_polls"


@pytest.mark.parametrize("actor", [P1, STAGE], ids=["participant", "stage"])
def test_participants_and_the_stage_may_not_prepare_polls(actor: object) -> None:
    h = Harness()
    poll_id = h.poll(open_=False)
    for command in (c.EditPoll(poll_id, "Q ?", ["A", "B"]), c.DeletePoll(poll_id),
                    c.DuplicatePoll(poll_id), c.ResetPoll(poll_id)):
        assert h.refused(command, actor) == "forbidden"  # type: ignore[arg-type]
