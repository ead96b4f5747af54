"""Live captions in the domain: final and partial lines, the transcript's bounds, the stage's choice.

The roles that may and may not caption or switch the stage's captions are in test_moderation.py
with every other command; here, what a line becomes, and replay from a snapshot.
"""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live.domain import Actor, DomainError, Role, Room, captions
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import CAPTION_CHARS, Caption
from tests.domain.harness import CAPTIONER, MOD

LANGUAGES = ("fr", "en", "es")
INTERPRETER = Actor(Role.INTERPRETER)


class Room3:
    """A room of a session in French with English and Spanish interpretation."""

    def __init__(self, *, interactive: bool = True) -> None:
        self.room = Room.new("s1", interactive=interactive, languages=LANGUAGES)
        self.now = 1_600_765_200_000

    def send(self, command: c.Command, actor: Actor = CAPTIONER) -> list[e.Event]:
        self.now += 1_000
        before = copy.deepcopy(self.room.state)
        events = self.room.handle(command, actor, self.now, str)
        assert self.room.state == before, "handle mutated the room"
        for event in events:
            self.room.apply(event)
        return [event for event in events if not isinstance(event, e.ModerationLogged)]

    def refused(self, command: c.Command, actor: Actor = CAPTIONER) -> str:
        before = copy.deepcopy(self.room.state)
        with pytest.raises(DomainError) as info:
            self.room.handle(command, actor, self.now, str)
        assert self.room.state == before
        return info.value.code

    @property
    def transcript(self) -> list[tuple[str, str]]:
        return [(line.language, line.text) for line in self.room.state.captions]


def test_a_final_line_joins_the_transcript_with_the_time_it_came() -> None:
    r = Room3()
    [event] = r.send(c.PostCaption("fr", "Bienvenue à toutes et à tous."))
    assert event == e.CaptionPosted("fr", "Bienvenue à toutes et à tous.", True, r.now)
    assert r.room.state.captions == [Caption("fr", "Bienvenue à toutes et à tous.", r.now)]


def test_partials_replace_each_other_and_never_reach_the_transcript() -> None:
    r = Room3()
    r.send(c.PostCaption("fr", "Bienvenue", final=False))
    r.send(c.PostCaption("fr", "Bienvenue à toutes", final=False))
    r.send(c.PostCaption("en", "Welcome", final=False))
    assert r.transcript == []
    assert {lang: p.text for lang, p in r.room.state.partials.items()} == {
        "fr": "Bienvenue à toutes", "en": "Welcome"}
    assert all(not p.final for p in r.room.state.partials.values())
    # The same guess again changes nothing: nothing is stored or sent.
    assert r.send(c.PostCaption("fr", "Bienvenue à toutes", final=False)) == []
    # The final line ends its language's line in progress, not the others'.
    r.send(c.PostCaption("fr", "Bienvenue à toutes et à tous."))
    assert r.transcript == [("fr", "Bienvenue à toutes et à tous.")]
    assert list(r.room.state.partials) == ["en"]


def test_a_partial_line_is_its_languages_line_in_progress() -> None:
    r = Room3()
    assert r.send(c.PostCaption("en", " Wel\ncome ", final=False)) == [
        e.CaptionPosted("en", "Wel come", False, r.now)]
    assert r.room.state.partials == {"en": Caption("en", "Wel come", r.now, False)}


def test_a_line_is_one_line_of_clean_text() -> None:
    r = Room3()
    r.send(c.PostCaption("fr", "  Deux\nlignes,\r\n\tdes   espaces\u200b et un\u202e piège  "))
    assert r.transcript == [("fr", "Deux lignes, des espaces et un piège")]
    r.send(c.PostCaption("en", "x" * CAPTION_CHARS))
    assert r.refused(c.PostCaption("en", "x" * (CAPTION_CHARS + 1))) == "invalid"
    for text in ("", "   \n ", "\u200b", "nul\x00", "csi\x9b"):
        assert r.refused(c.PostCaption("fr", text)) == "invalid", repr(text)
        assert r.refused(c.PostCaption("fr", text, final=False)) == "invalid", repr(text)


@pytest.mark.parametrize("language", ["de", "FR", "", "fr ", "*"])
def test_only_the_sessions_languages(language: str) -> None:
    r = Room3()
    assert r.refused(c.PostCaption(language, "Bonjour")) == "invalid"
    assert r.refused(c.PostCaption(language, "Bonjour", final=False)) == "invalid"
    assert r.refused(c.SetStageCaptions(True, language), MOD) == "invalid"


