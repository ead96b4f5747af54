"""Merging duplicate questions (votes united, each voter once, undo), where a question was asked,
and the moderation log (who did what, when, on what)."""

from __future__ import annotations

import pytest

from live.domain import Room
from live.domain import commands as c
from live.domain import events as e
from live.domain import room as room_module
from live.domain.room import LOG_DETAIL_CHARS
from live.domain.state import APPROVED, LOG_KEPT, MERGED, PENDING
from live.views import LOG_SENT, Audience, project, state_view
from tests.domain.harness import ADMIN, MOD, P1, P2, P3, P4, STAGE, Harness

assert LOG_KEPT >= LOG_SENT, "a console is sent the latest entries: the room keeps at least those"


def approved(h: Harness, actor: object = P1, text: str = "Quel budget pour les villes ?") -> str:
    question_id = h.ask(actor, text)  # type: ignore[arg-type]
    h.send(c.ApproveQuestion(question_id), MOD)
    return question_id


# -- merging ---------------------------------------------------------------------------------------


def test_a_merge_unites_the_votes_each_voter_once_and_undo_gives_them_back() -> None:
    h = Harness()
    original = approved(h, P1)
    duplicate = approved(h, P2, "Quel budget pour nos villes ?")
    h.send(c.UpvoteQuestion(original), P3)
    h.send(c.UpvoteQuestion(duplicate), P3)  # voted for both: counted once after the merge
    h.send(c.UpvoteQuestion(duplicate), P4)
    h.send(c.UpvoteQuestion(duplicate), P1)  # the original's author: never a vote on their own
    assert h.send(c.MergeQuestions(duplicate, original), MOD) == [
        e.QuestionMerged(duplicate, original, APPROVED, ("p4",))]
    q = h.room.state.questions
    assert q[original].voters == {"p3", "p4"}
    assert (q[duplicate].status, q[duplicate].merged_into) == (MERGED, original)
    assert q[duplicate].voters == {"p1", "p3", "p4"}  # kept as they were, for the record
    assert h.send(c.MergeQuestions(duplicate, original), MOD) == []  # sent twice: once
    # The merged question takes no votes and leaves every list but its asker's and moderators'.
    assert h.refused(c.UpvoteQuestion(duplicate), P3) == "conflict"
    view = state_view(h.room.state, {}, Audience.PARTICIPANT, "p3", 0)
    assert [x["id"] for x in view["questions"]] == [original]
    mine = state_view(h.room.state, {}, Audience.PARTICIPANT, "p2", 0)["questions"]
    assert {x["id"]: x["merged_into"] for x in mine} == {original: None, duplicate: original}
    # Undo: exactly the moved votes go back, a vote withdrawn since stays withdrawn.
    h.send(c.WithdrawUpvote(original), P4)
    assert h.send(c.UnmergeQuestion(duplicate), MOD) == [
        e.QuestionUnmerged(duplicate, original, APPROVED, ())]
    assert q[original].voters == {"p3"}
    assert (q[duplicate].status, q[duplicate].merged_into) == (APPROVED, None)
    assert h.send(c.UnmergeQuestion(duplicate), MOD) == []


def test_undo_takes_back_the_moved_votes_still_there() -> None:
    h = Harness()
    original, duplicate = approved(h, P1), approved(h, P2, "Et le budget ?")
    h.send(c.UpvoteQuestion(duplicate), P3)
    h.send(c.MergeQuestions(duplicate, original), MOD)
    assert len(h.room.state.questions[original].voters) == 1
    assert h.send(c.UnmergeQuestion(duplicate), MOD) == [
        e.QuestionUnmerged(duplicate, original, APPROVED, ("p3",))]
    assert h.room.state.questions[original].voters == set()


def test_a_pending_duplicate_merges_and_comes_back_pending() -> None:
    h = Harness()
    original = approved(h, P1)
    duplicate = h.ask(P2, "Le budget ?")
    h.send(c.MergeQuestions(duplicate, original), MOD)
    h.send(c.UnmergeQuestion(duplicate), MOD)
    assert h.status(duplicate) == PENDING


def test_what_cannot_be_merged() -> None:
    h = Harness()
    original = approved(h, P1)
    pending = h.ask(P2, "En attente ?")
    assert h.refusal(c.MergeQuestions(original, original), MOD) == (
        "invalid", "a question cannot be merged into itself")
    assert h.refusal(c.MergeQuestions(original, pending), MOD) == (
        "conflict", "merge into an approved question: approve it first")
    assert h.refused(c.MergeQuestions("q_404", original), MOD) == "not_found"
    h.send(c.DismissQuestion(pending), MOD)
    assert h.refused(c.MergeQuestions(pending, original), MOD) == "conflict"
    other = approved(h, P3, "Une autre ?")
    duplicate = approved(h, P4, "Un doublon ?")
    h.send(c.MergeQuestions(duplicate, original), MOD)
    assert h.refusal(c.MergeQuestions(duplicate, other), MOD) == (
        "conflict", "this question was already merged into another one")
    # A merged question is neither approved, dismissed nor projected until the merge is undone.
    for command in (c.ApproveQuestion(duplicate), c.DismissQuestion(duplicate),
                    c.PutOnStage(duplicate), c.MarkAnswered(duplicate)):
        assert h.refused(command, MOD) == "conflict"
    # Only moderators merge.
    for actor in (P1, STAGE):
        assert h.refused(c.MergeQuestions(other, original), actor) == "forbidden"
        assert h.refused(c.UnmergeQuestion(duplicate), actor) == "forbidden"


