"""Events: what happened in a room. Past-tense names, as on the wire.

Events are the only way state changes (`Room.apply`), the unit the store appends and the bus carries.
Status-changing events record the status they left, so that who must be told can be decided from the
event alone, without the history.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    question_id: str
    author_id: str
    author_name: str | None
    organisation: str | None
    anonymous: bool
    text: str
    status: str
    asked_at: int
    client_key: str | None = None
    origin: str = "remote"


@dataclass(frozen=True, slots=True)
class QuestionMerged:
    question_id: str
    into_id: str
    previous: str
    moved: tuple[str, ...]  # the duplicate's voters who had not voted for `into_id`


@dataclass(frozen=True, slots=True)
class QuestionUnmerged:
    question_id: str
    into_id: str
    restored: str  # the status the duplicate had before the merge
    taken: tuple[str, ...]  # the moved votes taken back from `into_id`


@dataclass(frozen=True, slots=True)
class ModerationLogged:
    """A moderation act, for the session's log (live/domain/state.py LogEntry)."""

    at: int
    by: str
    action: str
    target: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class QuestionApproved:
    question_id: str
    previous: str


@dataclass(frozen=True, slots=True)
class QuestionEdited:
    question_id: str
    text: str


@dataclass(frozen=True, slots=True)
class QuestionReplied:
    question_id: str
    reply: str | None  # None: the reply taken back
    replied_at: int


@dataclass(frozen=True, slots=True)
class QuestionDismissed:
    question_id: str
    previous: str


@dataclass(frozen=True, slots=True)
class QuestionStarred:
    question_id: str
    starred: bool


@dataclass(frozen=True, slots=True)
class QuestionPutOnStage:
    question_id: str
    previous: str


@dataclass(frozen=True, slots=True)
class StageCleared:
    question: bool
    poll: bool


@dataclass(frozen=True, slots=True)
class QuestionAnswered:
    question_id: str
    previous: str
    answered_at: int


@dataclass(frozen=True, slots=True)
class QuestionArchived:
    question_id: str
    previous: str


@dataclass(frozen=True, slots=True)
class QuestionRestored:
    question_id: str
    previous: str


@dataclass(frozen=True, slots=True)
class QuestionUpvoted:
    question_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class UpvoteWithdrawn:
    question_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class PremoderationSet:
    enabled: bool


@dataclass(frozen=True, slots=True)
class PollCreated:
    poll_id: str
    question: str
    options: tuple[str, ...]
    multiple: bool
    created_at: int
    client_key: str | None = None
    kind: str = "choice"  # records from before poll kinds were choice polls


@dataclass(frozen=True, slots=True)
class PollEdited:
    poll_id: str
    question: str
    options: tuple[str, ...]
    multiple: bool
    kind: str = "choice"


@dataclass(frozen=True, slots=True)
class PollDeleted:
    poll_id: str


@dataclass(frozen=True, slots=True)
class PollReset:
    poll_id: str


@dataclass(frozen=True, slots=True)
class PollOpened:
    poll_id: str
    opened_at: int


@dataclass(frozen=True, slots=True)
class PollClosed:
    poll_id: str


@dataclass(frozen=True, slots=True)
class PollPutOnStage:
    poll_id: str


@dataclass(frozen=True, slots=True)
class ResultsRevealed:
    poll_id: str


@dataclass(frozen=True, slots=True)
class ResultsHidden:
    poll_id: str


@dataclass(frozen=True, slots=True)
class BallotCast:
    poll_id: str
    participant_id: str
    choices: tuple[int, ...]
    answers: tuple[str, ...] = ()  # a words or text poll's ballot: its entries, normalised


@dataclass(frozen=True, slots=True)
class AnswerScreened:
    """A words poll's entry hidden (or shown again), a text poll's answer approved (or hidden)."""

    poll_id: str
    text: str
    shown: bool


@dataclass(frozen=True, slots=True)
class ParticipantBanned:
    participant_id: str
    ban_id: str
    name: str | None
    dismissed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParticipantUnbanned:
    participant_id: str


@dataclass(frozen=True, slots=True)
class CaptionPosted:
    language: str
    text: str
    final: bool
    posted_at: int
    client_key: str | None = None


