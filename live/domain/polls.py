"""Polls: creating, opening, closing, showing them on stage and their results, and ballots.

Each function decides one command against the room's state (`Room.handle` checks the actor's
capability and the session first) and returns the events; none mutates. `Room.apply` applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor
from live.domain.errors import DomainError
from live.domain.state import (
    ANSWERED_KINDS,
    CHOICE,
    CLIENT_KEY_CHARS,
    CLOSED,
    DRAFT,
    OPEN,
    POLL_KINDS,
    POLL_OPTION_CHARS,
    POLL_OPTIONS_MAX,
    POLL_OPTIONS_MIN,
    POLL_QUESTION_CHARS,
    POLLS_MAX,
    RATING,
    RATING_MARKS,
    TEXT_ANSWER_CHARS,
    WORD_CHARS,
    WORDS,
    WORDS_PER_BALLOT,
    Poll,
    RoomState,
)
from live.domain.text import clean_text

NewId = Callable[[str], str]


class Deciding(Protocol):
    """What a poll decision reads: the room (`Room`), whose handler table calls these directly."""

    @property
    def state(self) -> RoomState: ...


def poll_of(state: RoomState, poll_id: str) -> Poll:
    poll = state.polls.get(poll_id)
    if poll is None:
        raise DomainError("not_found", "no such poll")
    return poll


def create_poll(room: Deciding, cmd: c.CreatePoll, actor: Actor, now: int,
                new_id: NewId) -> list[e.Event]:
    state = room.state
    key = clean_text(cmd.client_key, CLIENT_KEY_CHARS, "client_key", required=False)
    if key is not None and ("", key) in state.client_keys:
        return []  # the same poll re-sent after a reconnect: already created
    _room_for_one_more(state)
    question, options, multiple = checked_poll(cmd.kind, cmd.question, cmd.options, cmd.multiple)
    return [e.PollCreated(new_id("p"), question, options, multiple, now, key, cmd.kind)]


def checked_poll(kind: str, raw_question: str, raw_options: list[str], raw_multiple: bool
                 ) -> tuple[str, tuple[str, ...], bool]:
    """A poll's question, options and `multiple` cleaned for its kind, or why they are refused."""
    if kind not in POLL_KINDS:
        raise DomainError("invalid", f"a poll's kind is one of {', '.join(POLL_KINDS)}")
    question = clean_text(raw_question, POLL_QUESTION_CHARS, "poll question")
    assert question is not None
    if kind != CHOICE:
        if raw_options:
            raise DomainError("invalid", f"a {kind} poll has no options")
        return question, (), False
    if not isinstance(raw_options, list) or not (
            POLL_OPTIONS_MIN <= len(raw_options) <= POLL_OPTIONS_MAX):
        raise DomainError(
            "invalid", f"a poll has {POLL_OPTIONS_MIN} to {POLL_OPTIONS_MAX} options")
    options = tuple(str(clean_text(o, POLL_OPTION_CHARS, "option")) for o in raw_options)
    if len(set(options)) != len(options):
        raise DomainError("invalid", "options must differ")
    return question, options, bool(raw_multiple)


def _room_for_one_more(state: RoomState) -> None:
    if len(state.polls) >= POLLS_MAX:
        raise DomainError("too_many_polls", f"a session holds at most {POLLS_MAX} polls")


def _draft(state: RoomState, poll_id: str, doing: str) -> Poll:
    poll = poll_of(state, poll_id)
    if poll.status != DRAFT:
        raise DomainError("conflict", f"only a draft poll can be {doing}")
    return poll


def edit_poll(room: Deciding, cmd: c.EditPoll, actor: Actor, now: int,
              new_id: NewId) -> list[e.Event]:
    poll = _draft(room.state, cmd.poll_id, "edited")
    question, options, multiple = checked_poll(cmd.kind, cmd.question, cmd.options, cmd.multiple)
    if (question, options, multiple, cmd.kind) == (
            poll.question, poll.options, poll.multiple, poll.kind):
        return []
    return [e.PollEdited(poll.id, question, options, multiple, cmd.kind)]


def delete_poll(room: Deciding, cmd: c.DeletePoll, actor: Actor, now: int,
                new_id: NewId) -> list[e.Event]:
    poll = _draft(room.state, cmd.poll_id, "deleted")
    return [e.PollDeleted(poll.id)]


def duplicate_poll(room: Deciding, cmd: c.DuplicatePoll, actor: Actor, now: int,
                   new_id: NewId) -> list[e.Event]:
    poll = poll_of(room.state, cmd.poll_id)
    _room_for_one_more(room.state)
    return [e.PollCreated(new_id("p"), poll.question, poll.options, poll.multiple, now, None,
                          poll.kind)]


def reset_poll(room: Deciding, cmd: c.ResetPoll, actor: Actor, now: int,
               new_id: NewId) -> list[e.Event]:
    poll = poll_of(room.state, cmd.poll_id)
    if poll.status != CLOSED:
        raise DomainError("conflict", "close the poll before resetting it")
    return [e.PollReset(poll.id)] if poll.voters else []


