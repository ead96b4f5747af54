"""Questions: asking, upvoting, screening, projecting, merging duplicates, and their log.

Each function decides one command against the room's state (`Room.handle` checks the actor's
capability and the session first) and returns the events; none mutates but `apply`, which
`Room.apply` calls for the question events.
"""

from __future__ import annotations

from collections.abc import Callable

from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor
from live.domain.errors import DomainError
from live.domain.state import (
    ANSWERED,
    APPROVED,
    ARCHIVED,
    CLIENT_KEY_CHARS,
    DISMISSED,
    MAX_PENDING,
    MERGED,
    NAME_CHARS,
    ORGANISATION_CHARS,
    ORIGINS,
    PENDING,
    QUESTION_CHARS,
    REMOTE,
    REPLY_CHARS,
    Question,
    RoomState,
)
from live.domain.text import clean_text

NewId = Callable[[str], str]


def question_of(state: RoomState, question_id: str) -> Question:
    question = state.questions.get(question_id)
    if question is None:
        raise DomainError("not_found", "no such question")
    return question


def ask(state: RoomState, cmd: c.AskQuestion, actor: Actor, now: int, new_id: NewId
        ) -> list[e.Event]:
    author = actor.participant_id
    assert author is not None, "participants always have an id"
    key = clean_text(cmd.client_key, CLIENT_KEY_CHARS, "client_key", required=False)
    if key is not None and (author, key) in state.client_keys:
        return []  # the same question re-sent after a reconnect: already accepted
    text = clean_text(cmd.text, QUESTION_CHARS, "question")
    assert text is not None
    origin = cmd.origin or REMOTE
    if origin not in ORIGINS:
        raise DomainError("invalid", f"origin must be one of {', '.join(ORIGINS)}")
    if state.premoderation and sum(
            q.status == PENDING for q in state.questions.values()) >= MAX_PENDING:
        raise DomainError("rate_limited", "the moderators' queue is full: try again later")
    name = None if cmd.anonymous else clean_text(cmd.name, NAME_CHARS, "name", required=False)
    organisation = None if cmd.anonymous else clean_text(
        cmd.organisation, ORGANISATION_CHARS, "organisation", required=False)
    if name is None:  # no name given: anonymous, and an organisation alone is not kept either
        organisation = None
    status = PENDING if state.premoderation else APPROVED
    return [e.QuestionAsked(new_id("q"), author, name, organisation, name is None, text, status,
                            now, key, origin)]


def upvote(state: RoomState, cmd: c.UpvoteQuestion, actor: Actor) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
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


def withdraw(state: RoomState, cmd: c.WithdrawUpvote, actor: Actor) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    voter = actor.participant_id
    assert voter is not None
    if voter not in question.voters:
        return []
    if not question.public:
        raise DomainError("conflict", "the question is closed: its votes are final")
    return [e.UpvoteWithdrawn(question.id, voter)]


def _not_merged(question: Question) -> None:
    if question.status == MERGED:
        raise DomainError("conflict", "this question was merged into another: undo the merge first")


def approve(state: RoomState, cmd: c.ApproveQuestion) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    _not_merged(question)
    out: list[e.Event] = []
    if cmd.text is not None:
        out += edit(state, c.EditQuestion(question.id, cmd.text))
    if question.status != APPROVED:
        out.append(e.QuestionApproved(question.id, question.status))
    return out


def edit(state: RoomState, cmd: c.EditQuestion) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    text = clean_text(cmd.text, QUESTION_CHARS, "question")
    assert text is not None
    return [] if text == question.text else [e.QuestionEdited(question.id, text)]


def reply(state: RoomState, cmd: c.ReplyToQuestion, now: int) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    if not question.public:
        raise DomainError("conflict", "approve the question before replying to it")
    text = clean_text(cmd.text, REPLY_CHARS, "reply", required=False)
    return [] if text == question.reply else [e.QuestionReplied(question.id, text, now)]


def dismiss(state: RoomState, cmd: c.DismissQuestion) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    _not_merged(question)
    if question.status == DISMISSED:
        return []
    return [e.QuestionDismissed(question.id, question.status)]


def star(state: RoomState, cmd: c.StarQuestion) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    starred = bool(cmd.starred)
    return [] if question.starred == starred else [e.QuestionStarred(question.id, starred)]


def put_on_stage(state: RoomState, cmd: c.PutOnStage) -> list[e.Event]:
    """Projecting is its own, deliberate act, and only of a question the moderators let through:
    a pending one is refused (approving it is a separate decision, logged as such)."""
    question = question_of(state, cmd.question_id)
    if question.status == PENDING:
        raise DomainError("conflict", "approve the question before putting it on stage")
    if question.status != APPROVED:
        raise DomainError("conflict", f"a question {question.status} cannot go on stage")
    if state.stage_question_id == question.id:
        return []
    return [e.QuestionPutOnStage(question.id, question.status)]


