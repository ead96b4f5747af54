"""The booth chat in the domain: who may write, in which booth, what a message becomes, the
bounds, a message re-sent after a reconnect, and replay from a snapshot.

Who is told of a message (that booth's interpreters only) is tests/test_booth_wire.py's; every
command against every role over the socket is tests/e2e/test_authorization.py's."""

from __future__ import annotations

import copy
import json

import pytest

from live.domain import Actor, DomainError, Role, Room, booth
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import BOOTH_MESSAGE_CHARS, BOOTH_NAME_CHARS, BoothMessage

LANGUAGES = ("fr", "en", "es")  # the floor, then the booths
EN, ES = Actor(Role.INTERPRETER, language="en"), Actor(Role.INTERPRETER, language="es")


class Booths:
    """A room of a session in French with English and Spanish booths; `handle` never mutates."""

    def __init__(self, *, interactive: bool = True) -> None:
        self.room = Room.new("s1", interactive=interactive, languages=LANGUAGES)
        self.now = 1_600_765_200_000
        self.ids = 0

    def new_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}_{self.ids}"

    def send(self, command: c.Command, actor: Actor = EN) -> list[e.Event]:
        self.now += 1_000
        before = copy.deepcopy(self.room.state)
        events = self.room.handle(command, actor, self.now, self.new_id)
        assert self.room.state == before, "handle mutated the room"
        for event in events:
            self.room.apply(event)
        return events

    def refused(self, command: c.Command, actor: Actor = EN) -> str:
        before = copy.deepcopy(self.room.state)
        with pytest.raises(DomainError) as info:
            self.room.handle(command, actor, self.now, self.new_id)
        assert self.room.state == before
        return info.value.code

    def texts(self, language: str) -> list[str]:
        return [m.text for m in self.room.state.booth.get(language, [])]


def test_an_interpreter_writes_in_the_booth_of_their_link() -> None:
    b = Booths()
    [event] = b.send(c.SendBoothMessage("Prochain orateur : M. Diallo", name="Anne",
                                        device="tab-1", client_key="k1"))
    assert event == e.BoothMessageSent("b_1", "en", "Prochain orateur : M. Diallo", "Anne",
                                       "tab-1", b.now, "k1")
    assert b.room.state.booth == {"en": [BoothMessage(
        "b_1", "en", "Prochain orateur : M. Diallo", "Anne", "tab-1", b.now, "k1")]}
    [event] = b.send(c.SendBoothMessage("Vale"), ES)
    assert isinstance(event, e.BoothMessageSent)
    assert (event.language, event.sender, event.device) == ("es", None, None)
    assert b.texts("en") == ["Prochain orateur : M. Diallo"] and b.texts("es") == ["Vale"]


OTHER_ROLES = [role for role in Role if role is not Role.INTERPRETER]


# Even with a language (which only an interpreter link carries): the capability is the
# interpreter's alone.
@pytest.mark.parametrize("language", [None, "en"], ids=["no language", "with a language"])
@pytest.mark.parametrize("role", OTHER_ROLES, ids=[role.value for role in OTHER_ROLES])
def test_no_other_role_may_write_in_a_booth(role: Role, language: str | None) -> None:
    actor = Actor(role, "u_anna" if role is Role.PARTICIPANT else None, language=language)
    assert Booths().refused(c.SendBoothMessage("Bonjour"), actor) == "forbidden"


@pytest.mark.parametrize("language", [None, "fr", "de"],
                         ids=["no language", "the floor's", "not this session's"])
def test_an_interpreter_needs_a_booth_of_this_session(language: str | None) -> None:
    b = Booths()
    assert b.refused(c.SendBoothMessage("Bonjour"), Actor(Role.INTERPRETER, language=language)) \
        == "forbidden"


