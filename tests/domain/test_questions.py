"""Questions: asking, upvoting, moderating, the stage."""

from __future__ import annotations

import json

import pytest

from live.domain import Actor, Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import ANSWERED, APPROVED, ARCHIVED, DISMISSED, PENDING
from tests.domain.harness import MOD, P1, P2, P3
from tests.domain.harness import Harness as BaseHarness


class Harness(BaseHarness):
    """The shared harness, plus a shortcut for an approved question."""

    def approved(self, actor: Actor = P1, text: str = "Une question approuvée ?") -> str:
        question_id = self.ask(actor, text)
        self.send(c.ApproveQuestion(question_id), MOD)
        return question_id


# -- asking -------------------------------------------------------------------------------------


def test_ask_with_name_and_organisation() -> None:
    h = Harness()
    events = h.send(
        c.AskQuestion("  Quel budget ?  ", name=" Marie Dupont ", organisation="Ville de Lyon"),
        P1)
    assert events == [e.QuestionAsked(
        question_id="q_1", author_id="p1", author_name="Marie Dupont",
        organisation="Ville de Lyon", anonymous=False, text="Quel budget ?", status=PENDING,
        asked_at=h.now, client_key=None)]
    question = h.room.state.questions["q_1"]
    assert (question.text, question.author_name, question.organisation) == (
        "Quel budget ?", "Marie Dupont", "Ville de Lyon")
    assert not question.anonymous and not question.starred and not question.edited
    assert question.voters == set()


def test_anonymous_question_stores_no_name_nor_organisation() -> None:
    h = Harness()
    question_id = h.ask(P1, "Question anonyme", name="Marie Dupont", organisation="Ville de Lyon",
                        anonymous=True)
    question = h.room.state.questions[question_id]
    assert question.anonymous is True
    assert question.author_name is None and question.organisation is None
    assert question.author_id == "p1"  # kept server-side: a ban through the question needs it
    dumped = json.dumps(h.room.snapshot())
    assert "Marie" not in dumped and "Lyon" not in dumped


def test_anonymous_question_ignores_invalid_name() -> None:
    h = Harness()
    question_id = h.ask(P1, "Question anonyme", name="x" * 200, anonymous=True)
    assert h.room.state.questions[question_id].author_name is None


def test_question_without_a_name_counts_as_anonymous() -> None:
    h = Harness()
    question_id = h.ask(P1, "Sans nom", name="   ")
    question = h.room.state.questions[question_id]
    assert question.anonymous is True and question.author_name is None


def test_an_organisation_without_a_name_is_not_kept() -> None:
    h = Harness()
    question = h.room.state.questions[h.ask(P1, "Qui suis-je ?", organisation="Ville de Lyon")]
    assert question.anonymous is True and question.organisation is None


def test_windows_line_endings_become_newlines() -> None:
    h = Harness()
    question = h.room.state.questions[h.ask(P1, "Ligne 1\r\nLigne 2\rLigne 3")]
    assert question.text == "Ligne 1\nLigne 2\nLigne 3"


def test_premoderation_on_makes_questions_pending() -> None:
    h = Harness(premoderation=True)
    assert h.status(h.ask()) == PENDING


def test_premoderation_off_approves_questions() -> None:
    h = Harness(premoderation=False)
    assert h.status(h.ask()) == APPROVED


def test_set_premoderation_switches_and_is_idempotent() -> None:
    h = Harness(premoderation=True)
    assert h.send(c.SetPremoderation(False), MOD) == [e.PremoderationSet(False)]
    assert h.room.state.premoderation is False
    assert h.status(h.ask()) == APPROVED
    assert h.send(c.SetPremoderation(False), MOD) == []
    assert h.send(c.SetPremoderation(True), MOD) == [e.PremoderationSet(True)]
    assert h.status(h.ask(text="Encore ?")) == PENDING


def test_text_is_trimmed_and_keeps_inner_newlines() -> None:
    h = Harness()
    question_id = h.ask(P1, "\n\t  Première ligne\nseconde\tligne   \n")
    assert h.room.state.questions[question_id].text == "Première ligne\nseconde\tligne"


def test_text_of_exactly_500_characters_is_accepted_after_trimming() -> None:
    h = Harness()
    question_id = h.ask(P1, "   " + "x" * 500 + "   ")
    assert h.room.state.questions[question_id].text == "x" * 500


