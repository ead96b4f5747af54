"""Poll kinds: a rating from 1 to 5, a word cloud (entries normalised, hidden by the moderator),
open text (answers approved by the moderator); what each audience sees of them, and their reports."""

from __future__ import annotations

from typing import Any

import pytest

from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor, Role
from live.reports.archive import archived_state
from live.reports.polls import results
from live.views import Audience, poll_view, project, state_view, tally_view
from tests.domain.harness import MOD, P1, P2, Harness

P3 = Actor(Role.PARTICIPANT, "p3")


def opened(h: Harness, kind: str, question: str = "Votre avis ?") -> str:
    [created] = h.send(c.CreatePoll(question, kind=kind), MOD)
    assert isinstance(created, e.PollCreated) and created.kind == kind
    h.send(c.OpenPoll(created.poll_id), MOD)
    return created.poll_id


def view(h: Harness, poll_id: str, audience: Audience) -> dict[str, Any]:
    return poll_view(h.room.state.polls[poll_id], audience)


@pytest.mark.parametrize("kind", ["rating", "words", "text"])
def test_kinds_other_than_choice_take_no_options(kind: str) -> None:
    h = Harness()
    assert h.refused(c.CreatePoll("Q ?", ["A", "B"], kind=kind), MOD) == "invalid"
    poll_id = opened(h, kind)
    poll = h.room.state.polls[poll_id]
    assert (poll.kind, poll.options, poll.multiple) == (kind, (), False)


def test_an_unknown_kind_is_refused_and_a_draft_can_change_kind() -> None:
    h = Harness()
    assert h.refused(c.CreatePoll("Q ?", kind="quiz"), MOD) == "invalid"
    assert h.refused(c.CreatePoll("Q ?", kind="choice"), MOD) == "invalid"  # no options
    [created] = h.send(c.CreatePoll("Q ?", ["A", "B"]), MOD)
    assert isinstance(created, e.PollCreated)
    assert h.send(c.EditPoll(created.poll_id, "Q ?", kind="rating"), MOD) == [
        e.PollEdited(created.poll_id, "Q ?", (), False, "rating")]
    [copy] = h.send(c.DuplicatePoll(created.poll_id), MOD)
    assert isinstance(copy, e.PollCreated) and copy.kind == "rating"


def test_a_rating_takes_one_mark_from_1_to_5_and_averages_them() -> None:
    h = Harness()
    poll_id = opened(h, "rating")
    for bad in ([0], [6], [3, 4], []):
        assert h.refused(c.CastBallot(poll_id, bad), P1) == "invalid"
    assert h.refused(c.CastBallot(poll_id, answers=["5"]), P1) == "invalid"
    h.send(c.CastBallot(poll_id, [5]), P1)
    h.send(c.CastBallot(poll_id, [4]), P2)
    h.send(c.CastBallot(poll_id, [4]), P3)
    assert h.send(c.CastBallot(poll_id, [4]), P3) == []  # the same mark again
    seen = view(h, poll_id, Audience.MODERATOR)
    assert (seen["counts"], seen["average"], seen["ballots"]) == ([0, 0, 0, 2, 1], 4.3, 3)
    public = view(h, poll_id, Audience.STAGE)
    assert (public["counts"], public["average"], public["ballots"]) == (None, None, 3)
    h.send(c.RevealResults(poll_id), MOD)
    assert view(h, poll_id, Audience.STAGE)["average"] == 4.3
    rows = results(h.room.state.polls[poll_id])
    assert [(r.answer, r.count) for r in rows] == [
        ("1/5", 0), ("2/5", 0), ("3/5", 0), ("4/5", 2), ("5/5", 1), ("⌀ 4.3/5", 3)]


