"""What each audience sees of a room, and which audience is told of which event.

Three audiences share messages (each message is encoded once and the same bytes go to every socket of
that audience): moderators, the stage screen, participants. Messages meant for one participant (their
own questions, their votes, their ban) are private and built per target. Interpreters see what the
stage sees, and each booth (the interpreters of one language) is also told its own chat, which
no other audience or booth ever is: in events, in snapshots, in replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from live.domain import events as e
from live.domain.programme import Programme
from live.domain.state import (
    ANSWERED_KINDS,
    ANSWERS_SHOWN,
    DRAFT,
    PUBLIC_STATUSES,
    TEXT,
    BoothMessage,
    Caption,
    Guest,
    LogEntry,
    Poll,
    Question,
    RoomState,
)
from live.protocol import encode

Message = dict[str, Any]


class Audience(StrEnum):
    MODERATOR = "moderator"
    STAGE = "stage"
    PARTICIPANT = "participant"


PUBLIC_AUDIENCES = (Audience.STAGE, Audience.PARTICIPANT)
# Caption lines per language a client is sent on connecting (and keeps: static/js/caption-lines.js);
# the transcript is an export. Only the latest CAPTION_SCAN lines are looked through, so that a
# room connecting at once costs little: a language silent for that long starts empty.
CAPTION_LINES, CAPTION_SCAN = 8, 500
LOG_SENT = 200  # moderation log entries a moderator's console is sent on connecting


def question_view(q: Question, audience: Audience, *, mine: bool = False) -> Message:
    view: Message = {
        "id": q.id, "text": q.text, "author": None if q.anonymous else q.author_name,
        "organisation": None if q.anonymous else q.organisation, "status": q.status,
        "votes": len(q.voters), "starred": q.starred, "asked_at": q.asked_at,
        "answered_at": q.answered_at, "edited": q.edited, "reply": q.reply,
        "replied_at": q.replied_at, "origin": q.origin, "merged_into": q.merged_into,
    }
    if mine:
        view["mine"] = True
    return view


def poll_view(p: Poll, audience: Audience) -> Message:
    return {
        "id": p.id, "kind": p.kind, "question": p.question, "options": list(p.options),
        "multiple": p.multiple, "status": p.status, "results_visible": p.results_visible,
        **poll_results(p, audience), "opened_at": p.opened_at,
    }


def poll_results(p: Poll, audience: Audience) -> Message:
    """A poll's figures as `audience` may see them: its voters always; its counts, average and
    answers once revealed (moderators: always, with the answers they screened out)."""
    results: Message = {"ballots": p.voters, "counts": None, "average": None, "answers": None}
    if audience is not Audience.MODERATOR and not p.results_visible:
        return results
    if p.kind in ANSWERED_KINDS:
        results["answers"] = answers_view(p, moderator=audience is Audience.MODERATOR)
    else:
        results["counts"], results["average"] = p.counts(), p.average()
    return results


def answers_view(p: Poll, *, moderator: bool) -> list[Message]:
    """A words or text poll's distinct answers, the most given first, at most ANSWERS_SHOWN: to a
    moderator every one (the text answers still waiting first), to others the shown ones."""
    counts = p.answer_counts()
    listed = [(text, count, p.shown(text)) for text, count in counts.items()
              if moderator or p.shown(text)]
    waiting_first = moderator and p.kind == TEXT
    listed.sort(key=lambda a: (waiting_first and a[2], -a[1]))
    return [{"text": text, "count": count, "shown": shown}
            for text, count, shown in listed[:ANSWERS_SHOWN]]


def sees_question(q: Question, audience: Audience, participant_id: str | None) -> bool:
    return (audience is Audience.MODERATOR or q.status in PUBLIC_STATUSES
            or (participant_id is not None and q.author_id == participant_id))


def sees_poll(p: Poll, audience: Audience) -> bool:
    return audience is Audience.MODERATOR or p.status != DRAFT


def stage_view(s: RoomState) -> Message:
    return {"question_id": s.stage_question_id, "poll_id": s.stage_poll_id}


def settings_view(s: RoomState) -> Message:
    return {"premoderation": s.premoderation, "stage_captions": s.stage_captions,
            "replay_published": s.replay_published}


def guest_view(g: Guest) -> Message:
    return {"id": g.id, "name": g.name, "status": g.status}


def speaker_view(s: RoomState) -> Message:
    """What the moderators tell the speaker: the stage audience and moderators only."""
    return {"message": s.stage_message, "timer": s.stage_timer}


# Who sees the remote guests and whether they are on air: the studio and the guests themselves
# (the stage audience) and moderators; participants see them in the picture.
GUEST_AUDIENCES = (Audience.MODERATOR, Audience.STAGE)


def caption_view(caption: Caption) -> Message:
    return {"language": caption.language, "text": caption.text, "at": caption.at,
            "final": caption.final}


def captions_view(s: RoomState) -> Message:
    """The last CAPTION_LINES final lines of each language, in the order they came, and each
    language's line in progress."""
    per_language: dict[str, int] = {}
    latest: list[Caption] = []
    for caption in reversed(s.captions[-CAPTION_SCAN:]):
        seen = per_language.get(caption.language, 0)
        if seen < CAPTION_LINES:
            per_language[caption.language] = seen + 1
            latest.append(caption)
    return {"lines": [caption_view(c) for c in reversed(latest)],
            "partials": {lang: caption_view(c) for lang, c in sorted(s.partials.items())}}


