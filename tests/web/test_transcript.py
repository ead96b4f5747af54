"""The transcript files: WebVTT that a strict reader accepts whatever was typed, cue times and
lengths, and the plain text for the report. The strict reader (tests/web/vtt.py) is tested too:
it must refuse what a player would stumble on."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from live.domain.state import Caption
from live.web.transcript import (
    CUE_MAX_MS,
    CUE_MIN_MS,
    plain_text,
    transcript_origin,
    vtt_timestamp,
    webvtt,
)
from tests.web.vtt import parse_webvtt

T0 = 1_600_765_200_000  # 2020-09-22 09:00 UTC


def lines(*items: tuple[int, str]) -> list[Caption]:
    return [Caption("fr", text, T0 + at) for at, text in items]


def test_cues_last_until_the_next_line_within_bounds() -> None:
    cues = parse_webvtt(webvtt(lines((0, "Un."), (3_000, "Deux."), (3_200, "Trois."),
                                     (60_000, "Quatre.")), T0))
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0, 3_000, "Un."), (3_000, 3_000 + CUE_MIN_MS, "Deux."),
        (3_200, 3_200 + CUE_MAX_MS, "Trois."), (60_000, 60_000 + CUE_MAX_MS, "Quatre.")]
    assert [c.identifier for c in cues] == ["1", "2", "3", "4"]


def test_times_count_from_the_origin_and_never_go_below_zero() -> None:
    cues = parse_webvtt(webvtt(lines((-5_000, "Avant."), (3_723_456, "Plus d'une heure.")), T0))
    assert [c.start for c in cues] == [0, 3_723_456]
    assert vtt_timestamp(3_723_456) == "01:02:03.456"
    assert vtt_timestamp(100 * 3_600_000) == "100:00:00.000"


def test_lines_are_put_in_time_order() -> None:
    """Lines come from several processes, whose clocks may differ by a few milliseconds."""
    cues = parse_webvtt(webvtt(lines((2_000, "Deux."), (1_990, "Un.")), T0))
    assert [c.text for c in cues] == ["Un.", "Deux."]


def test_what_was_typed_cannot_break_the_file() -> None:
    hostile = ["a --> b", "00:00:01.000 --> 00:00:02.000", "<b>gras</b> & <c.x>", "&amp; déjà",
               "NOTE", "WEBVTT", "deux\n\nlignes", "-->", "&lt;", "nul\0\x1b[0m"]
    text = webvtt(lines(*((i * 1_000, t) for i, t in enumerate(hostile))), T0)
    cues = parse_webvtt(text)
    assert [c.text for c in cues] == [" ".join(t.split()) for t in hostile[:-1]] + ["nul [0m"]


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(-10_000, 10**8), st.text(
    st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=40)), max_size=12))
def test_any_transcript_is_a_valid_file(items: list[tuple[int, str]]) -> None:
    text = webvtt(lines(*items), T0)
    cues = parse_webvtt(text)
    kept = sorted((i for i in items if i[1].split()), key=lambda i: i[0])
    assert [c.text for c in cues] == [" ".join(t.split()) for _, t in kept]


def test_the_origin_is_the_broadcast_unless_a_caption_came_first() -> None:
    captions = lines((5_000, "a"), (9_000, "b"))
    assert transcript_origin(captions, None) == T0 + 5_000
    assert transcript_origin(captions, T0) == T0
    assert transcript_origin(captions, T0 + 7_000) == T0 + 5_000  # the studio came back later
    assert transcript_origin([], T0) is None


def test_plain_text_has_one_timed_line_per_caption() -> None:
    text = plain_text(lines((3_000, "Deux"), (0, "Un, sur\ndeux lignes")), ZoneInfo("Europe/Paris"))
    assert text == "[11:00:00] Un, sur deux lignes\n[11:00:03] Deux\n"
    assert plain_text([], UTC) == ""


GOOD = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nBonjour &amp; bienvenue\n\n"


@pytest.mark.parametrize(("bad", "why"), [
    ("WEBVT\n\n", "signature"),
    ("WEBVTT -->\n\n", "signature"),
    ("WEBVTT\nKind: captions\n\n", "header text"),
    (GOOD + "00:00:02.000 --> 00:00:01.000\nx\n", "ends before"),
    (GOOD + "00:00:02.000 --> 00:00:02.000\nx\n", "ends before"),
    (GOOD.replace("00:00:00.000", "00:00:03.000").replace("00:00:01.500", "00:00:04.000")
     + "00:00:02.000 --> 00:00:05.000\nx\n", "out of order"),
    (GOOD + "00:00:02.000 -> 00:00:03.000\nx\n", "bad cue timings"),
    (GOOD + "00:00:02.00 --> 00:00:03.000\nx\n", "bad cue timings"),
    (GOOD + "00:61:02.000 --> 00:62:03.000\nx\n", "bad cue timings"),
    (GOOD + "00:00:02.000 --> 00:00:03.000\nx --> y\n", "--> in cue text"),
    (GOOD + "00:00:02.000 --> 00:00:03.000\n<b>x</b>\n", "markup"),
    (GOOD + "00:00:02.000 --> 00:00:03.000\nfish & chips\n", "bare &"),
    (GOOD + "00:00:02.000 --> 00:00:03.000\n", "without text"),
    (GOOD + "2\n", "identifier without timings"),
    (GOOD + "00:00:02.000 --> 00:00:03.000\nx\n\ny\n", "identifier without timings"),
    (GOOD.replace("Bonjour", "Bon\0jour"), "NUL"),
])
def test_the_strict_reader_refuses_broken_files(bad: str, why: str) -> None:
    assert parse_webvtt(GOOD)[0].text == "Bonjour & bienvenue"
    with pytest.raises(AssertionError, match=why):
        parse_webvtt(bad)