@pytest.mark.parametrize("text", [
    "", "   ", "\n\t \n", "x" * 501, "avant\x00après", "bip\x07", "esc\x1b[31m", "a\x08b",
    "del\x7f", "csi\x9b31m", "a\x85b",
])
def test_invalid_question_text_is_refused(text: str) -> None:
    h = Harness()
    assert h.refused(c.AskQuestion(text), P1) == "invalid"
    assert h.room.state.questions == {}


@pytest.mark.parametrize("command", [
    c.AskQuestion("ok ?", name="n" * 61),
    c.AskQuestion("ok ?", organisation="o" * 81),
    c.AskQuestion("ok ?", name="Marie\x00"),
    c.AskQuestion("ok ?", organisation="Lyon\x1b"),
    c.AskQuestion("ok ?", client_key="k" * 65),
])
def test_invalid_name_organisation_or_key_is_refused(command: c.AskQuestion) -> None:
    h = Harness()
    assert h.refused(command, P1) == "invalid"


def test_name_and_organisation_at_their_limits_are_accepted() -> None:
    h = Harness()
    question_id = h.ask(P1, "ok ?", name="n" * 60, organisation="o" * 80, client_key="k" * 64)
    question = h.room.state.questions[question_id]
    assert (question.author_name, question.organisation, question.client_key) == (
        "n" * 60, "o" * 80, "k" * 64)


def test_client_key_deduplicates_per_author() -> None:
    h = Harness()
    first = h.send(c.AskQuestion("Ma question", client_key="k1"), P1)
    assert len(first) == 1
    # the same question re-sent after a reconnect: accepted once
    assert h.send(c.AskQuestion("Ma question", client_key="k1"), P1) == []
    assert h.send(c.AskQuestion("Texte différent", client_key=" k1 "), P1) == []
    assert len(h.room.state.questions) == 1
    # another author may use the same key
    other = h.send(c.AskQuestion("Ma question", client_key="k1"), P2)
    assert len(other) == 1 and other[0].author_id == "p2"
    # another key from the same author is a new question
    assert len(h.send(c.AskQuestion("Ma question", client_key="k2"), P1)) == 1
    # without a key, nothing is deduplicated
    assert len(h.send(c.AskQuestion("Ma question"), P1)) == 1
    assert len(h.send(c.AskQuestion("Ma question"), P1)) == 1
    assert len(h.room.state.questions) == 5


def test_client_key_deduplication_survives_a_snapshot() -> None:
    h = Harness()
    h.ask(P1, "Ma question", client_key="k1")
    h.room = Room.from_snapshot(json.loads(json.dumps(h.room.snapshot())))
    assert h.send(c.AskQuestion("Ma question", client_key="k1"), P1) == []
    assert len(h.send(c.AskQuestion("Ma question", client_key="k1"), P2)) == 1


# -- upvotes ------------------------------------------------------------------------------------


def test_upvote_once_then_withdraw() -> None:
    h = Harness()
    question_id = h.approved(P1)
    assert h.send(c.UpvoteQuestion(question_id), P2) == [e.QuestionUpvoted(question_id, "p2")]
    assert h.send(c.UpvoteQuestion(question_id), P2) == []  # a repeat is a no-op
    assert h.room.state.questions[question_id].voters == {"p2"}
    assert h.send(c.UpvoteQuestion(question_id), P3) == [e.QuestionUpvoted(question_id, "p3")]
    assert h.room.state.questions[question_id].voters == {"p2", "p3"}
    assert h.send(c.WithdrawUpvote(question_id), P2) == [e.UpvoteWithdrawn(question_id, "p2")]
    assert h.send(c.WithdrawUpvote(question_id), P2) == []
    assert h.room.state.questions[question_id].voters == {"p3"}
    # and again
    assert len(h.send(c.UpvoteQuestion(question_id), P2)) == 1
    assert h.room.state.questions[question_id].voters == {"p2", "p3"}


def test_an_author_cannot_upvote_their_own_question() -> None:
    h = Harness()
    question_id = h.approved(P1)
    assert h.refusal(c.UpvoteQuestion(question_id), P1) == (
        "forbidden", "you cannot upvote your own question")
    assert h.room.state.questions[question_id].voters == set()


