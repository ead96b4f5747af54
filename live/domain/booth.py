"""The booth chat: short lines between the interpreters of one language's channel.

Two interpreters share a booth and take turns on air; while one speaks, the other prepares the
next speaker's name, a figure, a word, or says "I take over at the hour". They cannot talk aloud
(the microphone is open), so they write. A booth is the language of the sender's link (`Actor.
language`), never a field of the command: no one can write into another language's booth.

Messages are bounded (BOOTH_MESSAGE_CHARS each, the latest KEPT per booth, older ones dropped):
a booth chat is for the moment, not a record. Who is told of them (that booth's interpreters
only, never moderators, the stage, participants or another booth) is live/views.py's business.
"""

from __future__ import annotations

from collections.abc import Callable

from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor
from live.domain.errors import DomainError
from live.domain.state import (
    BOOTH_MESSAGE_CHARS,
    BOOTH_NAME_CHARS,
    CLIENT_KEY_CHARS,
    BoothMessage,
    RoomState,
)
from live.domain.text import clean_text

KEPT = 50  # messages per booth: a session's worth of notes, small in every snapshot


def _one_line(value: str | None, limit: int, what: str, *, required: bool) -> str | None:
    """The usual cleaning, then runs of white space (newlines too) made one space: the chat
    shows a line per message."""
    text = clean_text(value, limit, what, required=required)
    return None if text is None else " ".join(text.split())


def booth_of(actor: Actor, languages: tuple[str, ...]) -> str:
    """The booth the actor writes in: their link's language, one the session interprets into."""
    if actor.language is None:
        raise DomainError("forbidden", "your link names no booth")
    if actor.language not in languages[1:]:
        raise DomainError("forbidden", f"this session has no booth in {actor.language!r}")
    return actor.language


def send(state: RoomState, languages: tuple[str, ...], cmd: c.SendBoothMessage, actor: Actor,
         now: int, new_id: Callable[[str], str]) -> list[e.Event]:
    language = booth_of(actor, languages)
    key = clean_text(cmd.client_key, CLIENT_KEY_CHARS, "client_key", required=False)
    if key is not None and any(m.client_key == key for m in state.booth.get(language, ())):
        return []  # the same message re-sent after a reconnect: kept already
    text = _one_line(cmd.text, BOOTH_MESSAGE_CHARS, "message", required=True)
    assert text is not None
    sender = _one_line(cmd.name, BOOTH_NAME_CHARS, "name", required=False)
    device = clean_text(cmd.device, CLIENT_KEY_CHARS, "device", required=False)
    return [e.BoothMessageSent(new_id("b"), language, text, sender, device, now, key)]


def apply(state: RoomState, event: e.BoothMessageSent) -> None:
    messages = state.booth.setdefault(event.language, [])
    messages.append(BoothMessage(event.message_id, event.language, event.text, event.sender,
                                 event.device, event.sent_at, event.client_key))
    if len(messages) > KEPT:
        del messages[: len(messages) - KEPT]
