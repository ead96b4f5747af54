"""A session's room: `handle` decides (commands in, events out), `apply` changes state.

`handle` never mutates: it validates the command against the state and the actor's capabilities and
returns the events; `apply` is the only mutation. The service appends the events to the store first,
then applies them, so every process that replays the same events reaches the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from live.domain import booth, captions, polls, production, stage
from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor, Capability
from live.domain.errors import DomainError
from live.domain.state import (
    ANSWERED,
    APPROVED,
    ARCHIVED,
    CLIENT_KEY_CHARS,
    CLOSED,
    DISMISSED,
    MAX_PENDING,
    NAME_CHARS,
    OPEN,
    ORGANISATION_CHARS,
    PENDING,
    QUESTION_CHARS,
    REPLY_CHARS,
    Ban,
    Poll,
    Question,
    RoomState,
)
from live.domain.text import clean_text

NewId = Callable[[str], str]
# Captions belong to the session's video and stage, not to its questions and polls: a session
# without questions and polls may still be captioned, and interpreted (the booth chat).
# So do its guests, its replay, and what the moderators tell the speaker.
_ANY_SESSION = (c.PostCaption, c.SetStageCaptions, c.SendBoothMessage, c.JoinAsGuest,
                c.SetGuestOnAir, c.SetReplayPublished, c.SendStageMessage,
                c.AcknowledgeStageMessage, c.SetStageTimer)


class Room:
    def __init__(self, state: RoomState, *, languages: tuple[str, ...] = ("fr",)) -> None:
        self.state = state
        # The session's languages, the floor first (from the programme, not the snapshot: the
        # organiser may change them between two runs); captions are written in them.
        self.languages = languages

    @classmethod
    def new(cls, session_id: str, *, interactive: bool = True, premoderation: bool = True,
            languages: tuple[str, ...] = ("fr",)) -> Room:
        return cls(RoomState(session_id, interactive=interactive, premoderation=premoderation),
                   languages=languages)

    @classmethod
    def from_snapshot(cls, data: dict[str, Any], *, languages: tuple[str, ...] = ("fr",)) -> Room:
        return cls(RoomState.from_dict(data), languages=languages)

    def snapshot(self) -> dict[str, Any]:
        return self.state.to_dict()

    # -- deciding ---------------------------------------------------------------------------------

    def handle(self, command: c.Command, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        """Check the command and return the events it produces (possibly none); never mutates."""
        capability, handler = _HANDLERS[type(command)]
        if capability not in actor.capabilities:
            raise DomainError("forbidden", f"your role may not {type(command).__name__}")
        if not self.state.interactive and not isinstance(command, _ANY_SESSION):
            raise DomainError("not_interactive", "this session has no questions or polls")
        if actor.participant_id is not None and actor.participant_id in self.state.banned:
            raise DomainError("banned", "you have been banned from this session")
        return handler(self, command, actor, now, new_id)

    def _question(self, question_id: str) -> Question:
        question = self.state.questions.get(question_id)
        if question is None:
            raise DomainError("not_found", "no such question")
        return question

    def _ask(self, cmd: c.AskQuestion, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        author = actor.participant_id
        assert author is not None, "participants always have an id"
        key = clean_text(cmd.client_key, CLIENT_KEY_CHARS, "client_key", required=False)
        if key is not None and (author, key) in self.state.client_keys:
            return []  # the same question re-sent after a reconnect: already accepted
        text = clean_text(cmd.text, QUESTION_CHARS, "question")
        assert text is not None
        if self.state.premoderation and sum(
                q.status == PENDING for q in self.state.questions.values()) >= MAX_PENDING:
            raise DomainError("rate_limited", "the moderators' queue is full: try again later")
        name = None if cmd.anonymous else clean_text(cmd.name, NAME_CHARS, "name", required=False)
        organisation = None if cmd.anonymous else clean_text(
            cmd.organisation, ORGANISATION_CHARS, "organisation", required=False)
        if name is None:  # no name given: anonymous, and an organisation alone is not kept either
            organisation = None
        status = PENDING if self.state.premoderation else APPROVED
        return [e.QuestionAsked(new_id("q"), author, name, organisation, name is None, text, status,
                                now, key)]

    def _upvote(self, cmd: c.UpvoteQuestion, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        question = self._question(cmd.question_id)
        voter = actor.participant_id
        assert voter is not None
        if not question.public:
            # Only questions everyone sees take votes; a question leaving the list keeps its count.
            raise DomainError("conflict", "only approved questions take votes")
        if voter == question.author_id:
            raise DomainError("forbidden", "you cannot upvote your own question")
        if voter in question.voters:
            return []  # one vote each: a repeat is a no-op, not an error (idempotent on retry)
        return [e.QuestionUpvoted(question.id, voter)]

    def _withdraw(self, cmd: c.WithdrawUpvote, actor: Actor, now: int, new_id: NewId
                  ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        voter = actor.participant_id
        assert voter is not None
        if voter not in question.voters:
            return []
        if not question.public:
            raise DomainError("conflict", "the question is closed: its votes are final")
        return [e.UpvoteWithdrawn(question.id, voter)]

    def _approve(self, cmd: c.ApproveQuestion, actor: Actor, now: int, new_id: NewId
                 ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        out: list[e.Event] = []
        if cmd.text is not None:
            out += self._edit(c.EditQuestion(question.id, cmd.text), actor, now, new_id)
        if question.status != APPROVED:
            out.append(e.QuestionApproved(question.id, question.status))
        return out

    def _edit(self, cmd: c.EditQuestion, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        question = self._question(cmd.question_id)
        text = clean_text(cmd.text, QUESTION_CHARS, "question")
        assert text is not None
        return [] if text == question.text else [e.QuestionEdited(question.id, text)]

    def _reply(self, cmd: c.ReplyToQuestion, actor: Actor, now: int, new_id: NewId
               ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        if not question.public:
            raise DomainError("conflict", "approve the question before replying to it")
        reply = clean_text(cmd.text, REPLY_CHARS, "reply", required=False)
        return [] if reply == question.reply else [e.QuestionReplied(question.id, reply, now)]

    def _dismiss(self, cmd: c.DismissQuestion, actor: Actor, now: int, new_id: NewId
                 ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        if question.status == DISMISSED:
            return []
        return [e.QuestionDismissed(question.id, question.status)]

    def _star(self, cmd: c.StarQuestion, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        question = self._question(cmd.question_id)
        starred = bool(cmd.starred)
        return [] if question.starred == starred else [e.QuestionStarred(question.id, starred)]

    def _put_on_stage(self, cmd: c.PutOnStage, actor: Actor, now: int, new_id: NewId
                      ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        if question.status not in (PENDING, APPROVED):
            raise DomainError("conflict", f"a question {question.status} cannot go on stage")
        if self.state.stage_question_id == question.id:
            return []
        return [e.QuestionPutOnStage(question.id, question.status)]

    def _clear_stage(self, cmd: c.ClearStage, actor: Actor, now: int, new_id: NewId
                     ) -> list[e.Event]:
        if cmd.target not in ("question", "poll", "all"):
            raise DomainError("invalid", "target must be question, poll or all")
        question = cmd.target != "poll" and self.state.stage_question_id is not None
        poll = cmd.target != "question" and self.state.stage_poll_id is not None
        return [e.StageCleared(question, poll)] if question or poll else []

    def _answer(self, cmd: c.MarkAnswered, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        question = self._question(cmd.question_id)
        if question.status == ANSWERED:
            return []
        return [e.QuestionAnswered(question.id, question.status, now)]

    def _archive(self, cmd: c.ArchiveQuestion, actor: Actor, now: int, new_id: NewId
                 ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        if question.status == ARCHIVED:
            return []
        return [e.QuestionArchived(question.id, question.status)]

    def _restore(self, cmd: c.RestoreQuestion, actor: Actor, now: int, new_id: NewId
                 ) -> list[e.Event]:
        question = self._question(cmd.question_id)
        if question.status not in (ARCHIVED, DISMISSED, ANSWERED):
            return []
        return [e.QuestionRestored(question.id, question.status)]

    def _premoderation(self, cmd: c.SetPremoderation, actor: Actor, now: int, new_id: NewId
                       ) -> list[e.Event]:
        enabled = bool(cmd.enabled)
        return [] if self.state.premoderation == enabled else [e.PremoderationSet(enabled)]

    def _ban(self, cmd: c.BanParticipant, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        question = self._question(cmd.question_id)
        pid = question.author_id
        if pid in self.state.banned:
            return []
        # Only the banning question's own name: another of the author's questions may be
        # anonymous, and the ban must not link the two.
        name = None if question.anonymous else question.author_name
        return [e.ParticipantBanned(pid, question.id, name, self._same_face(question))]

    def _same_face(self, through: Question) -> tuple[str, ...]:
        """The author's pending questions a ban made through `through` may dismiss: those that
        show what the moderator already sees on it (its name and organisation), never one of
        another face. Moderators are sent the dismissed questions, so dismissing an anonymous
        question with a named one would tell them who wrote it. Through an anonymous question,
        only that one: dismissing the author's other anonymous questions would tie them together.
        The others stay pending, for the moderators to judge on their own."""
        if through.anonymous:
            return (through.id,) if through.status == PENDING else ()
        return tuple(q.id for q in self.state.questions.values()
                     if q.author_id == through.author_id and q.status == PENDING
                     and not q.anonymous and q.author_name == through.author_name
                     and q.organisation == through.organisation)

    def _unban(self, cmd: c.UnbanParticipant, actor: Actor, now: int, new_id: NewId
               ) -> list[e.Event]:
        pid = next((p for p, ban in self.state.banned.items() if ban.ban_id == cmd.ban_id), None)
        return [e.ParticipantUnbanned(pid)] if pid is not None else []

    # -- changing ---------------------------------------------------------------------------------

    def apply(self, event: e.Event) -> None:
        """Apply one event; the only place where the state changes."""
        s = self.state
        match event:
            case e.QuestionAsked():
                question = Question(
                    event.question_id, event.text, event.author_id, event.author_name,
                    event.organisation, event.anonymous, event.status, event.asked_at,
                    event.client_key)
                s.questions[question.id] = question
                if event.client_key is not None:
                    s.client_keys[(event.author_id, event.client_key)] = question.id
            case e.QuestionApproved() | e.QuestionRestored():
                s.questions[event.question_id].status = APPROVED
            case e.QuestionEdited():
                question = s.questions[event.question_id]
                question.text, question.edited = event.text, True
            case e.QuestionDismissed():
                self._leave(event.question_id, DISMISSED)
            case e.QuestionReplied():
                question = s.questions[event.question_id]
                question.reply, question.replied_at = event.reply, event.replied_at
            case e.QuestionStarred():
                s.questions[event.question_id].starred = event.starred
            case e.QuestionPutOnStage():
                s.questions[event.question_id].status = APPROVED
                s.stage_question_id = event.question_id
            case e.StageCleared():
                if event.question:
                    s.stage_question_id = None
                if event.poll:
                    s.stage_poll_id = None
            case e.QuestionAnswered():
                self._leave(event.question_id, ANSWERED)
                s.questions[event.question_id].answered_at = event.answered_at
            case e.QuestionArchived():
                self._leave(event.question_id, ARCHIVED)
            case e.QuestionUpvoted():
                s.questions[event.question_id].voters.add(event.participant_id)
            case e.UpvoteWithdrawn():
                s.questions[event.question_id].voters.discard(event.participant_id)
            case e.PremoderationSet():
                s.premoderation = event.enabled
            case e.PollCreated():
                s.polls[event.poll_id] = Poll(
                    event.poll_id, event.question, tuple(event.options), event.multiple,
                    event.created_at, client_key=event.client_key)
                if event.client_key is not None:
                    s.client_keys[("", event.client_key)] = event.poll_id
            case e.PollOpened():
                poll = s.polls[event.poll_id]
                poll.status, poll.opened_at = OPEN, event.opened_at
                s.stage_poll_id = poll.id
            case e.PollClosed():
                s.polls[event.poll_id].status = CLOSED
            case e.PollPutOnStage():
                s.stage_poll_id = event.poll_id
            case e.ResultsRevealed():
                s.polls[event.poll_id].results_visible = True
                s.stage_poll_id = event.poll_id
            case e.ResultsHidden():
                s.polls[event.poll_id].results_visible = False
            case e.BallotCast():
                s.polls[event.poll_id].ballots[event.participant_id] = tuple(event.choices)
            case e.ParticipantBanned():
                s.banned[event.participant_id] = Ban(event.ban_id, event.name)
                for question_id in event.dismissed:
                    self._leave(question_id, DISMISSED)
            case e.ParticipantUnbanned():
                s.banned.pop(event.participant_id, None)
            case e.CaptionPosted() | e.StageCaptionsSet():
                captions.apply(s, event)
            case e.BoothMessageSent():
                booth.apply(s, event)
            case e.GuestJoined() | e.GuestOnAirSet() | e.ReplayPublishedSet():
                production.apply(s, event)
            case e.StageMessageSent() | e.StageMessageAcknowledged() | e.StageTimerSet():
                stage.apply(s, event)

    def _leave(self, question_id: str, status: str) -> None:
        """Move a question to a status that takes it off the stage."""
        self.state.questions[question_id].status = status
        if self.state.stage_question_id == question_id:
            self.state.stage_question_id = None


_Handler = Callable[[Room, Any, Actor, int, NewId], list[e.Event]]
_HANDLERS: dict[type[Any], tuple[Capability, _Handler]] = {
    c.AskQuestion: (Capability.ASK, Room._ask),
    c.UpvoteQuestion: (Capability.UPVOTE, Room._upvote),
    c.WithdrawUpvote: (Capability.UPVOTE, Room._withdraw),
    c.CastBallot: (Capability.VOTE, polls.cast_ballot),
    c.ApproveQuestion: (Capability.MODERATE, Room._approve),
    c.EditQuestion: (Capability.MODERATE, Room._edit),
    c.DismissQuestion: (Capability.MODERATE, Room._dismiss),
    c.ReplyToQuestion: (Capability.MODERATE, Room._reply),
    c.StarQuestion: (Capability.MODERATE, Room._star),
    c.PutOnStage: (Capability.MODERATE, Room._put_on_stage),
    c.ClearStage: (Capability.MODERATE, Room._clear_stage),
    c.MarkAnswered: (Capability.MODERATE, Room._answer),
    c.ArchiveQuestion: (Capability.MODERATE, Room._archive),
    c.RestoreQuestion: (Capability.MODERATE, Room._restore),
    c.SetPremoderation: (Capability.MODERATE, Room._premoderation),
    c.CreatePoll: (Capability.MANAGE_POLLS, polls.create_poll),
    c.OpenPoll: (Capability.MANAGE_POLLS, polls.open_poll),
    c.ClosePoll: (Capability.MANAGE_POLLS, polls.close_poll),
    c.PutPollOnStage: (Capability.MANAGE_POLLS, polls.poll_on_stage),
    c.RevealResults: (Capability.MANAGE_POLLS, polls.reveal),
    c.HideResults: (Capability.MANAGE_POLLS, polls.hide),
    c.BanParticipant: (Capability.BAN, Room._ban),
    c.UnbanParticipant: (Capability.BAN, Room._unban),
    c.PostCaption: (Capability.CAPTION,
                    lambda room, cmd, actor, now, new_id: captions.post(
                        room.state, room.languages, cmd, now)),
    c.SetStageCaptions: (Capability.MODERATE,
                         lambda room, cmd, actor, now, new_id: captions.set_stage(
                             room.state, room.languages, cmd)),
    c.SendBoothMessage: (Capability.BOOTH,
                         lambda room, cmd, actor, now, new_id: booth.send(
                             room.state, room.languages, cmd, actor, now, new_id)),
    c.JoinAsGuest: (Capability.GUEST,
                    lambda room, cmd, actor, now, new_id: production.join(room.state, actor)),
    c.SetGuestOnAir: (Capability.DIRECT,
                      lambda room, cmd, actor, now, new_id: production.set_on_air(room.state, cmd)),
    c.SetReplayPublished: (Capability.MODERATE,
                           lambda room, cmd, actor, now, new_id: production.set_replay(
                               room.state, cmd)),
    c.SendStageMessage: (Capability.MODERATE,
                         lambda room, cmd, actor, now, new_id: stage.send(
                             room.state, cmd, now, new_id)),
    c.AcknowledgeStageMessage: (Capability.ACKNOWLEDGE,
                                lambda room, cmd, actor, now, new_id: stage.acknowledge(
                                    room.state, cmd, now)),
    c.SetStageTimer: (Capability.MODERATE,
                      lambda room, cmd, actor, now, new_id: stage.set_timer(room.state, cmd, now)),
}
