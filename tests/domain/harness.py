"""The test harness shared by the domain tests: a room, a clock, an id counter, and the actors."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from live.domain import Actor, DomainError, Role, Room
from live.domain import commands as c
from live.domain import events as e

MOD = Actor(Role.MODERATOR)
ADMIN = Actor(Role.ADMIN)
STAGE = Actor(Role.STAGE)
STUDIO = Actor(Role.STUDIO)
CAPTIONER = Actor(Role.CAPTIONER)
# Remote guests: the link names each one (live/domain/production.py).
GUEST = Actor(Role.GUEST, guest="g1", guest_name="Anna Schmidt")
GUEST2 = Actor(Role.GUEST, guest="g2", guest_name="Kofi Mensah")
P1, P2, P3, P4 = (Actor(Role.PARTICIPANT, f"p{i}") for i in range(1, 5))


class Harness:
    """A room plus a clock and an id counter; checks that `handle` never mutates."""

    def __init__(self, *, interactive: bool = True, premoderation: bool = True) -> None:
        self.room = Room.new("s1", interactive=interactive, premoderation=premoderation)
        self.now = 1_600_765_200_000
        self._ids = itertools.count(1)
        self.logged: list[e.ModerationLogged] = []

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def send(self, command: c.Command, actor: Actor) -> list[e.Event]:
        self.now += 1_000
        before = copy.deepcopy(self.room.state)
        snapshot = self.room.snapshot()
        events = self.room.handle(command, actor, self.now, self.new_id)
        assert self.room.state == before, "handle mutated the room"
        assert self.room.snapshot() == snapshot, "handle mutated the room's snapshot"
        for event in events:
            self.room.apply(event)
        # The decisions; the moderation log line a moderator's act brings is checked on its own
        # (tests/domain/test_moderation_log.py).
        self.logged = [event for event in events if isinstance(event, e.ModerationLogged)]
        return [event for event in events if not isinstance(event, e.ModerationLogged)]

    def refused(self, command: c.Command, actor: Actor) -> str:
        return self.refusal(command, actor)[0]

    def refusal(self, command: c.Command, actor: Actor) -> tuple[str, str]:
        """The refused command's code and message (what the client is sent, and shows)."""
        before = copy.deepcopy(self.room.state)
        snapshot = self.room.snapshot()
        with pytest.raises(DomainError) as info:
            self.room.handle(command, actor, self.now, self.new_id)
        assert self.room.state == before, "a refused command changed the room"
        assert self.room.snapshot() == snapshot, "a refused command changed the room's snapshot"
        assert str(info.value) == info.value.message, "the exception's text is not its message"
        return info.value.code, info.value.message

    # -- questions

    def ask(self, actor: Actor = P1, text: str = "Quelle est la place des villes ?", **kw: Any
            ) -> str:
        [event] = self.send(c.AskQuestion(text, **kw), actor)
        assert isinstance(event, e.QuestionAsked)
        return event.question_id

    def status(self, question_id: str) -> str:
        return self.room.state.questions[question_id].status

    # -- polls

    def create_poll(self, question: str, options: list[str], multiple: bool = False,
                    client_key: str | None = None) -> str:
        [event] = self.send(c.CreatePoll(question, options, multiple, client_key), MOD)
        assert isinstance(event, e.PollCreated)
        return event.poll_id

    def poll(self, options: tuple[str, ...] = ("Oui", "Non", "Je ne sais pas"), *,
             multiple: bool = False, open_: bool = True) -> str:
        poll_id = self.create_poll("Êtes-vous d'accord ?", list(options), multiple)
        if open_:
            self.send(c.OpenPoll(poll_id), MOD)
        return poll_id

    def counts(self, poll_id: str) -> list[int]:
        return self.room.state.polls[poll_id].counts()