def test_upvote_unknown_question_is_not_found() -> None:
    h = Harness()
    assert h.refused(c.UpvoteQuestion("q_404"), P1) == "not_found"
    assert h.refused(c.WithdrawUpvote("q_404"), P1) == "not_found"


@pytest.mark.parametrize("voter", [P2, P1], ids=["someone else", "the author"])
def test_pending_questions_take_no_votes(voter: Actor) -> None:
    h = Harness()
    question_id = h.ask(P1)
    assert h.refused(c.UpvoteQuestion(question_id), voter) == "conflict"
    assert h.send(c.WithdrawUpvote(question_id), voter) == []  # nothing to withdraw: a no-op


@pytest.mark.parametrize("command", [c.DismissQuestion, c.ArchiveQuestion])
def test_hidden_questions_take_no_votes(command: type) -> None:
    h = Harness()
    question_id = h.approved(P1)
    h.send(command(question_id), MOD)
    assert h.refused(c.UpvoteQuestion(question_id), P2) == "conflict"


@pytest.mark.parametrize("command", [c.DismissQuestion, c.ArchiveQuestion])
def test_votes_freeze_when_a_question_leaves_the_list(command: type) -> None:
    h = Harness()
    question_id = h.approved(P1)
    h.send(c.UpvoteQuestion(question_id), P2)
    h.send(command(question_id), MOD)
    assert h.refused(c.WithdrawUpvote(question_id), P2) == "conflict"
    assert h.room.state.questions[question_id].voters == {"p2"}
    h.send(c.RestoreQuestion(question_id), MOD)
    assert h.send(c.WithdrawUpvote(question_id), P2) == [e.UpvoteWithdrawn(question_id, "p2")]


def test_answered_questions_still_take_votes() -> None:
    h = Harness()
    question_id = h.approved(P1)
    h.send(c.MarkAnswered(question_id), MOD)
    assert h.send(c.UpvoteQuestion(question_id), P2) == [e.QuestionUpvoted(question_id, "p2")]
    assert h.send(c.WithdrawUpvote(question_id), P2) == [e.UpvoteWithdrawn(question_id, "p2")]


# -- moderation -----------------------------------------------------------------------------------


def test_approve_records_previous_and_is_idempotent() -> None:
    h = Harness()
    question_id = h.ask()
    assert h.send(c.ApproveQuestion(question_id), MOD) == [
        e.QuestionApproved(question_id, previous=PENDING)]
    assert h.status(question_id) == APPROVED
    assert h.send(c.ApproveQuestion(question_id), MOD) == []


def test_approve_with_edit() -> None:
    h = Harness()
    question_id = h.ask(P1, "Qeustion mal écrite")
    events = h.send(c.ApproveQuestion(question_id, text="  Question bien écrite "), MOD)
    assert events == [e.QuestionEdited(question_id, "Question bien écrite"),
                      e.QuestionApproved(question_id, PENDING)]
    question = h.room.state.questions[question_id]
    assert (question.text, question.edited, question.status) == (
        "Question bien écrite", True, APPROVED)


def test_approve_with_unchanged_text_does_not_edit() -> None:
    h = Harness()
    question_id = h.ask(P1, "Bien écrite")
    assert h.send(c.ApproveQuestion(question_id, text="Bien écrite"), MOD) == [
        e.QuestionApproved(question_id, PENDING)]
    assert h.room.state.questions[question_id].edited is False


def test_approve_with_invalid_text_is_refused_as_a_whole() -> None:
    h = Harness()
    question_id = h.ask()
    assert h.refused(c.ApproveQuestion(question_id, text="   "), MOD) == "invalid"
    assert h.refused(c.ApproveQuestion(question_id, text="x" * 501), MOD) == "invalid"
    assert h.status(question_id) == PENDING


def test_approve_an_approved_question_with_new_text_only_edits() -> None:
    h = Harness()
    question_id = h.approved()
    assert h.send(c.ApproveQuestion(question_id, text="Nouveau"), MOD) == [
        e.QuestionEdited(question_id, "Nouveau")]