def booth_message_view(m: BoothMessage) -> Message:
    return {"id": m.id, "language": m.language, "text": m.text, "at": m.at, "sender": m.sender,
            "device": m.device}


def me_view(s: RoomState, participant_id: str) -> Message:
    return {
        "participant_id": participant_id,
        "upvotes": [q.id for q in s.questions.values() if participant_id in q.voters],
        "ballots": {p.id: list(p.ballots.get(participant_id) or p.answers[participant_id])
                    for p in s.polls.values()
                    if participant_id in p.ballots or participant_id in p.answers},
        "banned": participant_id in s.banned,
    }


def banned_view(s: RoomState) -> list[Message]:
    return [{"ban_id": ban.ban_id, "name": ban.name} for ban in s.banned.values()]


def state_view(s: RoomState, session: Message, audience: Audience, participant_id: str | None,
               connected: int, *, booth: str | None = None) -> Message:
    """The whole state as one audience (and, for a participant, one person; for an interpreter,
    one booth) sees it."""
    view: Message = {
        "session": session,
        "settings": settings_view(s),
        "questions": [
            question_view(q, audience, mine=q.author_id == participant_id)
            for q in s.questions.values() if sees_question(q, audience, participant_id)
        ],
        "polls": [poll_view(p, audience) for p in s.polls.values() if sees_poll(p, audience)],
        "stage": stage_view(s),
        "captions": captions_view(s),
        "connected": connected,
    }
    if audience is Audience.PARTICIPANT and participant_id is not None:
        view["me"] = me_view(s, participant_id)
    if audience is Audience.MODERATOR:
        view["banned"] = banned_view(s)
        view["log"] = [entry.to_dict() for entry in s.log[-LOG_SENT:]]
    if audience in GUEST_AUDIENCES:
        view["guests"] = [guest_view(g) for g in s.guests.values()]
        view["speaker"] = speaker_view(s)
    if booth is not None:
        view["booth"] = [booth_message_view(m) for m in s.booth.get(booth, ())]
    return view


def tally_view(s: RoomState, audience: Audience, seq: int) -> Message:
    """Current vote counts: sent coalesced, a few times a second at most, never per vote."""
    return {
        "type": "Tally", "seq": seq, "scope": "all" if audience is Audience.MODERATOR else "public",
        "questions": {q.id: len(q.voters) for q in s.questions.values()
                      if q.voters and sees_question(q, audience, None)},
        "polls": {p.id: poll_results(p, audience)
                  for p in s.polls.values() if sees_poll(p, audience)},
    }