def test_a_message_is_one_clean_line_within_its_bounds() -> None:
    b = Booths()
    b.send(c.SendBoothMessage("  deux\nlignes\t et\u202e  espaces  ",
                              name=" Anne\u200b\n Martin "))
    [message] = b.room.state.booth["en"]
    assert (message.text, message.sender) == ("deux lignes et espaces", "Anne Martin")
    b.send(c.SendBoothMessage("x" * BOOTH_MESSAGE_CHARS, name="n" * BOOTH_NAME_CHARS, device="d" * 64))
    for command in (c.SendBoothMessage(""), c.SendBoothMessage(" \n\u200b"),
                    c.SendBoothMessage("x" * (BOOTH_MESSAGE_CHARS + 1)),
                    c.SendBoothMessage("a\x00b"), c.SendBoothMessage("a\x85b"),
                    c.SendBoothMessage("ok", name="n" * (BOOTH_NAME_CHARS + 1)),
                    c.SendBoothMessage("ok", name="a\x07"),
                    c.SendBoothMessage("ok", device="d" * 65),
                    c.SendBoothMessage("ok", client_key="k" * 65)):
        assert b.refused(command) == "invalid", command
    assert len(b.room.state.booth["en"]) == 2
    b.send(c.SendBoothMessage("sans nom", name=" \u200b "))  # a blank name is no name
    assert b.room.state.booth["en"][-1].sender is None


def test_a_message_resent_with_its_key_is_kept_once_per_booth() -> None:
    b = Booths()
    assert b.send(c.SendBoothMessage("Une fois", client_key="k1"))
    assert b.send(c.SendBoothMessage("Une fois", client_key="k1")) == []
    assert b.send(c.SendBoothMessage("Une fois", client_key="k1"), ES)  # another booth's key
    assert b.send(c.SendBoothMessage("Une fois"))  # no key: nothing to tell it by
    assert b.texts("en") == ["Une fois", "Une fois"] and b.texts("es") == ["Une fois"]


def test_each_booth_keeps_its_latest_messages_only() -> None:
    b = Booths()
    b.send(c.SendBoothMessage("seul", client_key="first"), ES)
    for i in range(booth.KEPT + 5):
        b.send(c.SendBoothMessage(f"message {i}", client_key=f"k{i}"))
    assert b.texts("en") == [f"message {i}" for i in range(5, booth.KEPT + 5)]
    assert b.texts("es") == ["seul"]
    # A key is recognised among the kept messages: a dropped one's is not.
    assert b.send(c.SendBoothMessage("again", client_key="k5")) == []
    assert b.send(c.SendBoothMessage("again", client_key="k0"))


def test_a_session_without_questions_and_polls_has_its_booth_chat() -> None:
    b = Booths(interactive=False)
    assert b.send(c.SendBoothMessage("On commence ?"))
    assert b.refused(c.AskQuestion("Et moi ?"), Actor(Role.PARTICIPANT, "u_anna")) == \
        "not_interactive"


def test_the_booths_survive_a_snapshot_and_a_replay() -> None:
    b = Booths()
    events = [*b.send(c.SendBoothMessage("one", name="Anne", device="t1", client_key="k1")),
              *b.send(c.SendBoothMessage("uno"), ES),
              *(ev for i in range(booth.KEPT - 1) for ev in b.send(c.SendBoothMessage(f"m{i}")))]
    data = json.loads(json.dumps(b.room.snapshot()))
    restored = Room.from_snapshot(data, languages=LANGUAGES)
    assert restored.state == b.room.state
    replayed = Room.new("s1", languages=LANGUAGES)
    for event in events:
        replayed.apply(e.event_from_dict(json.loads(json.dumps(e.event_to_dict(event)))))
    assert replayed.state == b.room.state
    # The key is still recognised after the restore, as before it.
    assert restored.handle(c.SendBoothMessage("one", client_key="k1"), EN, 0, str) == []
    old = Room.from_snapshot({"session_id": "s1"}, languages=LANGUAGES)  # a snapshot from before
    assert old.state.booth == {}