def test_edit() -> None:
    h = Harness()
    question_id = h.ask(P1, "Avant")
    assert h.send(c.EditQuestion(question_id, " Après "), MOD) == [
        e.QuestionEdited(question_id, "Après")]
    question = h.room.state.questions[question_id]
    assert (question.text, question.edited, question.status) == ("Après", True, PENDING)
    assert h.send(c.EditQuestion(question_id, "Après"), MOD) == []
    assert h.refused(c.EditQuestion(question_id, ""), MOD) == "invalid"
    assert h.refused(c.EditQuestion(question_id, "x" * 501), MOD) == "invalid"
    assert h.refused(c.EditQuestion(question_id, "a\x00"), MOD) == "invalid"
    assert h.refused(c.EditQuestion("q_404", "texte"), MOD) == "not_found"


def test_dismiss() -> None:
    h = Harness()
    question_id = h.ask()
    assert h.send(c.DismissQuestion(question_id), MOD) == [
        e.QuestionDismissed(question_id, PENDING)]
    assert h.status(question_id) == DISMISSED
    assert h.send(c.DismissQuestion(question_id), MOD) == []


def test_star_and_unstar() -> None:
    h = Harness()
    question_id = h.approved()
    assert h.send(c.StarQuestion(question_id), MOD) == [e.QuestionStarred(question_id, True)]
    assert h.room.state.questions[question_id].starred is True
    assert h.send(c.StarQuestion(question_id, True), MOD) == []
    assert h.send(c.StarQuestion(question_id, False), MOD) == [
        e.QuestionStarred(question_id, False)]
    assert h.room.state.questions[question_id].starred is False
    assert h.send(c.StarQuestion(question_id, False), MOD) == []


@pytest.mark.parametrize("command", [
    c.ApproveQuestion, c.DismissQuestion, c.StarQuestion, c.PutOnStage, c.MarkAnswered,
    c.ArchiveQuestion, c.RestoreQuestion,
])
def test_moderating_an_unknown_question_is_not_found(command: type) -> None:
    h = Harness()
    h.ask()
    assert h.refused(command("q_404"), MOD) == "not_found"


def test_a_pending_question_is_never_projected_before_it_is_approved() -> None:
    h = Harness()
    question_id = h.ask()
    assert h.refusal(c.PutOnStage(question_id), MOD) == (
        "conflict", "approve the question before putting it on stage")
    assert h.room.state.stage_question_id is None
    h.send(c.ApproveQuestion(question_id), MOD)
    assert h.room.state.stage_question_id is None  # approving is not projecting either
    assert h.send(c.PutOnStage(question_id), MOD) == [
        e.QuestionPutOnStage(question_id, previous=APPROVED)]
    assert h.status(question_id) == APPROVED
    assert h.room.state.stage_question_id == question_id
    assert h.send(c.PutOnStage(question_id), MOD) == []


def test_put_on_stage_replaces_the_question_on_stage() -> None:
    h = Harness()
    first, second = h.approved(P1), h.approved(P2)
    h.send(c.PutOnStage(first), MOD)
    assert h.send(c.PutOnStage(second), MOD) == [e.QuestionPutOnStage(second, APPROVED)]
    assert h.room.state.stage_question_id == second
    assert h.status(first) == APPROVED


@pytest.mark.parametrize("command", [c.DismissQuestion, c.MarkAnswered, c.ArchiveQuestion])
def test_questions_out_of_play_cannot_go_on_stage(command: type) -> None:
    h = Harness()
    question_id = h.approved()
    h.send(command(question_id), MOD)
    assert h.refused(c.PutOnStage(question_id), MOD) == "conflict"
    assert h.room.state.stage_question_id is None


@pytest.mark.parametrize(("command", "event", "status"), [
    (c.MarkAnswered, e.QuestionAnswered, ANSWERED),
    (c.ArchiveQuestion, e.QuestionArchived, ARCHIVED),
    (c.DismissQuestion, e.QuestionDismissed, DISMISSED),
])
def test_question_leaves_the_stage(command: type, event: type, status: str) -> None:
    h = Harness()
    other = h.approved(P2, "Pas sur scène")
    question_id = h.approved(P1)
    h.send(c.PutOnStage(question_id), MOD)
    # another question leaving does not touch the stage
    h.send(command(other), MOD)
    assert h.room.state.stage_question_id == question_id
    events = h.send(command(question_id), MOD)
    assert len(events) == 1 and isinstance(events[0], event)
    assert events[0].previous == APPROVED
    assert h.status(question_id) == status
    assert h.room.state.stage_question_id is None


