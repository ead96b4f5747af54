"""Bidi controls and zero-width characters are removed from every user text field."""

from __future__ import annotations

import pytest

from live.domain import DomainError
from live.domain import commands as c
from live.domain import events as e
from live.domain.text import clean_text, without_invisible
from tests.domain.harness import MOD, P1, Harness

# Every bidi embedding, override and isolate, the zero-width and direction marks, the word joiner,
# the byte order mark, and other format characters (soft hyphen, Arabic letter mark, invisible
# operators, Mongolian vowel separator, a tag character) and invisible letters (Hangul filler).
INVISIBLE = ("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f"
             "\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u061c\u180e\U000e0041\u3164\u115f\u034f")


def disguised(text: str) -> str:
    """`text` with invisible characters around and inside it (a reversed run, a zero-width cut)."""
    middle = len(text) // 2
    return f"\u202e{INVISIBLE}{text[:middle]}\u200b\u2066{text[middle:]}\u2069\ufeff"


def test_every_listed_character_is_removed() -> None:
    assert without_invisible(f"a{INVISIBLE}b") == "ab"
    for ch in INVISIBLE:
        assert without_invisible(f"x{ch}y") == "xy", f"U+{ord(ch):04X} kept"


def test_visible_text_and_emoji_sequences_are_kept() -> None:
    text = "Élise Ngô: ça va? 你好 مرحبا 👍🏽 👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈 1\ufe0f\u20e3"
    assert without_invisible(text) == text
    assert without_invisible("a\u200db") == "ab"  # a joiner between letters joins nothing
    assert without_invisible("\u200d👍") == "👍"


@pytest.mark.parametrize(("text", "kept"), [
    ("👨\u200d👩", "👨\u200d👩"),  # the joiner right after the first character, right before the last
    ("👩\U0001f3fb\u200d🚀", "👩\U0001f3fb\u200d🚀"),  # the lightest skin tone, then a joiner
    ("👩\U0001f3ff\u200d🚀", "👩\U0001f3ff\u200d🚀"),  # the darkest
    ("👍\u200d", "👍"),  # a joiner at the end joins nothing
    ("👍\u200da", "👍a"),  # nor between an emoji and a letter, whichever side the emoji is
    ("a\u200d👍", "a👍"),
])
def test_a_joiner_is_kept_only_between_two_emoji(text: str, kept: str) -> None:
    assert without_invisible(text) == kept


def test_c1_controls_are_refused_up_to_u009f_and_the_no_break_space_is_text() -> None:
    for control in ("\x7f", "\x80", "\x9b", "\x9f"):
        with pytest.raises(DomainError) as info:
            clean_text(f"a{control}b", 10, "name")
        assert info.value.message == "name contains control characters", repr(control)
    assert clean_text("10\u00a0000 €", 10, "name") == "10\u00a0000 €"


def test_question_text_name_and_organisation() -> None:
    h = Harness()
    [event] = h.send(c.AskQuestion(disguised("Quelle place pour les villes ?"),
                                   name=disguised("Élise Martin"),
                                   organisation=disguised("Ville de Lyon")), P1)
    assert isinstance(event, e.QuestionAsked)
    assert event.text == "Quelle place pour les villes ?"
    assert event.author_name == "Élise Martin"
    assert event.organisation == "Ville de Lyon"


def test_a_name_of_invisible_characters_only_is_no_name() -> None:
    h = Harness()
    [event] = h.send(c.AskQuestion("Une question ?", name=INVISIBLE, organisation="ACME"), P1)
    assert isinstance(event, e.QuestionAsked)
    assert event.author_name is None and event.anonymous and event.organisation is None


def test_a_question_of_invisible_characters_only_is_refused() -> None:
    assert Harness().refused(c.AskQuestion(f" {INVISIBLE} "), P1) == "invalid"


@pytest.mark.parametrize("command", ["edit", "approve"])
def test_moderator_edits(command: str) -> None:
    h = Harness()
    qid = h.ask()
    text = disguised("Texte revu par la modération")
    edit = c.EditQuestion(qid, text) if command == "edit" else c.ApproveQuestion(qid, text)
    events = h.send(edit, MOD)
    assert isinstance(events[0], e.QuestionEdited)
    assert h.room.state.questions[qid].text == "Texte revu par la modération"


def test_poll_question_and_options() -> None:
    h = Harness()
    [event] = h.send(c.CreatePoll(disguised("Êtes-vous d'accord ?"),
                                  [disguised("Oui"), disguised("Non")]), MOD)
    assert isinstance(event, e.PollCreated)
    assert event.question == "Êtes-vous d'accord ?"
    assert event.options == ("Oui", "Non")


def test_options_that_differ_only_by_invisible_characters_are_the_same() -> None:
    assert Harness().refused(c.CreatePoll("Choix ?", ["Oui", "O\u200bui"]), MOD) == "invalid"


def test_the_length_limit_counts_visible_characters() -> None:
    h = Harness()
    [event] = h.send(c.AskQuestion("q" * 500 + "\u200b" * 10), P1)
    assert isinstance(event, e.QuestionAsked) and event.text == "q" * 500
