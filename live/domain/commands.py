"""Commands: what a client asks the room to do. Imperative names, as on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AskQuestion:
    text: str
    name: str | None = None
    organisation: str | None = None
    anonymous: bool = False
    client_key: str | None = None
    origin: str | None = None  # "room" from the room's on-site link, else "remote"


@dataclass(frozen=True, slots=True)
class UpvoteQuestion:
    question_id: str


@dataclass(frozen=True, slots=True)
class WithdrawUpvote:
    question_id: str


@dataclass(frozen=True, slots=True)
class CastBallot:
    """A ballot as its poll's kind takes it: option indexes or a mark (`choices`), or entries
    (`answers`) for a words or text poll."""

    poll_id: str
    choices: list[int] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ApproveQuestion:
    question_id: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class EditQuestion:
    question_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ReplyToQuestion:
    """A moderator's written answer under a question; an empty text takes it back."""

    question_id: str
    text: str


@dataclass(frozen=True, slots=True)
class DismissQuestion:
    question_id: str


@dataclass(frozen=True, slots=True)
class StarQuestion:
    question_id: str
    starred: bool = True


@dataclass(frozen=True, slots=True)
class PutOnStage:
    question_id: str


@dataclass(frozen=True, slots=True)
class ClearStage:
    target: str = "all"  # "question", "poll" or "all"


@dataclass(frozen=True, slots=True)
class MarkAnswered:
    question_id: str


@dataclass(frozen=True, slots=True)
class ArchiveQuestion:
    question_id: str


@dataclass(frozen=True, slots=True)
class RestoreQuestion:
    question_id: str


@dataclass(frozen=True, slots=True)
class MergeQuestions:
    """Fold a duplicate (`question_id`) into the question it repeats (`into_id`)."""

    question_id: str
    into_id: str


@dataclass(frozen=True, slots=True)
class UnmergeQuestion:
    question_id: str


@dataclass(frozen=True, slots=True)
class SetPremoderation:
    enabled: bool


@dataclass(frozen=True, slots=True)
class CreatePoll:
    question: str
    options: list[str] = field(default_factory=list)  # a choice poll's; none for other kinds
    multiple: bool = False
    client_key: str | None = None  # a poll re-sent after a reconnect is created once
    kind: str = "choice"  # choice, rating, words or text (live.domain.state.POLL_KINDS)


@dataclass(frozen=True, slots=True)
class EditPoll:
    """A draft rewritten: its question, options and kind as `CreatePoll` takes them."""

    poll_id: str
    question: str
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    kind: str = "choice"


@dataclass(frozen=True, slots=True)
class ScreenAnswer:
    """A words poll's entry hidden or shown again; a text poll's answer approved or hidden."""

    poll_id: str
    text: str
    shown: bool


@dataclass(frozen=True, slots=True)
class DeletePoll:
    poll_id: str  # a draft only: a poll people voted in stays for the record


@dataclass(frozen=True, slots=True)
class DuplicatePoll:
    poll_id: str  # any poll, copied as a new draft: to run it again


@dataclass(frozen=True, slots=True)
class ResetPoll:
    poll_id: str  # a closed poll, its ballots cleared: to run it again as it was


@dataclass(frozen=True, slots=True)
class OpenPoll:
    poll_id: str


@dataclass(frozen=True, slots=True)
class ClosePoll:
    poll_id: str


@dataclass(frozen=True, slots=True)
class PutPollOnStage:
    poll_id: str


@dataclass(frozen=True, slots=True)
class RevealResults:
    poll_id: str


@dataclass(frozen=True, slots=True)
class HideResults:
    poll_id: str


@dataclass(frozen=True, slots=True)
class BanParticipant:
    """Ban the author of a question: moderators never see participant ids, so anonymous
    questions cannot be linked to named ones."""

    question_id: str


@dataclass(frozen=True, slots=True)
class UnbanParticipant:
    ban_id: str  # the question the ban was made through


@dataclass(frozen=True, slots=True)
class PostCaption:
    """A caption line in one of the session's languages (live/domain/captions.py)."""

    language: str
    text: str
    # False: a speech-to-text service's partial result, shown live but replaced by the next one
    # and never kept in the transcript; True: a finished line.
    final: bool = True
    client_key: str | None = None  # a final line re-sent with the same key is kept once


@dataclass(frozen=True, slots=True)
class SetStageCaptions:
    enabled: bool
    language: str | None = None  # which language the stage shows; None: the floor language


@dataclass(frozen=True, slots=True)
class SendBoothMessage:
    """A line to one's booth partner (live/domain/booth.py); the booth is the sender's language."""

    text: str
    name: str | None = None  # how the sender signs, if they chose to
    # An id the sending page chose for itself, echoed to the booth so that each page tells its
    # own messages from its partner's (both partners hold the same link).
    device: str | None = None
    client_key: str | None = None  # a message re-sent after a reconnect is kept once


@dataclass(frozen=True, slots=True)
class JoinAsGuest:
    """A guest enters the green room, past their device check: the guest and their name are
    the link's (live/domain/production.py), never the command's."""


@dataclass(frozen=True, slots=True)
class SetGuestOnAir:
    """The studio brings a guest on air (the page composes them into the programme) or off."""

    guest_id: str
    on_air: bool


@dataclass(frozen=True, slots=True)
class SetReplayPublished:
    """A moderator publishes the session's replay (the default) or takes it down."""

    published: bool


@dataclass(frozen=True, slots=True)
class SendStageMessage:
    """A moderator's private line to the speaker: on the stage screen only, until acknowledged."""

    text: str


@dataclass(frozen=True, slots=True)
class AcknowledgeStageMessage:
    message_id: str


@dataclass(frozen=True, slots=True)
class SetStageTimer:
    """A countdown on the stage screen: `seconds` from now, or None to take it away."""

    seconds: int | None = None


Command = (
    AskQuestion | UpvoteQuestion | WithdrawUpvote | CastBallot | ApproveQuestion | EditQuestion
    | DismissQuestion | StarQuestion | PutOnStage | ClearStage | MarkAnswered | ArchiveQuestion
    | RestoreQuestion | SetPremoderation | CreatePoll | OpenPoll | ClosePoll | PutPollOnStage
    | RevealResults | HideResults | BanParticipant | UnbanParticipant | PostCaption
    | SetStageCaptions | SendBoothMessage | JoinAsGuest | SetGuestOnAir | SetReplayPublished
    | ReplyToQuestion | SendStageMessage | AcknowledgeStageMessage | SetStageTimer
    | MergeQuestions | UnmergeQuestion | EditPoll | DeletePoll | DuplicatePoll | ResetPoll
    | ScreenAnswer
)

COMMANDS: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        AskQuestion, UpvoteQuestion, WithdrawUpvote, CastBallot, ApproveQuestion, EditQuestion,
        DismissQuestion, StarQuestion, PutOnStage, ClearStage, MarkAnswered, ArchiveQuestion,
        RestoreQuestion, SetPremoderation, CreatePoll, OpenPoll, ClosePoll, PutPollOnStage,
        RevealResults, HideResults, BanParticipant, UnbanParticipant, PostCaption,
        SetStageCaptions, SendBoothMessage, JoinAsGuest, SetGuestOnAir, SetReplayPublished,
        ReplyToQuestion, SendStageMessage, AcknowledgeStageMessage, SetStageTimer,
        MergeQuestions, UnmergeQuestion, EditPoll, DeletePoll, DuplicatePoll, ResetPoll,
        ScreenAnswer,
    )
}