def test_mark_answered_records_the_time() -> None:
    h = Harness()
    question_id = h.approved()
    events = h.send(c.MarkAnswered(question_id), MOD)
    assert events == [e.QuestionAnswered(question_id, APPROVED, h.now)]
    assert h.room.state.questions[question_id].answered_at == h.now
    assert h.send(c.MarkAnswered(question_id), MOD) == []


def test_archive_is_idempotent() -> None:
    h = Harness()
    question_id = h.approved()
    assert h.send(c.ArchiveQuestion(question_id), MOD) == [
        e.QuestionArchived(question_id, APPROVED)]
    assert h.send(c.ArchiveQuestion(question_id), MOD) == []


@pytest.mark.parametrize("command", [c.DismissQuestion, c.MarkAnswered, c.ArchiveQuestion])
def test_restore(command: type) -> None:
    h = Harness()
    question_id = h.approved()
    h.send(command(question_id), MOD)
    left = h.status(question_id)
    assert h.send(c.RestoreQuestion(question_id), MOD) == [e.QuestionRestored(question_id, left)]
    assert h.status(question_id) == APPROVED
    assert h.send(c.RestoreQuestion(question_id), MOD) == []


def test_restore_leaves_a_pending_question_alone() -> None:
    h = Harness()
    question_id = h.ask()
    assert h.send(c.RestoreQuestion(question_id), MOD) == []
    assert h.status(question_id) == PENDING


def test_previous_status_is_recorded_along_a_lifecycle() -> None:
    h = Harness()
    q = h.ask()
    steps: list[tuple[c.Command, e.Event, str]] = [
        (c.ApproveQuestion(q), e.QuestionApproved(q, PENDING), APPROVED),
        (c.DismissQuestion(q), e.QuestionDismissed(q, APPROVED), DISMISSED),
        (c.ArchiveQuestion(q), e.QuestionArchived(q, DISMISSED), ARCHIVED),
        (c.RestoreQuestion(q), e.QuestionRestored(q, ARCHIVED), APPROVED),
        (c.PutOnStage(q), e.QuestionPutOnStage(q, APPROVED), APPROVED),
        (c.DismissQuestion(q), e.QuestionDismissed(q, APPROVED), DISMISSED),
        (c.ApproveQuestion(q), e.QuestionApproved(q, DISMISSED), APPROVED),
        (c.ArchiveQuestion(q), e.QuestionArchived(q, APPROVED), ARCHIVED),
    ]
    for command, event, status in steps:
        assert h.send(command, MOD) == [event]
        assert h.status(q) == status
    events = h.send(c.MarkAnswered(q), MOD)
    assert events == [e.QuestionAnswered(q, ARCHIVED, h.now)]
    assert h.send(c.RestoreQuestion(q), MOD) == [e.QuestionRestored(q, ANSWERED)]


# -- written replies ------------------------------------------------------------------------------


def test_a_moderator_replies_under_a_published_question_and_can_take_it_back() -> None:
    h = Harness()
    question_id = h.approved(P1)
    [event] = h.send(c.ReplyToQuestion(question_id, "  Oui, dès 2021.  "), MOD)
    assert event == e.QuestionReplied(question_id, "Oui, dès 2021.", h.now)
    question = h.room.state.questions[question_id]
    assert (question.reply, question.replied_at) == ("Oui, dès 2021.", h.now)
    assert h.send(c.ReplyToQuestion(question_id, "Oui, dès 2021."), MOD) == []  # unchanged
    assert h.send(c.ReplyToQuestion(question_id, " "), MOD)[0] == e.QuestionReplied(
        question_id, None, h.now)
    assert h.room.state.questions[question_id].reply is None
    assert h.refusal(c.ReplyToQuestion(question_id, "x" * 1001), MOD) == (
        "invalid", "reply is longer than 1000 characters")
    pending = h.ask(P2, "Pas encore publiée ?")
    assert h.refused(c.ReplyToQuestion(pending, "Non."), MOD) == "conflict"
    assert h.refused(c.ReplyToQuestion(question_id, "Moi ?"), P1) == "forbidden"
