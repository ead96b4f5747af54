"""A session's room: `handle` decides (commands in, events out), `apply` changes state.

`handle` never mutates: it validates the command against the state and the actor's capabilities and
returns the events; `apply` is the only mutation. The service appends the events to the store first,
then applies them, so every process that replays the same events reaches the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from live.domain import booth, captions, polls, production, questions, stage
from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor, Capability
from live.domain.errors import DomainError
from live.domain.state import (
    CLOSED,
    DISMISSED,
    LOG_KEPT,
    OPEN,
    PENDING,
    Ban,
    LogEntry,
    Poll,
    Question,
    RoomState,
)

NewId = Callable[[str], str]
# What the moderation log keeps: every act of the moderators' capabilities that changed something.
_LOGGED = frozenset({Capability.MODERATE, Capability.MANAGE_POLLS, Capability.BAN})
LOG_DETAIL_CHARS = 300
_QUESTION_EVENTS = (
    e.QuestionAsked, e.QuestionApproved, e.QuestionRestored, e.QuestionEdited,
    e.QuestionDismissed, e.QuestionReplied, e.QuestionStarred, e.QuestionPutOnStage,
    e.QuestionAnswered, e.QuestionArchived, e.QuestionUpvoted, e.UpvoteWithdrawn,
    e.QuestionMerged, e.QuestionUnmerged,
)
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
        events = handler(self, command, actor, now, new_id)
        if events and capability in _LOGGED:
            events.append(self._logged(command, actor, now, events))
        return events

    def _logged(self, command: c.Command, actor: Actor, now: int, events: list[e.Event]
                ) -> e.ModerationLogged:
        """The log entry of a moderation act, with the text it concerned as it was before it."""
        target: str | None = None
        detail: str | None = None
        question = self.state.questions.get(getattr(command, "question_id", None) or "")
        poll = self.state.polls.get(getattr(command, "poll_id", None) or "")
        if question is not None:
            target, detail = question.id, question.text
            into = self.state.questions.get(getattr(command, "into_id", None) or "")
            if into is not None:
                detail = f"{question.text} → {into.id}: {into.text}"
        elif poll is not None:
            target, detail = poll.id, poll.question
            if isinstance(command, c.ScreenAnswer):  # which answer, as the reports will ask
                detail = f"{poll.question} → {command.text}"
        elif isinstance(command, c.UnbanParticipant):
            target = command.ban_id
        else:  # a poll being created has its id only in its event
            created = next((ev for ev in events if isinstance(ev, e.PollCreated)), None)
            if created is not None:
                target, detail = created.poll_id, created.question
        if isinstance(command, c.DuplicatePoll):  # the log names the copy, made from the original
            created = next((ev for ev in events if isinstance(ev, e.PollCreated)), None)
            if created is not None:
                target = created.poll_id
        return e.ModerationLogged(now, actor.role.value, type(command).__name__, target,
                                  detail[:LOG_DETAIL_CHARS] if detail else None)

    def _clear_stage(self, cmd: c.ClearStage, actor: Actor, now: int, new_id: NewId
                     ) -> list[e.Event]:
        if cmd.target not in ("question", "poll", "all"):
            raise DomainError("invalid", "target must be question, poll or all")
        question = cmd.target != "poll" and self.state.stage_question_id is not None
        poll = cmd.target != "question" and self.state.stage_poll_id is not None
        return [e.StageCleared(question, poll)] if question or poll else []

    def _premoderation(self, cmd: c.SetPremoderation, actor: Actor, now: int, new_id: NewId
                       ) -> list[e.Event]:
        enabled = bool(cmd.enabled)
        return [] if self.state.premoderation == enabled else [e.PremoderationSet(enabled)]

    def _ban(self, cmd: c.BanParticipant, actor: Actor, now: int, new_id: NewId) -> list[e.Event]:
        question = questions.question_of(self.state, cmd.question_id)
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
            case _ if isinstance(event, _QUESTION_EVENTS):
                questions.apply(s, event)
            case e.StageCleared():
                if event.question:
                    s.stage_question_id = None
                if event.poll:
                    s.stage_poll_id = None
            case e.PremoderationSet():
                s.premoderation = event.enabled
            case e.PollCreated():
                s.polls[event.poll_id] = Poll(
                    event.poll_id, event.question, tuple(event.options), event.multiple,
                    event.created_at, client_key=event.client_key, kind=event.kind)
                if event.client_key is not None:
                    s.client_keys[("", event.client_key)] = event.poll_id
            case e.PollEdited():
                poll = s.polls[event.poll_id]
                poll.question, poll.options = event.question, tuple(event.options)
                poll.multiple, poll.kind = event.multiple, event.kind
            case e.PollDeleted():
                # Its key goes too: a snapshot rebuilds the keys from the polls it holds.
                deleted = s.polls.pop(event.poll_id)
                if deleted.client_key is not None:
                    s.client_keys.pop(("", deleted.client_key), None)
            case e.PollReset():
                poll = s.polls[event.poll_id]
                poll.ballots.clear()
                poll.answers.clear()
                poll.screened.clear()
            case e.AnswerScreened():
                s.polls[event.poll_id].screened[event.text] = event.shown
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
                poll = s.polls[event.poll_id]
                if event.answers:
                    poll.answers[event.participant_id] = tuple(event.answers)
                else:
                    poll.ballots[event.participant_id] = tuple(event.choices)
            case e.ParticipantBanned():
                s.banned[event.participant_id] = Ban(event.ban_id, event.name)
                for question_id in event.dismissed:
                    questions.leave(s, question_id, DISMISSED)
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
            case e.ModerationLogged():
                s.log.append(LogEntry(event.at, event.by, event.action, event.target, event.detail))
                del s.log[:-LOG_KEPT]

_Handler = Callable[[Room, Any, Actor, int, NewId], list[e.Event]]


def _on_state(decide: Callable[[RoomState, Any], list[e.Event]]) -> _Handler:
    """A handler for a decision that reads only the state and the command."""
    return lambda room, cmd, actor, now, new_id: decide(room.state, cmd)


_HANDLERS: dict[type[Any], tuple[Capability, _Handler]] = {
    c.AskQuestion: (Capability.ASK, lambda room, cmd, actor, now, new_id: questions.ask(
        room.state, cmd, actor, now, new_id)),
    c.UpvoteQuestion: (Capability.UPVOTE,
                       lambda room, cmd, actor, now, new_id: questions.upvote(room.state, cmd, actor)),
    c.WithdrawUpvote: (Capability.UPVOTE, lambda room, cmd, actor, now, new_id: questions.withdraw(
        room.state, cmd, actor)),
    c.CastBallot: (Capability.VOTE, polls.cast_ballot),
    c.ApproveQuestion: (Capability.MODERATE, _on_state(questions.approve)),
    c.EditQuestion: (Capability.MODERATE, _on_state(questions.edit)),
    c.DismissQuestion: (Capability.MODERATE, _on_state(questions.dismiss)),
    c.ReplyToQuestion: (Capability.MODERATE,
                        lambda room, cmd, actor, now, new_id: questions.reply(room.state, cmd, now)),
    c.StarQuestion: (Capability.MODERATE, _on_state(questions.star)),
    c.PutOnStage: (Capability.MODERATE, _on_state(questions.put_on_stage)),
    c.ClearStage: (Capability.MODERATE, Room._clear_stage),
    c.MarkAnswered: (Capability.MODERATE,
                     lambda room, cmd, actor, now, new_id: questions.answer(room.state, cmd, now)),
    c.ArchiveQuestion: (Capability.MODERATE, _on_state(questions.archive)),
    c.RestoreQuestion: (Capability.MODERATE, _on_state(questions.restore)),
    c.MergeQuestions: (Capability.MODERATE, _on_state(questions.merge)),
    c.UnmergeQuestion: (Capability.MODERATE, _on_state(questions.unmerge)),
    c.SetPremoderation: (Capability.MODERATE, Room._premoderation),
    c.CreatePoll: (Capability.MANAGE_POLLS, polls.create_poll),
    c.EditPoll: (Capability.MANAGE_POLLS, polls.edit_poll),
    c.DeletePoll: (Capability.MANAGE_POLLS, polls.delete_poll),
    c.DuplicatePoll: (Capability.MANAGE_POLLS, polls.duplicate_poll),
    c.ResetPoll: (Capability.MANAGE_POLLS, polls.reset_poll),
    c.ScreenAnswer: (Capability.MANAGE_POLLS, polls.screen_answer),
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
