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
    CLIENT_KEY_CHARS,
    CLOSED,
    DRAFT,
    OPEN,
    POLL_OPTION_CHARS,
    POLL_OPTIONS_MAX,
    POLL_OPTIONS_MIN,
    POLL_QUESTION_CHARS,
    POLLS_MAX,
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
    question, options = _checked(cmd.question, cmd.options)
    return [e.PollCreated(new_id("p"), question, options, bool(cmd.multiple), now, key)]


def _checked(raw_question: str, raw_options: list[str]) -> tuple[str, tuple[str, ...]]:
    """A poll's question and options cleaned, or the reason they are refused."""
    question = clean_text(raw_question, POLL_QUESTION_CHARS, "poll question")
    assert question is not None
    if not isinstance(raw_options, list) or not (
            POLL_OPTIONS_MIN <= len(raw_options) <= POLL_OPTIONS_MAX):
        raise DomainError(
            "invalid", f"a poll has {POLL_OPTIONS_MIN} to {POLL_OPTIONS_MAX} options")
    options = tuple(str(clean_text(o, POLL_OPTION_CHARS, "option")) for o in raw_options)
    if len(set(options)) != len(options):
        raise DomainError("invalid", "options must differ")
    return question, options


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
    question, options = _checked(cmd.question, cmd.options)
    multiple = bool(cmd.multiple)
    if (question, options, multiple) == (poll.question, poll.options, poll.multiple):
        return []
    return [e.PollEdited(poll.id, question, options, multiple)]


def delete_poll(room: Deciding, cmd: c.DeletePoll, actor: Actor, now: int,
                new_id: NewId) -> list[e.Event]:
    poll = _draft(room.state, cmd.poll_id, "deleted")
    return [e.PollDeleted(poll.id)]


def duplicate_poll(room: Deciding, cmd: c.DuplicatePoll, actor: Actor, now: int,
                   new_id: NewId) -> list[e.Event]:
    poll = poll_of(room.state, cmd.poll_id)
    _room_for_one_more(room.state)
    return [e.PollCreated(new_id("p"), poll.question, poll.options, poll.multiple, now, None)]


def reset_poll(room: Deciding, cmd: c.ResetPoll, actor: Actor, now: int,
               new_id: NewId) -> list[e.Event]:
    poll = poll_of(room.state, cmd.poll_id)
    if poll.status != CLOSED:
        raise DomainError("conflict", "close the poll before resetting it")
    return [e.PollReset(poll.id)] if poll.ballots else []


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