def answer(state: RoomState, cmd: c.MarkAnswered, now: int) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    _not_merged(question)
    if question.status == ANSWERED:
        return []
    return [e.QuestionAnswered(question.id, question.status, now)]


def archive(state: RoomState, cmd: c.ArchiveQuestion) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    _not_merged(question)
    if question.status == ARCHIVED:
        return []
    return [e.QuestionArchived(question.id, question.status)]


def restore(state: RoomState, cmd: c.RestoreQuestion) -> list[e.Event]:
    question = question_of(state, cmd.question_id)
    if question.status not in (ARCHIVED, DISMISSED, ANSWERED):
        return []
    return [e.QuestionRestored(question.id, question.status)]


def merge(state: RoomState, cmd: c.MergeQuestions) -> list[e.Event]:
    """Fold a duplicate into the question everyone sees: the duplicate's votes join it, each
    voter counted once (never its author's own), and the duplicate's asker is shown where it went.
    The votes that moved are kept on the duplicate, so the merge can be undone exactly."""
    source = question_of(state, cmd.question_id)
    target = question_of(state, cmd.into_id)
    if source.id == target.id:
        raise DomainError("invalid", "a question cannot be merged into itself")
    if source.status == MERGED:
        if source.merged_into == target.id:
            return []  # the same merge sent twice
        raise DomainError("conflict", "this question was already merged into another one")
    if source.status not in (PENDING, APPROVED):
        raise DomainError("conflict", f"a question {source.status} cannot be merged")
    if target.status != APPROVED:
        raise DomainError("conflict", "merge into an approved question: approve it first")
    moved = tuple(sorted(v for v in source.voters
                         if v not in target.voters and v != target.author_id))
    return [e.QuestionMerged(source.id, target.id, source.status, moved)]


def unmerge(state: RoomState, cmd: c.UnmergeQuestion) -> list[e.Event]:
    source = question_of(state, cmd.question_id)
    if source.status != MERGED or source.merged_into is None:
        return []
    target = state.questions[source.merged_into]
    # Only the votes the merge brought that are still there: one withdrawn since stays withdrawn.
    taken = tuple(v for v in source.merged_votes if v in target.voters)
    return [e.QuestionUnmerged(source.id, target.id, source.merged_from or PENDING, taken)]


def apply(state: RoomState, event: e.Event) -> None:
    """Apply one question event (the ones `Room.apply` hands over)."""
    match event:
        case e.QuestionAsked():
            question = Question(
                event.question_id, event.text, event.author_id, event.author_name,
                event.organisation, event.anonymous, event.status, event.asked_at,
                event.client_key, origin=event.origin)
            state.questions[question.id] = question
            if event.client_key is not None:
                state.client_keys[(event.author_id, event.client_key)] = question.id
        case e.QuestionApproved() | e.QuestionRestored():
            state.questions[event.question_id].status = APPROVED
        case e.QuestionEdited():
            question = state.questions[event.question_id]
            question.text, question.edited = event.text, True
        case e.QuestionDismissed():
            leave(state, event.question_id, DISMISSED)
        case e.QuestionReplied():
            question = state.questions[event.question_id]
            question.reply, question.replied_at = event.reply, event.replied_at
        case e.QuestionStarred():
            state.questions[event.question_id].starred = event.starred
        case e.QuestionPutOnStage():
            state.stage_question_id = event.question_id
        case e.QuestionAnswered():
            leave(state, event.question_id, ANSWERED)
            state.questions[event.question_id].answered_at = event.answered_at
        case e.QuestionArchived():
            leave(state, event.question_id, ARCHIVED)
        case e.QuestionUpvoted():
            state.questions[event.question_id].voters.add(event.participant_id)
        case e.UpvoteWithdrawn():
            state.questions[event.question_id].voters.discard(event.participant_id)
        case e.QuestionMerged():
            source, target = state.questions[event.question_id], state.questions[event.into_id]
            leave(state, source.id, MERGED)
            source.merged_into, source.merged_from = target.id, event.previous
            source.merged_votes = event.moved
            target.voters.update(event.moved)
        case e.QuestionUnmerged():
            source, target = state.questions[event.question_id], state.questions[event.into_id]
            target.voters.difference_update(event.taken)
            source.status, source.merged_into = event.restored, None
            source.merged_from, source.merged_votes = None, ()


def leave(state: RoomState, question_id: str, status: str) -> None:
    """Move a question to a status that takes it off the stage."""
    state.questions[question_id].status = status
    if state.stage_question_id == question_id:
        state.stage_question_id = None