def test_a_word_cloud_normalises_entries_and_counts_each_voter_once_per_word() -> None:
    h = Harness()
    poll_id = opened(h, "words")
    assert h.refused(c.CastBallot(poll_id, [0]), P1) == "invalid"
    for bad in ([], ["a", "b", "c", "d"], ["x" * 41], ["  !? "], ["Eau", "eau !"]):
        assert h.refused(c.CastBallot(poll_id, answers=bad), P1) == "invalid", bad
    [ballot] = h.send(c.CastBallot(poll_id, answers=[" Mobilités ! ", "« Eau »"]), P1)
    assert isinstance(ballot, e.BallotCast) and ballot.answers == ("mobilités", "eau")
    h.send(c.CastBallot(poll_id, answers=["mobilités", "Climat"]), P2)
    h.send(c.CastBallot(poll_id, answers=["MOBILITÉS"]), P3)
    answers = view(h, poll_id, Audience.MODERATOR)["answers"]
    assert answers == [{"text": "mobilités", "count": 3, "shown": True},
                       {"text": "eau", "count": 1, "shown": True},
                       {"text": "climat", "count": 1, "shown": True}]
    assert view(h, poll_id, Audience.PARTICIPANT)["answers"] is None  # until revealed
    # the moderator hides a word: gone for the public, kept (marked) for moderators
    assert h.refused(c.ScreenAnswer(poll_id, "absent", False), MOD) == "not_found"
    [hidden] = h.send(c.ScreenAnswer(poll_id, "eau", False), MOD)
    assert hidden == e.AnswerScreened(poll_id, "eau", False)
    assert h.logged[-1].action == "ScreenAnswer" and h.logged[-1].detail == "Votre avis ? → eau"
    assert h.send(c.ScreenAnswer(poll_id, "eau", False), MOD) == []
    h.send(c.RevealResults(poll_id), MOD)
    assert [a["text"] for a in view(h, poll_id, Audience.STAGE)["answers"]] == [
        "mobilités", "climat"]
    assert {"text": "eau", "count": 1, "shown": False} in view(
        h, poll_id, Audience.MODERATOR)["answers"]
    assert [r.answer for r in results(h.room.state.polls[poll_id])] == ["mobilités", "climat"]
    # a participant sees their own words; a new ballot replaces the old one
    me = state_view(h.room.state, {}, Audience.PARTICIPANT, "p1", 0)["me"]
    assert me["ballots"][poll_id] == ["mobilités", "eau"]
    h.send(c.CastBallot(poll_id, answers=["Climat"]), P1)
    assert view(h, poll_id, Audience.MODERATOR)["answers"][0] == {
        "text": "climat", "count": 2, "shown": True}


def test_open_text_answers_wait_for_approval() -> None:
    h = Harness()
    poll_id = opened(h, "text")
    assert h.refused(c.CastBallot(poll_id, answers=["un", "deux"]), P1) == "invalid"
    assert h.refused(c.CastBallot(poll_id, answers=["x" * 281]), P1) == "invalid"
    h.send(c.CastBallot(poll_id, answers=["Plus de  pistes\ncyclables."]), P1)
    h.send(c.CastBallot(poll_id, answers=["Des bus la nuit."]), P2)
    h.send(c.RevealResults(poll_id), MOD)
    assert view(h, poll_id, Audience.STAGE)["answers"] == []
    h.send(c.ScreenAnswer(poll_id, "Des bus la nuit.", True), MOD)
    assert view(h, poll_id, Audience.STAGE)["answers"] == [
        {"text": "Des bus la nuit.", "count": 1, "shown": True}]
    # moderators: the answers still waiting first
    assert [a["text"] for a in view(h, poll_id, Audience.MODERATOR)["answers"]] == [
        "Plus de pistes cyclables.", "Des bus la nuit."]
    public_tally = tally_view(h.room.state, Audience.PARTICIPANT, 9)["polls"][poll_id]
    assert public_tally["answers"] == [{"text": "Des bus la nuit.", "count": 1, "shown": True}]
    assert h.refused(c.ScreenAnswer(poll_id, "Plus de  pistes\ncyclables.", True), MOD) == (
        "not_found")  # answers are named as the view lists them
    # the archive keeps every answer and its screening, never who gave it
    archived = archived_state(h.room.state)["polls"][0]
    assert "p1" not in repr(archived) and archived["ballot_count"] == 2
    assert {"text": "Plus de pistes cyclables.", "count": 1, "shown": False} in archived["answers"]


def test_screening_is_for_words_and_text_polls_by_moderators() -> None:
    h = Harness()
    choice = h.poll()
    h.send(c.CastBallot(choice, [0]), P1)
    assert h.refused(c.ScreenAnswer(choice, "Oui", False), MOD) == "invalid"
    words = opened(h, "words")
    h.send(c.CastBallot(words, answers=["eau"]), P1)
    assert h.refused(c.ScreenAnswer(words, "eau", False), P2) == "forbidden"


def test_a_reset_clears_answers_and_screening_and_tells_everyone() -> None:
    h = Harness()
    poll_id = opened(h, "words")
    h.send(c.CastBallot(poll_id, answers=["eau"]), P1)
    h.send(c.ScreenAnswer(poll_id, "eau", False), MOD)
    h.send(c.ClosePoll(poll_id), MOD)
    [reset] = h.send(c.ResetPoll(poll_id), MOD)
    poll = h.room.state.polls[poll_id]
    assert (poll.answers, poll.screened, poll.voters) == ({}, {}, 0)
    fanout = project(reset, {"type": "PollReset", "seq": 9}, h.room.state)
    assert set(fanout.shared) == set(Audience)
    assert h.send(c.ResetPoll(poll_id), MOD) == []  # nothing left to clear
