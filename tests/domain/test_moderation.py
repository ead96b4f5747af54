"""Capabilities, bans, non-interactive sessions, and `handle` never mutating."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from live.domain import Actor, Capability, DomainError, Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import APPROVED, DISMISSED, PENDING, Ban
from tests.domain.harness import (
    ADMIN,
    CAPTIONER,
    GUEST,
    GUEST2,
    MOD,
    P1,
    P2,
    P3,
    STAGE,
    STUDIO,
    Harness,
)


def populated() -> tuple[Harness, dict[str, str]]:
    """A room with questions in several statuses and polls, for commands with real ids."""
    h = Harness()
    ids = {
        "pending": h.ask(P1, "En attente ?", name="Marie Dupont"),
        "approved": h.ask(P1, "Approuvée ?", name="Marie Dupont"),
        "dismissed": h.ask(P2, "Écartée ?"),
    }
    h.send(c.ApproveQuestion(ids["approved"]), MOD)
    h.send(c.DismissQuestion(ids["dismissed"]), MOD)
    [words] = h.send(c.CreatePoll("Un mot ?", kind="words"), MOD)
    assert isinstance(words, e.PollCreated)
    ids["words"] = words.poll_id
    h.send(c.OpenPoll(ids["words"]), MOD)
    h.send(c.CastBallot(ids["words"], answers=["Mobilité"]), P3)
    ids["poll"] = h.create_poll("Avis ?", ["Oui", "Non"])
    h.send(c.OpenPoll(ids["poll"]), MOD)
    ids["draft"] = h.create_poll("Plus tard ?", ["A", "B"])
    h.send(c.CastBallot(ids["poll"], [0]), P3)
    h.send(c.JoinAsGuest(), GUEST)
    ids["guest"] = "g1"
    [sent] = h.send(c.SendStageMessage("Encore cinq minutes"), MOD)
    assert isinstance(sent, e.StageMessageSent)
    ids["message"] = sent.message_id
    return h, ids


# One valid-looking command per type, built from the ids of `populated()`.
SAMPLES: dict[str, Callable[[dict[str, str]], c.Command]] = {
    "AskQuestion": lambda ids: c.AskQuestion("Et l'Afrique ?", name="Paul", client_key="k9"),
    "UpvoteQuestion": lambda ids: c.UpvoteQuestion(ids["approved"]),
    "WithdrawUpvote": lambda ids: c.WithdrawUpvote(ids["approved"]),
    "CastBallot": lambda ids: c.CastBallot(ids["poll"], [1]),
    "ApproveQuestion": lambda ids: c.ApproveQuestion(ids["pending"], text="En attente, corrigée"),
    "EditQuestion": lambda ids: c.EditQuestion(ids["approved"], "Corrigée ?"),
    "ReplyToQuestion": lambda ids: c.ReplyToQuestion(ids["approved"], "Oui, dès 2021."),
    "DismissQuestion": lambda ids: c.DismissQuestion(ids["pending"]),
    "StarQuestion": lambda ids: c.StarQuestion(ids["approved"], True),
    "PutOnStage": lambda ids: c.PutOnStage(ids["approved"]),
    "ClearStage": lambda ids: c.ClearStage("all"),
    "MarkAnswered": lambda ids: c.MarkAnswered(ids["approved"]),
    "ArchiveQuestion": lambda ids: c.ArchiveQuestion(ids["approved"]),
    "RestoreQuestion": lambda ids: c.RestoreQuestion(ids["dismissed"]),
    "SetPremoderation": lambda ids: c.SetPremoderation(False),
    "CreatePoll": lambda ids: c.CreatePoll("Encore ?", ["Oui", "Non", "Peut-être"], True),
    "OpenPoll": lambda ids: c.OpenPoll(ids["draft"]),
    "EditPoll": lambda ids: c.EditPoll(ids["draft"], "Encore ?", ["Oui", "Non"]),
    "DeletePoll": lambda ids: c.DeletePoll(ids["draft"]),
    "DuplicatePoll": lambda ids: c.DuplicatePoll(ids["poll"]),
    "ResetPoll": lambda ids: c.ResetPoll(ids["poll"]),
    "ScreenAnswer": lambda ids: c.ScreenAnswer(ids["words"], "mobilité", False),
    "ClosePoll": lambda ids: c.ClosePoll(ids["poll"]),
    "RevealResults": lambda ids: c.RevealResults(ids["poll"]),
    "PutPollOnStage": lambda ids: c.PutPollOnStage(ids["poll"]),
    "HideResults": lambda ids: c.HideResults(ids["poll"]),
    "BanParticipant": lambda ids: c.BanParticipant(ids["pending"]),
    "UnbanParticipant": lambda ids: c.UnbanParticipant(ids["approved"]),
    "PostCaption": lambda ids: c.PostCaption("fr", "Bienvenue à toutes et à tous."),
    "SetStageCaptions": lambda ids: c.SetStageCaptions(True),
    "SendBoothMessage": lambda ids: c.SendBoothMessage("Je prends le relais à 10 h 30."),
    "JoinAsGuest": lambda ids: c.JoinAsGuest(),
    "SetGuestOnAir": lambda ids: c.SetGuestOnAir(ids.get("guest", "g1"), True),
    "SetReplayPublished": lambda ids: c.SetReplayPublished(False),
    "SendStageMessage": lambda ids: c.SendStageMessage("Il vous reste deux minutes."),
    "AcknowledgeStageMessage": lambda ids: c.AcknowledgeStageMessage(ids.get("message", "m_1")),
    "SetStageTimer": lambda ids: c.SetStageTimer(300),
    "MergeQuestions": lambda ids: c.MergeQuestions(ids["pending"], ids["approved"]),
    "UnmergeQuestion": lambda ids: c.UnmergeQuestion(ids["pending"]),
}
PARTICIPANT_COMMANDS = frozenset({"AskQuestion", "UpvoteQuestion", "WithdrawUpvote", "CastBallot"})
CAPTIONER_COMMANDS = frozenset({"PostCaption"})
# An interpreter's, in the booth of their link's language: tests/domain/test_booth.py.
INTERPRETER_COMMANDS = frozenset({"SendBoothMessage"})
GUEST_COMMANDS = frozenset({"JoinAsGuest"})  # by a guest not yet joined (GUEST2)
DIRECT_COMMANDS = frozenset({"SetGuestOnAir"})  # the studio's
# The speaker's, on the stage screen (or a remote guest's page).
SPEAKER_COMMANDS = frozenset({"AcknowledgeStageMessage"})
MODERATOR_COMMANDS = (frozenset(c.COMMANDS) - PARTICIPANT_COMMANDS - CAPTIONER_COMMANDS
                      - INTERPRETER_COMMANDS - GUEST_COMMANDS - DIRECT_COMMANDS
                      - SPEAKER_COMMANDS)
# Captions go with the session's video and stage: a session without questions and polls takes them.
CAPTION_COMMANDS = frozenset({"PostCaption", "SetStageCaptions"})
# So do its guests and its replay.
ANY_SESSION_COMMANDS = (CAPTION_COMMANDS | INTERPRETER_COMMANDS | GUEST_COMMANDS | DIRECT_COMMANDS
                        | SPEAKER_COMMANDS
                        | {"SetReplayPublished", "SendStageMessage", "SetStageTimer"})


# What each sample must do: an accepted command that changes nothing would prove nothing.
EFFECT = {
    "AskQuestion": e.QuestionAsked, "UpvoteQuestion": e.QuestionUpvoted,
    "WithdrawUpvote": e.UpvoteWithdrawn, "CastBallot": e.BallotCast,
    "ApproveQuestion": e.QuestionApproved, "EditQuestion": e.QuestionEdited,
    "ReplyToQuestion": e.QuestionReplied,
    "DismissQuestion": e.QuestionDismissed, "StarQuestion": e.QuestionStarred,
    "PutOnStage": e.QuestionPutOnStage, "ClearStage": e.StageCleared,
    "MarkAnswered": e.QuestionAnswered, "ArchiveQuestion": e.QuestionArchived,
    "RestoreQuestion": e.QuestionRestored, "SetPremoderation": e.PremoderationSet,
    "CreatePoll": e.PollCreated, "OpenPoll": e.PollOpened, "ClosePoll": e.PollClosed,
    "RevealResults": e.ResultsRevealed, "PutPollOnStage": e.PollPutOnStage,
    "HideResults": e.ResultsHidden, "BanParticipant": e.ParticipantBanned,
    "UnbanParticipant": e.ParticipantUnbanned, "PostCaption": e.CaptionPosted,
    "SetStageCaptions": e.StageCaptionsSet, "SendBoothMessage": e.BoothMessageSent,
    "JoinAsGuest": e.GuestJoined, "SetGuestOnAir": e.GuestOnAirSet,
    "SetReplayPublished": e.ReplayPublishedSet, "SendStageMessage": e.StageMessageSent,
    "AcknowledgeStageMessage": e.StageMessageAcknowledged, "SetStageTimer": e.StageTimerSet,
    "MergeQuestions": e.QuestionMerged, "UnmergeQuestion": e.QuestionUnmerged,
    "EditPoll": e.PollEdited, "DeletePoll": e.PollDeleted, "DuplicatePoll": e.PollCreated,
    "ResetPoll": e.PollReset, "ScreenAnswer": e.AnswerScreened,
}


# What must hold first for a sample to have an effect in `populated()` (P2 is the participant).
BEFORE: dict[str, Callable[[dict[str, str]], list[tuple[c.Command, Actor]]]] = {
    "WithdrawUpvote": lambda ids: [(c.UpvoteQuestion(ids["approved"]), P2)],
    "PutPollOnStage": lambda ids: [(c.ClearStage("all"), MOD)],
    "HideResults": lambda ids: [(c.RevealResults(ids["poll"]), MOD)],
    "ResetPoll": lambda ids: [(c.CastBallot(ids["poll"], [0]), P2), (c.ClosePoll(ids["poll"]), MOD)],
    "UnbanParticipant": lambda ids: [(c.BanParticipant(ids["approved"]), MOD)],
    "UnmergeQuestion": lambda ids: [(c.MergeQuestions(ids["pending"], ids["approved"]), MOD)],
}


def ready(name: str) -> tuple[Harness, dict[str, str]]:
    h, ids = populated()
    for command, actor in BEFORE.get(name, lambda ids: [])(ids):
        h.send(command, actor)
    return h, ids


def assert_takes_effect(name: str, events: list[e.Event]) -> None:
    assert any(isinstance(event, EFFECT[name]) for event in events), (name, events)


def test_samples_cover_every_command() -> None:
    assert set(EFFECT) == set(c.COMMANDS)
    assert set(SAMPLES) == set(c.COMMANDS)
    for name, make in SAMPLES.items():
        assert type(make(populated()[1])) is c.COMMANDS[name]


def test_capability_table() -> None:
    assert P1.capabilities == {Capability.ASK, Capability.UPVOTE, Capability.VOTE}
    moderation = {Capability.MODERATE, Capability.MANAGE_POLLS, Capability.BAN}
    assert MOD.capabilities == moderation
    assert ADMIN.capabilities == moderation | {Capability.DIRECT}
    assert STAGE.capabilities == {Capability.ACKNOWLEDGE}
    assert STUDIO.capabilities == {Capability.DIRECT}
    assert GUEST.capabilities == {Capability.GUEST, Capability.ACKNOWLEDGE}
    assert CAPTIONER.capabilities == {Capability.CAPTION}
    assert P1.label == "p1" and MOD.label == "moderator"


@pytest.mark.parametrize("name", sorted(PARTICIPANT_COMMANDS))
def test_participant_commands_are_accepted_from_participants(name: str) -> None:
    h, ids = ready(name)
    assert_takes_effect(name, h.send(SAMPLES[name](ids), P2))  # raises if refused


@pytest.mark.parametrize("name", sorted(MODERATOR_COMMANDS))
@pytest.mark.parametrize("actor", [MOD, ADMIN], ids=["moderator", "admin"])
def test_moderator_commands_are_accepted_from_moderators(name: str, actor: Actor) -> None:
    h, ids = ready(name)
    assert_takes_effect(name, h.send(SAMPLES[name](ids), actor))  # raises if refused


@pytest.mark.parametrize("name", sorted(CAPTIONER_COMMANDS))
def test_captioner_commands_are_accepted_from_the_captioner(name: str) -> None:
    h, ids = ready(name)
    assert_takes_effect(name, h.send(SAMPLES[name](ids), CAPTIONER))  # raises if refused


@pytest.mark.parametrize("name", sorted(CAPTIONER_COMMANDS))
@pytest.mark.parametrize("actor", [P1, STAGE, STUDIO, MOD, ADMIN],
                         ids=["participant", "stage", "studio", "moderator", "admin"])
def test_captioner_commands_are_forbidden_to_others(name: str, actor: Actor) -> None:
    h, ids = populated()
    assert h.refused(SAMPLES[name](ids), actor) == "forbidden"


@pytest.mark.parametrize("name", sorted(GUEST_COMMANDS))
def test_guest_commands_are_accepted_from_guests(name: str) -> None:
    h, ids = ready(name)
    assert_takes_effect(name, h.send(SAMPLES[name](ids), GUEST2))  # raises if refused


@pytest.mark.parametrize("name", sorted(GUEST_COMMANDS))
@pytest.mark.parametrize("actor", [P1, STAGE, STUDIO, MOD, ADMIN, CAPTIONER],
                         ids=["participant", "stage", "studio", "moderator", "admin", "captioner"])
def test_guest_commands_are_forbidden_to_others(name: str, actor: Actor) -> None:
    h, ids = populated()
    assert h.refused(SAMPLES[name](ids), actor) == "forbidden"


@pytest.mark.parametrize("name", sorted(SPEAKER_COMMANDS))
@pytest.mark.parametrize("actor", [STAGE, GUEST], ids=["stage", "guest"])
def test_speaker_commands_are_accepted_from_the_stage(name: str, actor: Actor) -> None:
    h, ids = ready(name)
    assert_takes_effect(name, h.send(SAMPLES[name](ids), actor))  # raises if refused


@pytest.mark.parametrize("name", sorted(SPEAKER_COMMANDS))
@pytest.mark.parametrize("actor", [P1, MOD, ADMIN, STUDIO, CAPTIONER],
                         ids=["participant", "moderator", "admin", "studio", "captioner"])
def test_speaker_commands_are_forbidden_to_others(name: str, actor: Actor) -> None:
    h, ids = populated()
    assert h.refused(SAMPLES[name](ids), actor) == "forbidden"


@pytest.mark.parametrize("name", sorted(DIRECT_COMMANDS))
@pytest.mark.parametrize("actor", [STUDIO, ADMIN], ids=["studio", "admin"])
def test_direct_commands_are_accepted_from_the_studio(name: str, actor: Actor) -> None:
    h, ids = ready(name)
    assert_takes_effect(name, h.send(SAMPLES[name](ids), actor))  # raises if refused


@pytest.mark.parametrize("name", sorted(DIRECT_COMMANDS))
@pytest.mark.parametrize("actor", [P1, STAGE, MOD, CAPTIONER, GUEST],
                         ids=["participant", "stage", "moderator", "captioner", "guest"])
def test_direct_commands_are_forbidden_to_others(name: str, actor: Actor) -> None:
    h, ids = populated()
    assert h.refused(SAMPLES[name](ids), actor) == "forbidden"


@pytest.mark.parametrize("name", sorted(MODERATOR_COMMANDS))
@pytest.mark.parametrize("actor", [P1, STAGE, STUDIO, CAPTIONER, GUEST],
                         ids=["participant", "stage", "studio", "captioner", "guest"])
def test_moderator_commands_are_forbidden_to_others(name: str, actor: Actor) -> None:
    h, ids = populated()
    assert h.refused(SAMPLES[name](ids), actor) == "forbidden"


@pytest.mark.parametrize("name", sorted(PARTICIPANT_COMMANDS))
@pytest.mark.parametrize("actor", [STAGE, STUDIO, MOD, ADMIN, CAPTIONER, GUEST],
                         ids=["stage", "studio", "moderator", "admin", "captioner", "guest"])
def test_participant_commands_are_forbidden_to_others(name: str, actor: Actor) -> None:
    h, ids = populated()
    assert h.refused(SAMPLES[name](ids), actor) == "forbidden"


@pytest.mark.parametrize("name", sorted(set(c.COMMANDS) - ANY_SESSION_COMMANDS))
def test_non_interactive_session_refuses_everything_but_captions(name: str) -> None:
    h = Harness(interactive=False)
    actor = P1 if name in PARTICIPANT_COMMANDS else MOD
    ids = {"pending": "q_1", "approved": "q_2", "dismissed": "q_3", "poll": "p_1", "draft": "p_2",
           "words": "p_3"}
    assert h.refused(SAMPLES[name](ids), actor) == "not_interactive"
    assert h.room.snapshot() == Room.new("s1", interactive=False).snapshot()


@pytest.mark.parametrize("name", sorted(CAPTION_COMMANDS))
def test_non_interactive_session_takes_captions(name: str) -> None:
    h = Harness(interactive=False)
    actor = CAPTIONER if name in CAPTIONER_COMMANDS else MOD
    assert_takes_effect(name, h.send(SAMPLES[name]({}), actor))


# -- bans -----------------------------------------------------------------------------------------


def test_ban_dismisses_pending_questions_and_keeps_approved_ones() -> None:
    h, ids = populated()
    other = h.ask(P2, "Celle de p2 ?")
    h.send(c.PutOnStage(ids["approved"]), MOD)
    events = h.send(c.BanParticipant(ids["approved"]), MOD)
    assert events == [
        e.ParticipantBanned("p1", ids["approved"], "Marie Dupont", (ids["pending"],))]
    assert h.room.state.banned == {"p1": Ban(ids["approved"], "Marie Dupont")}
    assert h.status(ids["pending"]) == DISMISSED
    assert h.status(ids["approved"]) == APPROVED
    assert h.room.state.stage_question_id == ids["approved"]
    assert h.status(other) == PENDING  # only the banned participant's questions


def test_ban_through_a_pending_question_dismisses_it_too() -> None:
    h, ids = populated()
    events = h.send(c.BanParticipant(ids["pending"]), MOD)
    assert events == [
        e.ParticipantBanned("p1", ids["pending"], "Marie Dupont", (ids["pending"],))]
    assert h.status(ids["pending"]) == DISMISSED
    assert h.status(ids["approved"]) == APPROVED


def test_ban_through_a_dismissed_question() -> None:
    h, ids = populated()
    events = h.send(c.BanParticipant(ids["dismissed"]), MOD)
    assert events == [e.ParticipantBanned("p2", ids["dismissed"], None, ())]
    assert h.room.state.banned == {"p2": Ban(ids["dismissed"], None)}


def test_banning_an_already_banned_author_is_a_no_op() -> None:
    h, ids = populated()
    h.send(c.BanParticipant(ids["approved"]), MOD)
    assert h.send(c.BanParticipant(ids["approved"]), MOD) == []
    # through another of the author's questions: the first ban stands unchanged
    assert h.send(c.BanParticipant(ids["pending"]), MOD) == []
    assert h.room.state.banned == {"p1": Ban(ids["approved"], "Marie Dupont")}


def test_ban_through_an_anonymous_question_records_no_name() -> None:
    h = Harness()
    named = h.ask(P2, "Signée ?", name="Paul Martin", organisation="Ville de Lyon")
    secret = h.ask(P2, "Anonyme ?", name="Secret", anonymous=True)
    h.send(c.ApproveQuestion(named), MOD)
    events = h.send(c.BanParticipant(secret), MOD)
    # the author's named question must not lend its name to the ban made through the anonymous one
    assert events == [e.ParticipantBanned("p2", secret, None, (secret,))]
    assert h.room.state.banned == {"p2": Ban(secret, None)}
    assert h.room.snapshot()["banned"] == {"p2": {"ban_id": secret, "name": None}}
    assert h.status(secret) == DISMISSED and h.status(named) == APPROVED
    # banning again through the named question does not attach the name afterwards either
    assert h.send(c.BanParticipant(named), MOD) == []
    assert h.room.state.banned == {"p2": Ban(secret, None)}


def test_ban_through_a_named_question_keeps_its_name_only() -> None:
    h = Harness()
    secret = h.ask(P2, "Anonyme ?", anonymous=True)
    named = h.ask(P2, "Signée ?", name="Paul Martin")
    events = h.send(c.BanParticipant(named), MOD)
    # the anonymous question is not dismissed with the named one: moderators are sent what a ban
    # dismisses, and that would tell them who wrote it
    assert events == [e.ParticipantBanned("p2", named, "Paul Martin", (named,))]
    assert h.room.state.banned == {"p2": Ban(named, "Paul Martin")}
    assert h.status(secret) == PENDING and h.status(named) == DISMISSED


def test_ban_uses_the_banning_question_name_not_another_one() -> None:
    h = Harness()
    first = h.ask(P1, "Première ?", name="Marie")
    second = h.ask(P1, "Seconde ?", name="Marie Dupont")
    events = h.send(c.BanParticipant(second), MOD)
    assert events == [e.ParticipantBanned("p1", second, "Marie Dupont", (second,))]
    assert h.status(first) == PENDING


def test_ban_dismisses_only_the_questions_that_show_the_same_face() -> None:
    h = Harness()
    same = h.ask(P1, "Une ?", name="Marie Dupont", organisation="Ville de Lyon")
    again = h.ask(P1, "Deux ?", name="Marie Dupont", organisation="Ville de Lyon")
    other_org = h.ask(P1, "Trois ?", name="Marie Dupont", organisation="Métropole")
    secret = h.ask(P1, "Quatre ?", name="Marie Dupont", anonymous=True)
    bystander = h.ask(P2, "Cinq ?", name="Marie Dupont", organisation="Ville de Lyon")
    [event] = h.send(c.BanParticipant(again), MOD)
    assert isinstance(event, e.ParticipantBanned) and event.dismissed == (same, again)
    assert [h.status(q) for q in (other_org, secret, bystander)] == [PENDING] * 3


def test_ban_through_an_anonymous_question_dismisses_no_other_anonymous_one() -> None:
    h = Harness()
    first = h.ask(P1, "Anonyme 1 ?", anonymous=True)
    second = h.ask(P1, "Anonyme 2 ?")  # no name: anonymous too
    named = h.ask(P1, "Signée ?", name="Marie Dupont")
    assert h.send(c.BanParticipant(second), MOD) == [
        e.ParticipantBanned("p1", second, None, (second,))]
    assert h.status(first) == PENDING and h.status(named) == PENDING


@pytest.mark.parametrize("name", sorted(PARTICIPANT_COMMANDS))
def test_banned_participant_is_refused(name: str) -> None:
    h, ids = populated()
    h.send(c.BanParticipant(ids["pending"]), MOD)
    assert h.refused(SAMPLES[name](ids), P1) == "banned"
    h.send(SAMPLES[name](ids), P2)  # others are not affected


def test_unban_by_ban_id_restores_the_ability_to_participate() -> None:
    h, ids = populated()
    h.send(c.BanParticipant(ids["approved"]), MOD)
    assert h.refused(c.AskQuestion("Encore moi ?"), P1) == "banned"
    # only the id the ban was made through lifts it: not another question of the author's,
    # nor the participant id
    assert h.send(c.UnbanParticipant(ids["pending"]), MOD) == []
    assert h.send(c.UnbanParticipant("p1"), MOD) == []
    assert "p1" in h.room.state.banned
    assert h.send(c.UnbanParticipant(ids["approved"]), MOD) == [e.ParticipantUnbanned("p1")]
    assert h.room.state.banned == {}
    assert h.send(c.UnbanParticipant(ids["approved"]), MOD) == []
    assert h.status(h.ask(P1, "Encore moi ?")) == PENDING
    assert len(h.send(c.CastBallot(ids["poll"], [1]), P1)) == 1
    assert h.status(ids["pending"]) == DISMISSED  # unbanning does not bring questions back


def test_unban_lifts_only_that_ban() -> None:
    h, ids = populated()
    h.send(c.BanParticipant(ids["approved"]), MOD)
    h.send(c.BanParticipant(ids["dismissed"]), MOD)
    assert h.send(c.UnbanParticipant(ids["dismissed"]), MOD) == [e.ParticipantUnbanned("p2")]
    assert h.room.state.banned == {"p1": Ban(ids["approved"], "Marie Dupont")}


def test_a_new_ban_after_an_unban_has_a_new_ban_id() -> None:
    h, ids = populated()
    h.send(c.BanParticipant(ids["approved"]), MOD)
    h.send(c.UnbanParticipant(ids["approved"]), MOD)
    events = h.send(c.BanParticipant(ids["pending"]), MOD)
    assert events == [e.ParticipantBanned("p1", ids["pending"], "Marie Dupont", ())]
    assert h.send(c.UnbanParticipant(ids["approved"]), MOD) == []
    assert h.send(c.UnbanParticipant(ids["pending"]), MOD) == [e.ParticipantUnbanned("p1")]


@pytest.mark.parametrize("target", ["q_404", "p1", "p3", "", "poll"])
def test_ban_through_an_unknown_question_is_not_found(target: str) -> None:
    h, ids = populated()
    # a participant id (even one who voted) or a poll id names no question
    assert h.refused(c.BanParticipant(ids.get(target, target)), MOD) == "not_found"


@pytest.mark.parametrize("ban_id", ["q_404", "p1", "", "approved"])
def test_unban_of_an_unknown_ban_id_is_a_no_op(ban_id: str) -> None:
    h, ids = populated()
    h.send(c.BanParticipant(ids["dismissed"]), MOD)
    assert h.send(c.UnbanParticipant(ids.get(ban_id, ban_id)), MOD) == []
    assert h.room.state.banned == {"p2": Ban(ids["dismissed"], None)}


# -- handle never mutates -------------------------------------------------------------------------


def test_handle_never_mutates_along_a_scenario() -> None:
    h, ids = populated()
    scenario: list[tuple[c.Command, Actor]] = [
        (c.AskQuestion("Première ?", client_key="a"), P2),
        (c.AskQuestion("Première ?", client_key="a"), P2),
        (c.AskQuestion(""), P2),
        (c.UpvoteQuestion(ids["approved"]), P2),
        (c.UpvoteQuestion(ids["approved"]), P2),
        (c.UpvoteQuestion(ids["pending"]), P2),
        (c.WithdrawUpvote(ids["approved"]), P2),
        (c.CastBallot(ids["poll"], [1]), P2),
        (c.CastBallot(ids["poll"], [0, 1]), P2),
        (c.CastBallot(ids["draft"], [0]), P2),
        (c.ApproveQuestion(ids["pending"], "Modifiée ?"), MOD),
        (c.EditQuestion(ids["pending"], ""), MOD),
        (c.StarQuestion(ids["pending"]), MOD),
        (c.PutOnStage(ids["pending"]), MOD),
        (c.PutOnStage(ids["dismissed"]), MOD),
        (c.MarkAnswered(ids["pending"]), MOD),
        (c.RestoreQuestion(ids["pending"]), MOD),
        (c.ArchiveQuestion(ids["approved"]), MOD),
        (c.SetPremoderation(False), MOD),
        (c.CreatePoll("Nouveau ?", ["Un", "Deux"], True), MOD),
        (c.CreatePoll("Nouveau ?", ["Un", "Un"]), MOD),
        (c.CreatePoll("Clé ?", ["Un", "Deux"], client_key="c1"), MOD),
        (c.CreatePoll("Clé ?", ["Un", "Deux"], client_key="c1"), MOD),
        (c.CreatePoll("Clé ?", ["Un", "Deux"], client_key="c" * 65), MOD),
        (c.OpenPoll(ids["draft"]), MOD),
        (c.CastBallot(ids["draft"], [0]), P1),
        (c.RevealResults(ids["poll"]), MOD),
        (c.HideResults(ids["poll"]), MOD),
        (c.ClosePoll(ids["poll"]), MOD),
        (c.ClosePoll(ids["poll"]), MOD),
        (c.ClearStage("poll"), MOD),
        (c.ClearStage("nowhere"), MOD),
        (c.BanParticipant(ids["dismissed"]), MOD),
        (c.BanParticipant(ids["dismissed"]), MOD),
        (c.AskQuestion("Banni ?"), P2),
        (c.BanParticipant("q_404"), MOD),
        (c.UnbanParticipant("q_404"), MOD),
        (c.UnbanParticipant(ids["dismissed"]), MOD),
        (c.DismissQuestion("q_404"), MOD),
        (c.ClearStage(), STAGE),
    ]
    outcomes = []
    for command, actor in scenario:
        try:
            outcomes.append(len(h.send(command, actor)))  # `send` checks the state is unchanged
        except DomainError as error:
            outcomes.append(error.code)
    # the scenario exercises accepted, no-op and refused commands alike
    assert 0 in outcomes and 1 in outcomes and 2 in outcomes
    assert {"invalid", "not_found", "conflict", "banned", "forbidden"} <= set(outcomes)
