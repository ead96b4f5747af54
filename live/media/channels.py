"""Interpretation channels: one audio broadcast per language, and what each listener hears.

A session's floor is its studio's broadcast, keyed by the session id. Each interpretation language
is a broadcast of its own, keyed `session@language`, published over WHIP by that language's
interpreter (the booth's current voice: a partner taking over replaces the connection, as a
reconnecting studio does) and followed across workers like the floor (live/media/cluster.py).

A player negotiates, beside the floor's video, up to two audio tracks: the *programme* (what it
chose to hear) and the *floor under* it (the original, which the browser mixes in softly). Both
are the floor's or a channel's packets, forwarded as they came, never decoded or mixed here:
- chose the original: programme = floor; nothing under;
- chose a language whose interpreter is on air: programme = that channel; under = the floor if
  the listener asked for it (its level above zero), else nothing;
- chose a language with nobody on air: programme = floor (the player says so); nothing under.
A listener receives only the audio it chose. Switching is moving a track from one broadcast's set
to another's: no renegotiation, so the video never stops; the audio timelines of a session share
the wall clock (Broadcast._timeline), so the moved track's timestamps go on smoothly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from live.media.broadcast import Broadcast, ForwardTrack

if TYPE_CHECKING:
    from live.media.relay import Relay, Resource

SEPARATOR = "@"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def channel_key(session_id: str, language: str) -> str:
    return f"{session_id}{SEPARATOR}{language}"


def split_key(key: str) -> tuple[str, str | None]:
    """(session id, language) of a broadcast key; language None for the floor."""
    session_id, _, language = key.partition(SEPARATOR)
    return session_id, language or None


class ChoiceError(ValueError):
    """A listener's choice that cannot be taken; the message says why."""


@dataclass
class Choice:
    """What one player asked to hear."""

    language: str | None = None  # None: the original (the floor)
    floor_under: bool = True  # the original under the interpretation (the player's level > 0)

    @classmethod
    def parse(cls, data: object, languages: tuple[str, ...] | None) -> Choice:
        """From the player's JSON: {"language": "en" | null, "floor": true | false}, the
        language one of the session's `languages` (None: checked already, by the worker that
        took the request and forwarded it here)."""
        if not isinstance(data, dict) or set(data) - {"language", "floor"}:
            raise ChoiceError('expected {"language": code or null, "floor": true or false}')
        language, floor = data.get("language"), data.get("floor", True)
        if language is not None and (not isinstance(language, str)
                                     or not _LANGUAGE.match(language)):
            raise ChoiceError("language must be a language code or null")
        if language is not None and languages is not None and language not in languages:
            raise ChoiceError(f"this session is not interpreted into {language!r}")
        if not isinstance(floor, bool):
            raise ChoiceError("floor must be true or false")
        return cls(language, floor)


def parse_choice(body: bytes, languages: tuple[str, ...] | None) -> Choice:
    """A player's audio choice from a JSON body."""
    try:
        data = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise ChoiceError("the body is not JSON") from None
    return Choice.parse(data, languages)


@dataclass
class Listener:
    """A player's audio: its tracks and which broadcast feeds each."""

    session_id: str
    programme: ForwardTrack
    under: ForwardTrack | None  # None: the player offered one audio section only
    choice: Choice
    programme_from: Broadcast | None = None
    under_from: Broadcast | None = None


class Listening:
    """Routes every listener's audio tracks of this worker to the right broadcasts."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.listeners: dict[str, Listener] = {}  # WHEP resource id -> its audio

    def join(self, resource: Resource, programme: ForwardTrack, under: ForwardTrack | None,
             choice: Choice) -> None:
        """A player's connection is up: its audio starts flowing as chosen."""
        self.listeners[resource.id] = Listener(resource.session_id, programme, under, choice)
        self.route(resource.id)

    def leave(self, resource_id: str) -> None:
        listener = self.listeners.pop(resource_id, None)
        if listener is None:
            return
        for track, source in ((listener.programme, listener.programme_from),
                              (listener.under, listener.under_from)):
            if track is not None and source is not None:
                source.detach(track)
        self._release_unwanted(listener.session_id, listener.choice.language)

    def choose(self, resource: Resource, choice: Choice) -> None:
        """A player changed language or floor level: takes effect on the next packet."""
        listener = self.listeners.get(resource.id)
        if listener is None:  # not connected yet: join() takes the choice
            resource.choice = choice
            return
        previous = listener.choice.language
        listener.choice = resource.choice = choice
        self.route(resource.id)
        self._release_unwanted(listener.session_id, previous)

    def wanted(self, key: str) -> bool:
        """Whether a listener here chose the channel `key` (an edge keeps following it)."""
        session_id, language = split_key(key)
        return language is not None and any(
            listener.session_id == session_id and listener.choice.language == language
            for listener in self.listeners.values())

    def route(self, resource_id: str) -> None:
        listener = self.listeners[resource_id]
        session_id = listener.session_id
        floor = self.relay.broadcast(session_id)
        channel = None
        if listener.choice.language is not None:
            key = channel_key(session_id, listener.choice.language)
            channel = self.relay.broadcast(key)
            if not channel.live:
                self.relay.follow_channel(key)  # on air on another worker, or later
        on_air = channel is not None and channel.live
        programme = channel if on_air else floor
        under = floor if on_air and listener.choice.floor_under else None
        listener.programme_from = _move(listener.programme, listener.programme_from, programme)
        if listener.under is not None:
            listener.under_from = _move(listener.under, listener.under_from, under)

    def reroute(self, session_id: str) -> None:
        """A channel of the session went on or off air: its listeners move."""
        for resource_id, listener in list(self.listeners.items()):
            if listener.session_id == session_id:
                self.route(resource_id)

    def _release_unwanted(self, session_id: str, language: str | None) -> None:
        """Nobody here wants that channel any more: stop following it from another worker."""
        if language is not None and not self.wanted(channel_key(session_id, language)):
            self.relay.unfollow_channel(channel_key(session_id, language))


def _move(track: ForwardTrack, current: Broadcast | None, target: Broadcast | None
          ) -> Broadcast | None:
    if current is target:
        return current
    if current is not None:
        current.detach(track)
    track.clear()
    if target is not None:
        target.attach(track, until_ended=False)
    return target