def test_merging_the_question_on_stage_takes_it_off() -> None:
    h = Harness()
    original, duplicate = approved(h, P1), approved(h, P2, "Doublon ?")
    h.send(c.PutOnStage(duplicate), MOD)
    h.send(c.MergeQuestions(duplicate, original), MOD)
    assert h.room.state.stage_question_id is None


def test_a_merge_tells_the_askers_and_the_voters_whose_vote_moved() -> None:
    h = Harness()
    original, duplicate = approved(h, P1), approved(h, P2, "Doublon ?")
    h.send(c.UpvoteQuestion(duplicate), P3)
    [merged] = h.send(c.MergeQuestions(duplicate, original), MOD)
    fanout = project(merged, {"type": "QuestionMerged", "seq": 9}, h.room.state)
    moderators = fanout.shared[Audience.MODERATOR]
    assert [q["id"] for q in moderators["questions"]] == [duplicate, original]
    public = fanout.shared[Audience.PARTICIPANT]
    assert (public["question_id"], public["question"]) == (duplicate, None)
    assert [(q["id"], q["votes"]) for q in public["questions"]] == [(original, 1)]
    assert fanout.shared[Audience.STAGE] == public
    asker = fanout.private["p2"]
    assert asker["question"]["merged_into"] == original and asker["question"]["mine"]
    assert original in fanout.private["p3"]["me"]["upvotes"]


# -- where a question comes from -------------------------------------------------------------------


def test_a_question_keeps_where_it_was_asked() -> None:
    h = Harness()
    in_room = h.ask(P1, "De la salle ?", origin="room")
    remote = h.ask(P2, "À distance ?")
    assert h.room.state.questions[in_room].origin == "room"
    assert h.room.state.questions[remote].origin == "remote"
    assert h.refusal(c.AskQuestion("D'où ?", origin="moon"), P3) == (
        "invalid", "origin must be one of room, remote")
    view = state_view(h.room.state, {}, Audience.MODERATOR, None, 0)
    assert {q["id"]: q["origin"] for q in view["questions"]} == {in_room: "room", remote: "remote"}


# -- the moderation log ----------------------------------------------------------------------------


def test_each_moderation_act_is_logged_with_who_when_and_the_text_it_concerned() -> None:
    h = Harness()
    question_id = h.ask(P1, "Première version ?")
    assert h.logged == []  # asking is not moderating
    h.send(c.EditQuestion(question_id, "Version corrigée ?"), MOD)
    [edit] = h.logged
    assert (edit.by, edit.action, edit.target, edit.detail) == (
        "moderator", "EditQuestion", question_id, "Première version ?")  # the text before
    h.send(c.DismissQuestion(question_id), ADMIN)
    assert (h.logged[0].by, h.logged[0].action, h.logged[0].at) == (
        "admin", "DismissQuestion", h.now)
    h.send(c.DismissQuestion(question_id), MOD)  # nothing changed: nothing logged
    assert h.logged == []
    h.send(c.CreatePoll("Un sondage ?", ["Oui", "Non"]), MOD)
    created = next(iter(h.room.state.polls))  # named by the id it was given
    assert (h.logged[0].action, h.logged[0].target, h.logged[0].detail) == (
        "CreatePoll", created, "Un sondage ?")
    log = h.room.state.log
    assert [entry.action for entry in log] == ["EditQuestion", "DismissQuestion", "CreatePoll"]
    # Only moderators see it.
    assert [x["action"] for x in state_view(h.room.state, {}, Audience.MODERATOR, None, 0)["log"]
            ] == ["EditQuestion", "DismissQuestion", "CreatePoll"]
    for audience in (Audience.PARTICIPANT, Audience.STAGE):
        assert "log" not in state_view(h.room.state, {}, audience, "p1", 0)


def test_the_log_is_bounded_and_survives_a_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(room_module, "LOG_KEPT", 20)
    h = Harness()
    question_id = approved(h, P1, "x" * 500)
    for i in range(20 + 5):
        h.send(c.StarQuestion(question_id, i % 2 == 0), MOD)
    log = h.room.state.log
    assert len(log) == 20 and log[-1].action == "StarQuestion"
    assert all(len(entry.detail or "") <= LOG_DETAIL_CHARS for entry in log)
    assert Room.from_snapshot(h.room.snapshot()).state.log == log
    [logged] = h.logged
    fanout = project(logged, {"type": "ModerationLogged", "seq": 1}, h.room.state)
    assert set(fanout.shared) == {Audience.MODERATOR} and not fanout.private
    assert fanout.shared[Audience.MODERATOR]["log_entry"]["action"] == "StarQuestion"