@dataclass(slots=True)
class Fanout:
    """One event's messages: one per audience (None: not told), private ones per participant,
    and one per booth (by language) for that booth's interpreters alone.

    A participant with a private message gets it instead of the participants' shared one.
    """

    shared: dict[Audience, Message] = field(default_factory=dict)
    private: dict[str, Message] = field(default_factory=dict)
    booth: dict[str, Message] = field(default_factory=dict)


_QUESTION_EVENTS = (
    e.QuestionAsked, e.QuestionApproved, e.QuestionEdited, e.QuestionDismissed, e.QuestionStarred,
    e.QuestionAnswered, e.QuestionArchived, e.QuestionRestored, e.QuestionPutOnStage,
    e.QuestionReplied,
)
_POLL_EVENTS = (e.PollOpened, e.PollClosed, e.PollPutOnStage, e.ResultsRevealed, e.ResultsHidden,
                e.PollReset, e.AnswerScreened)


def project(event: e.Event, envelope: Message, s: RoomState) -> Fanout:
    """Who is told of `event` (already applied to `s`), and with which message."""
    out = Fanout()
    everyone = (Audience.MODERATOR, *PUBLIC_AUDIENCES)

    def shared(audiences: tuple[Audience, ...], **fields: Any) -> None:
        for audience in audiences:
            out.shared[audience] = {**envelope, **fields}

    match event:
        case e.QuestionUpvoted() | e.UpvoteWithdrawn():
            out.private[event.participant_id] = {
                **envelope, "question_id": event.question_id,
                "me": me_view(s, event.participant_id)}
        case e.BallotCast():
            out.private[event.participant_id] = {
                **envelope, "poll_id": event.poll_id, "me": me_view(s, event.participant_id)}
        case _ if isinstance(event, _QUESTION_EVENTS):
            q = s.questions[event.question_id]
            previous = getattr(event, "previous", q.status)
            was_public = not isinstance(event, e.QuestionAsked) and previous in PUBLIC_STATUSES
            # Any status change may move the stage; the stage view is small, so it always rides along.
            extra: Message = {"stage": stage_view(s)}
            shared((Audience.MODERATOR,), question_id=q.id,
                   question=question_view(q, Audience.MODERATOR), **extra)
            for audience in PUBLIC_AUDIENCES:
                if q.public:
                    shared((audience,), question_id=q.id, question=question_view(q, audience),
                           **extra)
                elif was_public:
                    shared((audience,), question_id=q.id, question=None, **extra)
            out.private[q.author_id] = {
                **envelope, "question_id": q.id,
                "question": question_view(q, Audience.PARTICIPANT, mine=True), **extra}
        case e.QuestionMerged() | e.QuestionUnmerged():
            _merge(out, event, envelope, s)
        case e.ModerationLogged():
            # From the event, not the state: a replay projects old events onto today's state.
            shared((Audience.MODERATOR,), log_entry=LogEntry(
                event.at, event.by, event.action, event.target, event.detail).to_dict())
        case e.StageCleared():
            shared(everyone, stage=stage_view(s))
        case e.PremoderationSet() | e.StageCaptionsSet() | e.ReplayPublishedSet():
            shared(everyone, settings=settings_view(s))
        case e.StageMessageSent() | e.StageMessageAcknowledged() | e.StageTimerSet():
            shared(GUEST_AUDIENCES, speaker=speaker_view(s))
        case e.GuestJoined() | e.GuestOnAirSet():
            shared(GUEST_AUDIENCES, guest=guest_view(s.guests[event.guest_id]))
        case e.CaptionPosted():
            shared(everyone, caption=caption_view(Caption(
                event.language, event.text, event.posted_at, event.final)))
        case e.BoothMessageSent():
            out.booth[event.language] = {**envelope, "booth_message": booth_message_view(
                BoothMessage(event.message_id, event.language, event.text, event.sender,
                             event.device, event.sent_at))}
        case e.PollDeleted():  # only a draft, which only moderators saw
            shared((Audience.MODERATOR,), poll_id=event.poll_id, poll=None)
        case e.PollCreated() | e.PollEdited():
            p = s.polls[event.poll_id]
            shared((Audience.MODERATOR,), poll_id=p.id, poll=poll_view(p, Audience.MODERATOR))
        case _ if isinstance(event, _POLL_EVENTS):
            p = s.polls[event.poll_id]
            for audience in everyone:
                if sees_poll(p, audience):
                    shared((audience,), poll_id=p.id, poll=poll_view(p, audience),
                           stage=stage_view(s))
        case e.ParticipantBanned() | e.ParticipantUnbanned():
            dismissed = getattr(event, "dismissed", ())
            shared((Audience.MODERATOR,), banned=banned_view(s), questions=[
                question_view(s.questions[qid], Audience.MODERATOR) for qid in dismissed])
            out.private[event.participant_id] = {
                **envelope, "me": me_view(s, event.participant_id), "questions": [
                    question_view(s.questions[qid], Audience.PARTICIPANT, mine=True)
                    for qid in dismissed]}
    return out


