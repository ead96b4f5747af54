"""Gates: the few facts a vote's validity depends on, kept beside the log so votes need no lock.

Votes and upvotes are most of the traffic (a whole room voting within seconds), and they commute:
a ballot replaces the voter's earlier one, an upvote adds the voter to a set. So they are appended
without the optimistic check on the session's version that every other command goes through, and
thousands of them from several processes never conflict. What they do depend on is whether the
poll is open or the question public; those facts are "gates", set and cleared atomically with the
events that change them, and a free append names the gate it needs. A ballot can then never land
after the poll's close, whatever process decided it.
"""

from __future__ import annotations

from live.domain import events as e
from live.domain.errors import DomainError
from live.domain.state import OPEN, PUBLIC_STATUSES, RoomState

# Events appended without the version check: each changes only its own voter's entry.
FREE_EVENTS = (e.BallotCast, e.QuestionUpvoted, e.UpvoteWithdrawn)


def poll_gate(poll_id: str) -> str:
    return f"poll:{poll_id}"


def question_gate(question_id: str) -> str:
    return f"q:{question_id}"


def is_free(events: list[e.Event]) -> bool:
    return all(isinstance(event, FREE_EVENTS) for event in events)


def required_gate(event: e.Event) -> str:
    """The gate a free event needs open: the poll open, or the question public."""
    match event:
        case e.BallotCast():
            return poll_gate(event.poll_id)
        case e.QuestionUpvoted() | e.UpvoteWithdrawn():
            return question_gate(event.question_id)
    raise ValueError(f"{type(event).__name__} is not a free event")


def refusal(event: e.Event, *, over_limit: bool = False) -> DomainError:
    """Why a free event was not appended: its gate was closed, or (`over_limit`) its network
    address's share of the poll or question was spent (`live.limits.vote_quota`)."""
    ballot = isinstance(event, e.BallotCast)
    if over_limit:
        return DomainError("address_limited", "too many ballots in this poll come from your "
                           "network address" if ballot else "too many upvotes of this question "
                           "come from your network address")
    return DomainError("conflict", "the poll is not open" if ballot
                       else "the question is not open to votes")


def gate_changes(events: list[e.Event]) -> list[tuple[str, bool]]:
    """The gates these events open (True) or close (False), in order."""
    changes: list[tuple[str, bool]] = []
    for event in events:
        match event:
            case e.QuestionAsked():
                changes.append((question_gate(event.question_id), event.status in PUBLIC_STATUSES))
            case (e.QuestionApproved() | e.QuestionRestored() | e.QuestionPutOnStage()
                  | e.QuestionAnswered()):
                changes.append((question_gate(event.question_id), True))
            case e.QuestionDismissed() | e.QuestionArchived() | e.QuestionMerged():
                changes.append((question_gate(event.question_id), False))
            case e.QuestionUnmerged():
                changes.append((question_gate(event.question_id),
                                event.restored in PUBLIC_STATUSES))
            case e.ParticipantBanned():
                changes += [(question_gate(q), False) for q in event.dismissed]
            case e.PollOpened():
                changes.append((poll_gate(event.poll_id), True))
            case e.PollClosed():
                changes.append((poll_gate(event.poll_id), False))
    return changes


def open_gates(state: RoomState) -> set[str]:
    """The gates a state implies: what the store's gates must equal after the same events."""
    return ({question_gate(q.id) for q in state.questions.values() if q.public}
            | {poll_gate(p.id) for p in state.polls.values() if p.status == OPEN})