def test_a_line_re_sent_with_its_key_is_kept_once() -> None:
    r = Room3()
    r.send(c.PostCaption("fr", "Première ligne.", client_key="k1"))
    assert r.send(c.PostCaption("fr", "Première ligne.", client_key="k1")) == []
    assert r.send(c.PostCaption("fr", "Première ligne.", client_key=" k1 ")) == []
    # Without a key, or with another one, the same words are another line: speakers repeat.
    r.send(c.PostCaption("fr", "Première ligne."))
    r.send(c.PostCaption("fr", "Première ligne.", client_key="k2"))
    assert r.transcript == [("fr", "Première ligne.")] * 3
    assert r.refused(c.PostCaption("fr", "x", client_key="k" * 65)) == "invalid"
    # Keys are remembered among the latest lines only: what a reconnect can re-send.
    for i in range(captions.KEY_WINDOW):
        r.send(c.PostCaption("en", f"line {i}"))
    assert len(r.send(c.PostCaption("fr", "Première ligne.", client_key="k1"))) == 1


def test_the_transcript_keeps_the_latest_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(captions, "TRANSCRIPT_LINES", 5)
    r = Room3()
    for i in range(8):
        r.send(c.PostCaption(LANGUAGES[i % 3], f"line {i}"))
    assert [text for _, text in r.transcript] == [f"line {i}" for i in range(3, 8)]


def test_the_stage_shows_the_floor_language_unless_told_otherwise() -> None:
    r = Room3()
    assert r.room.state.stage_captions is None  # off by default
    assert r.send(c.SetStageCaptions(True), MOD) == [e.StageCaptionsSet("fr")]
    assert r.send(c.SetStageCaptions(True), MOD) == []
    assert r.send(c.SetStageCaptions(True, "es"), MOD) == [e.StageCaptionsSet("es")]
    assert r.room.state.stage_captions == "es"
    # Off whatever the language said with it.
    assert r.send(c.SetStageCaptions(False, "de"), MOD) == [e.StageCaptionsSet(None)]
    assert r.send(c.SetStageCaptions(False), MOD) == []


@pytest.mark.parametrize("actor", [INTERPRETER, Actor(Role.PARTICIPANT, "p1")],
                         ids=["interpreter", "participant"])
def test_interpreters_and_participants_do_not_caption(actor: Actor) -> None:
    r = Room3()
    assert r.refused(c.PostCaption("en", "Hello"), actor) == "forbidden"
    assert r.refused(c.SetStageCaptions(True), actor) == "forbidden"


def test_captions_work_in_a_session_without_questions() -> None:
    r = Room3(interactive=False)
    r.send(c.PostCaption("fr", "Bonjour."))
    r.send(c.SetStageCaptions(True), MOD)
    assert r.transcript == [("fr", "Bonjour.")] and r.room.state.stage_captions == "fr"
    assert r.refused(c.AskQuestion("Et moi ?"), Actor(Role.PARTICIPANT, "p1")) == "not_interactive"


# -- replay ---------------------------------------------------------------------------------------

TEXTS = st.sampled_from(["Bonjour.", "Bonjour", " deux\nlignes ", "", "x" * 300, "x" * 301,
                         "nul\x00", "a & b <i> --> c"])
KEYS = st.one_of(st.none(), st.sampled_from(["k1", "k2", "", " k1 "]))
CAPTION_COMMANDS = st.one_of(
    st.builds(c.PostCaption, st.sampled_from([*LANGUAGES, "de"]), TEXTS, st.booleans(), KEYS),
    st.builds(c.SetStageCaptions, st.booleans(), st.sampled_from([None, *LANGUAGES, "de"])),
)
ACTORS = st.sampled_from([CAPTIONER, CAPTIONER, CAPTIONER, MOD, INTERPRETER])


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(commands=st.lists(st.tuples(CAPTION_COMMANDS, ACTORS), max_size=40))
def test_replay_from_any_snapshot_reaches_the_live_room(commands: list[tuple[c.Command, Actor]]
                                                        ) -> None:
    room = Room.new("s1", languages=LANGUAGES)
    snapshots, steps = [room.snapshot()], []
    for now, (command, actor) in enumerate(commands, start=1):
        try:
            events = room.handle(command, actor, now * 1_000, str)
        except DomainError as error:
            assert error.code in ("invalid", "forbidden")
            continue
        for event in events:
            room.apply(event)
        steps.append(events)
        snapshots.append(room.snapshot())
        s = room.state
        assert all(line.final and line.text == " ".join(line.text.split())
                   and 0 < len(line.text) <= CAPTION_CHARS for line in s.captions)
        assert all(lang in LANGUAGES and not p.final for lang, p in s.partials.items())
        assert s.stage_captions in (None, *LANGUAGES)
        keys = [line.client_key for line in s.captions if line.client_key is not None]
        assert len(keys) == len(set(keys))
    for k, snapshot in enumerate(snapshots):
        replayed = Room.from_snapshot(json.loads(json.dumps(snapshot)), languages=LANGUAGES)
        for event in itertools.chain.from_iterable(steps[k:]):
            replayed.apply(e.event_from_dict(json.loads(json.dumps(e.event_to_dict(event)))))
        assert replayed.state == room.state