@dataclass(frozen=True, slots=True)
class StageCaptionsSet:
    language: str | None  # the language the stage screen shows; None: no captions there


@dataclass(frozen=True, slots=True)
class BoothMessageSent:
    """A line between the interpreters of one language; only they are ever told of it."""

    message_id: str
    language: str
    text: str
    sender: str | None  # the name the sender signed with, if any
    device: str | None  # the sending page's own id (SendBoothMessage.device)
    sent_at: int
    client_key: str | None = None


@dataclass(frozen=True, slots=True)
class GuestJoined:
    guest_id: str
    name: str


@dataclass(frozen=True, slots=True)
class GuestOnAirSet:
    guest_id: str
    on_air: bool


@dataclass(frozen=True, slots=True)
class ReplayPublishedSet:
    published: bool


@dataclass(frozen=True, slots=True)
class StageMessageSent:
    message_id: str
    text: str
    sent_at: int


@dataclass(frozen=True, slots=True)
class StageMessageAcknowledged:
    message_id: str
    acknowledged_at: int


@dataclass(frozen=True, slots=True)
class StageTimerSet:
    ends_at: int | None  # ms since the epoch; None: no countdown
    seconds: int | None  # what it was set to, for the stage's display of the whole


Event = (
    QuestionAsked | QuestionApproved | QuestionEdited | QuestionDismissed | QuestionStarred
    | QuestionPutOnStage | StageCleared | QuestionAnswered | QuestionArchived | QuestionRestored
    | QuestionUpvoted | UpvoteWithdrawn | PremoderationSet | PollCreated | PollOpened | PollClosed
    | PollPutOnStage | ResultsRevealed | ResultsHidden | BallotCast | ParticipantBanned
    | ParticipantUnbanned | CaptionPosted | StageCaptionsSet | BoothMessageSent | GuestJoined
    | GuestOnAirSet | ReplayPublishedSet | QuestionReplied | StageMessageSent
    | StageMessageAcknowledged | StageTimerSet | QuestionMerged | QuestionUnmerged
    | ModerationLogged | PollEdited | PollDeleted | PollReset | AnswerScreened
)

EVENTS: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        QuestionAsked, QuestionApproved, QuestionEdited, QuestionDismissed, QuestionStarred,
        QuestionPutOnStage, StageCleared, QuestionAnswered, QuestionArchived, QuestionRestored,
        QuestionUpvoted, UpvoteWithdrawn, PremoderationSet, PollCreated, PollOpened, PollClosed,
        PollPutOnStage, ResultsRevealed, ResultsHidden, BallotCast, ParticipantBanned,
        ParticipantUnbanned, CaptionPosted, StageCaptionsSet, BoothMessageSent, GuestJoined,
        GuestOnAirSet, ReplayPublishedSet, QuestionReplied, StageMessageSent,
        StageMessageAcknowledged, StageTimerSet, QuestionMerged, QuestionUnmerged,
        ModerationLogged, PollEdited, PollDeleted, PollReset, AnswerScreened,
    )
}

_FIELD_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in EVENTS.values()}
# Fields left out of a record when empty: a ballot's `answers` is empty in most ballots, which are
# most records, and its default brings it back.
_OMITTED_WHEN_EMPTY = {cls: frozenset(f.name for f in fields(cls) if f.default == ())
                       for cls in EVENTS.values()}

# Events that change vote counts: they are not fanned out one by one but reach clients as tallies.
TALLY_EVENTS = (QuestionUpvoted, UpvoteWithdrawn, BallotCast)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A plain dict (`type` plus fields) that any serialiser can store."""
    data: dict[str, Any] = {"type": type(event).__name__}
    # Fields are plain values or tuples of them (no nested dataclasses): asdict's deep copy would
    # cost a fifth of a vote's handling.
    omitted = _OMITTED_WHEN_EMPTY[type(event)]
    for name in _FIELD_NAMES[type(event)]:
        value = getattr(event, name)
        if value == () and name in omitted:
            continue
        data[name] = list(value) if isinstance(value, tuple) else value
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `event_to_dict`'s output; unknown keys are ignored."""
    cls = EVENTS[data["type"]]
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)