def _merge(out: Fanout, event: e.QuestionMerged | e.QuestionUnmerged, envelope: Message,
           s: RoomState) -> None:
    """A merge changes two questions: the duplicate leaves the public list (or comes back), the
    question it went into gains (or gives back) its votes. The duplicate's asker is shown where it
    went; each voter whose vote moved is told their own votes."""
    source, target = s.questions[event.question_id], s.questions[event.into_id]
    stage = {"stage": stage_view(s)}
    out.shared[Audience.MODERATOR] = {**envelope, "questions": [
        question_view(source, Audience.MODERATOR), question_view(target, Audience.MODERATOR)],
        **stage}
    public: Message = {**envelope, "question_id": source.id,
                       "question": question_view(source, Audience.PARTICIPANT)
                       if source.public else None,
                       "questions": [question_view(target, Audience.PARTICIPANT)], **stage}
    for audience in PUBLIC_AUDIENCES:
        out.shared[audience] = public
    moved = event.moved if isinstance(event, e.QuestionMerged) else event.taken
    for pid in {*moved, source.author_id, target.author_id}:
        private = {**public, "me": me_view(s, pid)}
        if pid == source.author_id:
            private["question"] = question_view(source, Audience.PARTICIPANT, mine=True)
        if pid == target.author_id:
            private["questions"] = [question_view(target, Audience.PARTICIPANT, mine=True)]
        out.private[pid] = private


def session_view(programme: Programme, session_id: str) -> Message:
    s = programme.session(session_id)
    assert s is not None
    return {
        "id": s.id, "title": s.title, "description": s.description, "date": s.day.isoformat(),
        "start": s.start.strftime("%H:%M"), "end": s.end.strftime("%H:%M"), "kind": s.kind,
        "room": s.room, "interactive": s.interactive, "streamed": s.streamed,
        "languages": list(s.languages),
    }


def booth_key(language: str) -> tuple[str, str]:
    """Where `encode_fanout` puts a booth's message (apart from audiences and participant ids)."""
    return ("booth", language)


def encode_fanout(fanout: Fanout) -> dict[Any, str]:
    """Each audience's, each private and each booth's message, encoded once."""
    encoded: dict[Any, str] = {a: encode(m) for a, m in fanout.shared.items()}
    encoded.update({pid: encode(m) for pid, m in fanout.private.items()})
    encoded.update({booth_key(lang): encode(m) for lang, m in fanout.booth.items()})
    return encoded


def message_for(fanout: Fanout, audience: Audience, pid: str | None,
                booth: str | None = None) -> str | None:
    """One subscriber's message of an event, if it gets one: a participant's private message,
    else an interpreter's booth's, else its audience's."""
    if pid is not None and pid in fanout.private:
        return encode(fanout.private[pid])
    if booth is not None and booth in fanout.booth:
        return encode(fanout.booth[booth])
    message = fanout.shared.get(audience)
    return encode(message) if message is not None else None