def screen_answer(room: Deciding, cmd: c.ScreenAnswer, actor: Actor, now: int,
                  new_id: NewId) -> list[e.Event]:
    poll = poll_of(room.state, cmd.poll_id)
    if poll.kind not in ANSWERED_KINDS:
        raise DomainError("invalid", "only a words or text poll's answers are screened")
    if not any(cmd.text in entries for entries in poll.answers.values()):
        raise DomainError("not_found", "nobody gave this answer")
    shown = bool(cmd.shown)
    return [] if poll.shown(cmd.text) == shown else [e.AnswerScreened(poll.id, cmd.text, shown)]


def open_poll(room: Deciding, cmd: c.OpenPoll, actor: Actor, now: int,
              new_id: NewId) -> list[e.Event]:
    state = room.state
    poll = poll_of(state, cmd.poll_id)
    return [] if poll.status == OPEN else [e.PollOpened(poll.id, now)]


def close_poll(room: Deciding, cmd: c.ClosePoll, actor: Actor, now: int,
               new_id: NewId) -> list[e.Event]:
    state = room.state
    poll = poll_of(state, cmd.poll_id)
    if poll.status != OPEN:
        raise DomainError("conflict", "the poll is not open")
    return [e.PollClosed(poll.id)]


def poll_on_stage(room: Deciding, cmd: c.PutPollOnStage, actor: Actor, now: int,
                  new_id: NewId) -> list[e.Event]:
    state = room.state
    poll = poll_of(state, cmd.poll_id)
    if poll.status == DRAFT:
        raise DomainError("conflict", "open the poll before showing it on stage")
    return [] if state.stage_poll_id == poll.id else [e.PollPutOnStage(poll.id)]


def reveal(room: Deciding, cmd: c.RevealResults, actor: Actor, now: int,
           new_id: NewId) -> list[e.Event]:
    state = room.state
    poll = poll_of(state, cmd.poll_id)
    if poll.status == DRAFT:
        raise DomainError("conflict", "open the poll before revealing its results")
    return [] if poll.results_visible else [e.ResultsRevealed(poll.id)]


def hide(room: Deciding, cmd: c.HideResults, actor: Actor, now: int,
         new_id: NewId) -> list[e.Event]:
    state = room.state
    poll = poll_of(state, cmd.poll_id)
    return [e.ResultsHidden(poll.id)] if poll.results_visible else []


def cast_ballot(room: Deciding, cmd: c.CastBallot, actor: Actor, now: int,
                new_id: NewId) -> list[e.Event]:
    state = room.state
    poll = poll_of(state, cmd.poll_id)
    voter = actor.participant_id
    assert voter is not None
    if poll.status != OPEN:
        raise DomainError("conflict", "the poll is not open")
    if poll.kind in ANSWERED_KINDS:
        if cmd.choices:
            raise DomainError("invalid", f"a {poll.kind} poll takes answers, not choices")
        answers = _answers(poll, cmd.answers)
        if poll.answers.get(voter) == answers:
            return []
        return [e.BallotCast(poll.id, voter, (), answers)]
    if cmd.answers:
        raise DomainError("invalid", f"a {poll.kind} poll takes choices, not answers")
    if poll.kind == RATING:
        if len(cmd.choices) != 1 or not 1 <= cmd.choices[0] <= RATING_MARKS:
            raise DomainError("invalid", f"give one mark from 1 to {RATING_MARKS}")
        if poll.ballots.get(voter) == tuple(cmd.choices):
            return []
        return [e.BallotCast(poll.id, voter, tuple(cmd.choices))]
    choices = tuple(sorted(set(cmd.choices)))
    if len(choices) != len(cmd.choices) or not choices:
        raise DomainError("invalid", "choose at least one option, each once")
    if not poll.multiple and len(choices) != 1:
        raise DomainError("invalid", "this poll takes exactly one choice")
    if any(not 0 <= i < len(poll.options) for i in choices):
        raise DomainError("invalid", "no such option")
    if poll.ballots.get(voter) == choices:
        return []
    return [e.BallotCast(poll.id, voter, choices)]


# Around a word cloud's entry: what a phone keyboard adds or a person types by habit.
_ENTRY_TRIM = " \t.,;:!?¡¿\"'«»“”‘’()[]{}…-–—"


def normalised_word(raw: str) -> str:
    """A word cloud's entry as it is counted: one line, lower case, without surrounding
    punctuation, so that "Mobilités !" and "mobilités" are one word."""
    text = clean_text(raw, WORD_CHARS * 2, "answer")
    assert text is not None
    word = " ".join(text.split()).lower().strip(_ENTRY_TRIM)
    if not word:
        raise DomainError("invalid", "an answer is empty")
    if len(word) > WORD_CHARS:
        raise DomainError("invalid", f"an answer is longer than {WORD_CHARS} characters",
                          limit=WORD_CHARS)
    return word


def _answers(poll: Poll, raw: list[str]) -> tuple[str, ...]:
    """A words or text ballot's entries, cleaned, or why they are refused."""
    if poll.kind == WORDS:
        if not 1 <= len(raw) <= WORDS_PER_BALLOT:
            raise DomainError("invalid", f"give 1 to {WORDS_PER_BALLOT} words")
        words = tuple(dict.fromkeys(normalised_word(w) for w in raw))
        if len(words) != len(raw):
            raise DomainError("invalid", "give each word once")
        return words
    if len(raw) != 1:
        raise DomainError("invalid", "give one answer")
    text = clean_text(raw[0], TEXT_ANSWER_CHARS, "answer")
    assert text is not None
    return (" ".join(text.split()),)
