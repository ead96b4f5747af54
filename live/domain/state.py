"""The state of one session's interaction: questions, polls, stage, settings, bans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING, APPROVED, DISMISSED, ANSWERED, ARCHIVED, MERGED = (
    "pending", "approved", "dismissed", "answered", "archived", "merged",
)
QUESTION_STATUSES = (PENDING, APPROVED, DISMISSED, ANSWERED, ARCHIVED, MERGED)
# Where a question was asked: through the room's on-site link (its printed QR code), or remote.
ROOM, REMOTE = "room", "remote"
ORIGINS = (ROOM, REMOTE)
# Statuses everyone (participants, the stage) may see; authors always see their own questions.
PUBLIC_STATUSES = frozenset({APPROVED, ANSWERED})

DRAFT, OPEN, CLOSED = "draft", "open", "closed"
# Poll kinds (docs/protocol.md, "Poll kinds"): options; a mark from 1 to 5; a word cloud of short
# entries, shown until hidden; open text answers, shown once approved. The last two are "answered"
# (their ballots are texts), the first two "marked" (their ballots are numbers).
CHOICE, RATING, WORDS, TEXT = "choice", "rating", "words", "text"
POLL_KINDS = (CHOICE, RATING, WORDS, TEXT)
ANSWERED_KINDS = frozenset({WORDS, TEXT})
RATING_MARKS = 5
WORD_CHARS, WORDS_PER_BALLOT = 40, 3  # a word cloud's entries: a word or two, three at most each
TEXT_ANSWER_CHARS = 280  # an open text answer: a sentence or two, as a phone keyboard makes them
ANSWERS_SHOWN = 100  # distinct answers a poll view lists: a cloud or a wall legible on one screen

QUESTION_CHARS = 500
REPLY_CHARS = 1000  # a moderator's written answer: a short paragraph
NAME_CHARS = 60
ORGANISATION_CHARS = 80
CLIENT_KEY_CHARS = 64
MAX_PENDING = 1000  # questions waiting for moderation: past this, new ones wait for room
LOG_KEPT = 1000  # moderation log entries kept per session, the oldest dropped first
POLL_QUESTION_CHARS = 200
POLL_OPTION_CHARS = 100
POLL_OPTIONS_MIN, POLL_OPTIONS_MAX = 2, 10
POLLS_MAX = 100  # per session: duplicating is one click, the room's state must stay small
CAPTION_CHARS = 300  # one caption line: about two lines of a subtitle
BOOTH_MESSAGE_CHARS = 300  # a line to one's booth partner: a name, a number, a "take over at 10:30"
BOOTH_NAME_CHARS = 40
GUEST_NAME_CHARS = 60
MAX_GUESTS = 20  # remote guests per session: a panel, not an audience
# A guest's status: in the green room never yet on air, on air, back in the green room.
WAITING, ON_AIR, OFF_AIR = "waiting", "on_air", "off_air"


@dataclass(slots=True)
class Question:
    id: str
    text: str
    author_id: str
    author_name: str | None
    organisation: str | None
    anonymous: bool
    status: str
    asked_at: int
    client_key: str | None = None
    starred: bool = False
    edited: bool = False
    answered_at: int | None = None
    voters: set[str] = field(default_factory=set)
    reply: str | None = None  # a moderator's written answer, shown under the question
    replied_at: int | None = None
    # Where it was asked: ROOM through the room's on-site link (its printed QR code), else REMOTE;
    # the moderator alternates between the two.
    origin: str = REMOTE
    # Folded into another question (status MERGED): which one, the status it had, and the votes
    # the merge moved over (so that undoing it takes back exactly those).
    merged_into: str | None = None
    merged_from: str | None = None
    merged_votes: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "author_id": self.author_id,
            "author_name": self.author_name, "organisation": self.organisation,
            "anonymous": self.anonymous, "status": self.status, "asked_at": self.asked_at,
            "client_key": self.client_key, "starred": self.starred, "edited": self.edited,
            "answered_at": self.answered_at, "voters": sorted(self.voters),
            "reply": self.reply, "replied_at": self.replied_at, "origin": self.origin,
            "merged_into": self.merged_into, "merged_from": self.merged_from,
            "merged_votes": list(self.merged_votes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        return cls(**{**data, "voters": set(data.get("voters", ())),
                      "merged_votes": tuple(data.get("merged_votes", ()))})


@dataclass(slots=True)
class Poll:
    id: str
    question: str
    options: tuple[str, ...]
    multiple: bool
    created_at: int
    status: str = DRAFT
    results_visible: bool = False
    opened_at: int | None = None
    client_key: str | None = None
    # A choice poll's option indexes, a rating poll's mark (1..5), per voter.
    ballots: dict[str, tuple[int, ...]] = field(default_factory=dict)
    kind: str = CHOICE
    # A words or text poll's entries per voter, and the moderator's screening of each distinct
    # entry (absent: a word is shown, a text answer waits).
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    screened: dict[str, bool] = field(default_factory=dict)

    @property
    def voters(self) -> int:
        return len(self.ballots) + len(self.answers)

    def counts(self) -> list[int]:
        """Ballots per option (choice), or per mark from 1 to 5 (rating)."""
        if self.kind == RATING:
            counts = [0] * RATING_MARKS
            for (mark, *_) in self.ballots.values():
                counts[mark - 1] += 1
            return counts
        counts = [0] * len(self.options)
        for choices in self.ballots.values():
            for index in choices:
                counts[index] += 1
        return counts

    def average(self) -> float | None:
        """A rating poll's mean mark, one decimal; None without ballots or for other kinds."""
        if self.kind != RATING or not self.ballots:
            return None
        return round(sum(b[0] for b in self.ballots.values()) / len(self.ballots), 1)

    def shown(self, text: str) -> bool:
        """Whether an entry is shown to participants and the stage."""
        return self.screened.get(text, self.kind == WORDS)

    def answer_counts(self) -> dict[str, int]:
        """Each distinct entry and how many voters gave it, in the order first given."""
        counts: dict[str, int] = {}
        for entries in self.answers.values():
            for text in entries:
                counts[text] = counts.get(text, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "question": self.question,
            "options": list(self.options), "multiple": self.multiple,
            "created_at": self.created_at, "status": self.status,
            "results_visible": self.results_visible, "opened_at": self.opened_at,
            "client_key": self.client_key,
            "ballots": {pid: list(c) for pid, c in sorted(self.ballots.items())},
            "answers": {pid: list(a) for pid, a in sorted(self.answers.items())},
            "screened": dict(sorted(self.screened.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Poll:
        return cls(**{
            **data,
            "options": tuple(data["options"]),
            "ballots": {pid: tuple(c) for pid, c in data.get("ballots", {}).items()},
            "answers": {pid: tuple(a) for pid, a in data.get("answers", {}).items()},
            "screened": dict(data.get("screened", {})),
        })


@dataclass(frozen=True, slots=True)
class Ban:
    ban_id: str  # the question the ban was made through: how moderators name it
    name: str | None  # that question's author name, None if it was anonymous


@dataclass(frozen=True, slots=True)
class Caption:
    language: str
    text: str
    at: int
    final: bool = True
    client_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"language": self.language, "text": self.text, "at": self.at, "final": self.final,
                "client_key": self.client_key}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Caption:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class BoothMessage:
    id: str
    language: str
    text: str
    sender: str | None
    device: str | None
    at: int
    client_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "language": self.language, "text": self.text,
                "sender": self.sender, "device": self.device, "at": self.at,
                "client_key": self.client_key}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoothMessage:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One moderation act: who (the link's role), when, what (the command), on what, and the
    text it concerned as it was then (so "why was my question not shown?" has an answer)."""

    at: int
    by: str
    action: str
    target: str | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "by": self.by, "action": self.action, "target": self.target,
                "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogEntry:
        return cls(**data)


@dataclass(slots=True)
class Guest:
    id: str
    name: str
    status: str = WAITING

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guest:
        return cls(**data)


@dataclass(slots=True)
class RoomState:
    session_id: str
    interactive: bool = True
    premoderation: bool = True
    questions: dict[str, Question] = field(default_factory=dict)
    polls: dict[str, Poll] = field(default_factory=dict)
    stage_question_id: str | None = None
    stage_poll_id: str | None = None
    banned: dict[str, Ban] = field(default_factory=dict)  # by participant id
    # (author, client_key) -> question id, ("", client_key) -> poll id: a question or poll re-sent
    # after a reconnect is accepted once.
    client_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    # The transcript: final caption lines in the order they came, the oldest dropped past
    # live.domain.captions.TRANSCRIPT_LINES; and each language's line in progress (partial).
    captions: list[Caption] = field(default_factory=list)
    partials: dict[str, Caption] = field(default_factory=dict)
    stage_captions: str | None = None  # the language the stage screen shows captions in
    # Each booth's latest messages (live.domain.booth.KEPT), by language, oldest first. Only that
    # booth's interpreters are ever sent them (live/views.py).
    booth: dict[str, list[BoothMessage]] = field(default_factory=dict)
    guests: dict[str, Guest] = field(default_factory=dict)  # by id, in the order they joined
    # The moderators' private line to the speaker (live/domain/stage.py): {id, text, sent_at,
    # acknowledged_at}, and the countdown {ends_at, seconds}; None when there is none.
    stage_message: dict[str, Any] | None = None
    stage_timer: dict[str, Any] | None = None
    replay_published: bool = True  # a moderator may take the replay down
    log: list[LogEntry] = field(default_factory=list)  # the moderation log, oldest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "interactive": self.interactive,
            "premoderation": self.premoderation,
            "questions": [q.to_dict() for q in self.questions.values()],
            "polls": [p.to_dict() for p in self.polls.values()],
            "stage_question_id": self.stage_question_id, "stage_poll_id": self.stage_poll_id,
            "banned": {pid: {"ban_id": b.ban_id, "name": b.name}
                       for pid, b in sorted(self.banned.items())},
            "captions": [c.to_dict() for c in self.captions],
            "partials": {lang: c.to_dict() for lang, c in sorted(self.partials.items())},
            "stage_captions": self.stage_captions,
            "booth": {lang: [m.to_dict() for m in messages]
                      for lang, messages in sorted(self.booth.items())},
            "guests": [g.to_dict() for g in self.guests.values()],
            "replay_published": self.replay_published,
            "log": [entry.to_dict() for entry in self.log],
            "stage_message": self.stage_message, "stage_timer": self.stage_timer,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoomState:
        questions = [Question.from_dict(q) for q in data.get("questions", [])]
        polls = [Poll.from_dict(p) for p in data.get("polls", [])]
        return cls(
            session_id=data["session_id"],
            interactive=data.get("interactive", True),
            premoderation=data.get("premoderation", True),
            questions={q.id: q for q in questions},
            polls={p.id: p for p in polls},
            stage_question_id=data.get("stage_question_id"),
            stage_poll_id=data.get("stage_poll_id"),
            banned={pid: Ban(**b) for pid, b in data.get("banned", {}).items()},
            client_keys={
                (q.author_id, q.client_key): q.id for q in questions if q.client_key is not None
            } | {("", p.client_key): p.id for p in polls if p.client_key is not None},
            captions=[Caption.from_dict(c) for c in data.get("captions", [])],
            partials={lang: Caption.from_dict(c) for lang, c in data.get("partials", {}).items()},
            stage_captions=data.get("stage_captions"),
            booth={lang: [BoothMessage.from_dict(m) for m in messages]
                   for lang, messages in data.get("booth", {}).items()},
            guests={g["id"]: Guest.from_dict(g) for g in data.get("guests", [])},
            replay_published=data.get("replay_published", True),
            log=[LogEntry.from_dict(entry) for entry in data.get("log", [])],
            stage_message=data.get("stage_message"), stage_timer=data.get("stage_timer"),
        )
