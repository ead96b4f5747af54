"""The programme: the demo file, `live_at`, and the errors an organiser can make."""

from __future__ import annotations

import copy
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

import live
from live.domain.programme import KINDS, Programme, ProgrammeError, parse_programme

DEMO = Path(live.__file__).parent / "data" / "rencontres-2020.toml"
DAY1, DAY2 = date(2020, 9, 21), date(2020, 9, 22)


@pytest.fixture(scope="module")
def demo() -> Programme:
    with DEMO.open("rb") as f:
        return parse_programme(tomllib.load(f))


def test_demo_event(demo: Programme) -> None:
    assert demo.id == "rencontres-cuf-2020"
    assert demo.title == {"fr": "Rencontres 2020 de Cités Unies France",
                          "en": "Cités Unies France 2020 Meetings",
                          "es": "Encuentros 2020 de Cités Unies France"}
    assert demo.timezone == "Europe/Paris"
    assert "Cité des Sciences" in demo.venue


def test_demo_days(demo: Programme) -> None:
    assert [d.day for d in demo.days] == [DAY1, DAY2]
    assert [d.title["en"] for d in demo.days] == ["Country sessions", "Plenaries and workshops"]
    assert all(s.day in (DAY1, DAY2) for s in demo.sessions)
    assert {s.day for s in demo.sessions} == {DAY1, DAY2}


def test_demo_plenaries(demo: Programme) -> None:
    plenaries = [s for s in demo.sessions if s.kind == "plenary"]
    assert [(s.id, s.day, s.start, s.end) for s in plenaries] == [
        ("pleniere-geopolitique", DAY2, time(9, 0), time(10, 45)),
        ("pleniere-aict", DAY2, time(11, 0), time(12, 30)),
    ]
    assert all(s.interactive and s.streamed and s.room == "Auditorium" for s in plenaries)


def test_demo_interactive_flags(demo: Programme) -> None:
    interactive = {s.id: s.interactive for s in demo.sessions}
    assert interactive == {
        "copil-assises": False, "groupes-pays": True, "b-to-b": False,
        "pleniere-geopolitique": True, "pleniere-aict": True,
        "atelier-1": True, "atelier-2": True, "atelier-3": True,
        "micro-ateliers": True, "entretiens": False,
    }


def test_demo_has_english_titles(demo: Programme) -> None:
    for session in demo.sessions:
        assert session.title["fr"] and session.title["en"], session.id
        assert session.title["en"] != session.title["fr"], session.id
        if session.description:
            assert set(session.description) == {"fr", "en"}, session.id
    plenary = demo.session("pleniere-aict")
    assert plenary is not None and plenary.title["en"].startswith("Plenary: ")


def test_demo_kinds_and_ids(demo: Programme) -> None:
    ids = [s.id for s in demo.sessions]
    assert len(ids) == len(set(ids)) == 10
    assert {s.kind for s in demo.sessions} <= KINDS
    assert all(s.start < s.end for s in demo.sessions)


def test_sessions_on_a_day_are_sorted(demo: Programme) -> None:
    day2 = demo.sessions_on(DAY2)
    assert [s.id for s in day2][:2] == ["pleniere-geopolitique", "pleniere-aict"]
    assert [(s.start, s.id) for s in day2] == sorted((s.start, s.id) for s in day2)
    assert {s.id for s in demo.sessions_on(DAY1)} == {"copil-assises", "groupes-pays", "b-to-b"}
    assert demo.sessions_on(date(2020, 9, 23)) == []
    assert demo.session("nope") is None


@pytest.mark.parametrize(("moment", "live"), [
    (datetime(2020, 9, 22, 10, 59), False),
    (datetime(2020, 9, 22, 11, 0), True),
    (datetime(2020, 9, 22, 12, 29, 59), True),
    (datetime(2020, 9, 22, 12, 30), False),  # the end is excluded
    (datetime(2020, 9, 21, 11, 30), False),  # same hour, another day
])
def test_live_at(demo: Programme, moment: datetime, live: bool) -> None:
    session = demo.session("pleniere-aict")
    assert session is not None
    assert session.live_at(moment) is live


def test_back_to_back_plenaries_are_never_both_live(demo: Programme) -> None:
    first, second = demo.session("pleniere-geopolitique"), demo.session("pleniere-aict")
    assert first is not None and second is not None
    assert first.live_at(datetime(2020, 9, 22, 10, 44))
    assert not first.live_at(datetime(2020, 9, 22, 10, 50))
    assert not second.live_at(datetime(2020, 9, 22, 10, 50))


# -- errors -----------------------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "event": {"id": "ev", "title": "Événement", "timezone": "Europe/Paris"},
    "days": [{"date": "2020-09-21"}, {"date": "2020-09-22", "title": "Jour 2"}],
    "sessions": [
        {"id": "a", "date": "2020-09-22", "start": "09:00", "end": "10:00", "title": "A"},
        {"id": "b", "date": "2020-09-21", "start": "14:00", "end": "15:00", "title": "B",
         "kind": "workshop", "interactive": False, "premoderation": False},
    ],
}


def variant(**changes: Any) -> dict[str, Any]:
    """VALID with top-level keys replaced, or with `session_N` dicts merged into session N."""
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if key.startswith("session_"):
            data["sessions"][int(key.removeprefix("session_"))].update(value)
        elif value is None:
            del data[key]
        else:
            data[key] = value
    return data


def test_minimal_programme_and_defaults() -> None:
    programme = parse_programme(variant())
    a, b = programme.sessions
    assert (a.kind, a.interactive, a.streamed, a.premoderation, a.room) == (
        "plenary", True, False, True, "")
    assert (b.kind, b.interactive, b.premoderation) == ("workshop", False, False)
    assert a.title == {"fr": "A"} and a.description == {}
    assert a.languages == ("fr",) and a.floor_language == "fr" and a.interpretations == ()
    assert programme.venue == "" and programme.days[0].title == {}


def test_days_are_sorted() -> None:
    programme = parse_programme(variant(days=[{"date": "2020-09-22"}, {"date": "2020-09-21"}]))
    assert [d.day for d in programme.days] == [DAY1, DAY2]


def test_languages_floor_first_and_spanish_texts() -> None:
    programme = parse_programme(variant(session_0={
        "languages": ["en", "fr", "es"], "title_es": "A (es)", "description": "d",
        "description_es": "d (es)"}))
    a = programme.sessions[0]
    assert (a.floor_language, a.interpretations) == ("en", ("fr", "es"))
    assert a.title == {"fr": "A", "es": "A (es)"} and a.description == {"fr": "d", "es": "d (es)"}


def test_demo_plenaries_are_interpreted(demo: Programme) -> None:
    assert {s.id: s.languages for s in demo.sessions if s.interpretations} == {
        "pleniere-geopolitique": ("fr", "en", "es"), "pleniere-aict": ("fr", "en", "es")}


def test_toml_native_dates_and_times() -> None:
    programme = parse_programme(tomllib.loads("""
        [event]
        title = "Événement"
        [[days]]
        date = 2020-09-22
        [[sessions]]
        id = "a"
        date = 2020-09-22
        start = 09:00:00
        end = 10:30:00
        title = "A"
    """))
    session = programme.sessions[0]
    assert (session.day, session.start, session.end) == (DAY2, time(9), time(10, 30))


@pytest.mark.parametrize(("data", "message"), [
    (variant(event=None), "missing [event]"),
    (variant(event="Rencontres"), "missing [event]"),
    (variant(event={"id": "ev"}), "[event]: missing 'title'"),
    (variant(days=None), "no [[days]]"),
    (variant(days=[]), "no [[days]]"),
    (variant(days=[{"date": "2020-13-01"}]), "day #1: '2020-13-01' is not a date"),
    (variant(session_0={"date": "22/09/2020"}), "session 'a': '22/09/2020' is not a date"),
    (variant(session_1={"date": "2020-02-30"}), "session 'b': '2020-02-30' is not a date"),
    (variant(session_0={"date": "2020-09-23"}),
     "session 'a': date 2020-09-23 is not one of the programme's days"),
    (variant(session_0={"start": "11:00"}), "session 'a': ends before it starts"),
    (variant(session_0={"end": "09:00"}), "session 'a': ends before it starts"),
    (variant(session_0={"start": "9h"}), "session 'a': '9h' is not a time"),
    (variant(session_1={"end": "25:00"}), "session 'b': '25:00' is not a time"),
    (variant(session_0={"kind": "keynote"}), "session 'a': kind 'keynote' is not one of"),
    (variant(session_1={"id": "a"}), "duplicate session ids: a"),
    (variant(session_0={"id": "Plénière"}), "session #1: 'id' must be lowercase"),
    (variant(session_1={"id": None}), "session #2: 'id' must be lowercase"),
    (variant(session_0={"title": None}), "session 'a': missing 'title'"),
    (variant(session_0={"title": 42}), "session 'a': 'title' must be text"),
    (variant(days=["2020-09-22"]), "every entry of [[days]] must be a table"),
    (variant(days=[{"date": "2020-09-22"}, {"date": "2020-09-22"}]), "a day is listed twice"),
    ({**variant(), "sessions": "plenary"}, "every entry of [[sessions]] must be a table"),
    (variant(session_0={"languages": "fr"}), "session 'a': 'languages' must be a list"),
    (variant(session_0={"languages": []}), "session 'a': 'languages' must be a list"),
    (variant(session_0={"languages": ["fr", "EN"]}), "session 'a': 'languages' must be a list"),
    (variant(session_0={"languages": ["fr", "en", "fr"]}), "a language is listed twice"),
    (variant(session_0={"languages": ["fr", "en", "es", "de", "it", "ar", "pt", "ru", "zh"]}),
     "at most 8 languages"),
])
def test_programme_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ProgrammeError) as info:
        parse_programme(data)
    assert message in str(info.value)


def test_programme_error_is_a_value_error() -> None:
    assert issubclass(ProgrammeError, ValueError)


def test_what_an_organiser_may_leave_out() -> None:
    programme = parse_programme(variant(event={"title": "Événement"}))
    assert (programme.id, programme.timezone, programme.venue) == ("event", "UTC", "")
    a = programme.sessions[0]
    assert (a.room, a.streamed) == ("", False)
    programme = parse_programme(variant(session_0={"room": "Salle 2", "streamed": True}))
    assert (programme.sessions[0].room, programme.sessions[0].streamed) == ("Salle 2", True)


def test_day_titles_in_every_language() -> None:
    programme = parse_programme(variant(days=[
        {"date": "2020-09-21", "title": "Jour 1", "title_en": "Day 1"}, {"date": "2020-09-22"}]))
    assert [d.title for d in programme.days] == [{"fr": "Jour 1", "en": "Day 1"}, {}]


def test_eight_languages_are_the_most() -> None:
    eight = ["fr", "en", "es", "de", "it", "ar", "pt", "ru"]
    programme = parse_programme(variant(session_0={"languages": eight}))
    assert programme.sessions[0].languages == tuple(eight)


@pytest.mark.parametrize(("data", "message"), [
    (variant(event=None), "missing [event] table"),
    (variant(days=[]), "the programme has no [[days]]"),
    (variant(days=[{"date": "2020-09-21"}, {"date": "2020-09-21"}]),
     "a day is listed twice in [[days]]"),
    (variant(days=[{"date": "2020-09-21"}, {"date": "2020-09-22", "title": 2}]),
     "day #2: 'title' must be text"),
    (variant(session_0={"description": ["a"]}), "session 'a': 'description' must be text"),
    ({**variant(), "sessions": [*VALID["sessions"], {**VALID["sessions"][0], "id": "b"},
                                {**VALID["sessions"][0], "start": "08:00"}]},
     "duplicate session ids: a, b"),
    (variant(session_0={"languages": ["fr", "english"]}),
     "session 'a': 'languages' must be a list of language codes like [\"fr\", \"en\"], the floor "
     "language first"),
])
def test_programme_error_messages(data: dict[str, Any], message: str) -> None:
    """The whole message, word for word: the organiser reads it to find the mistake."""
    with pytest.raises(ProgrammeError) as info:
        parse_programme(data)
    assert str(info.value) == message


def test_remote_guests_are_named_in_streamed_sessions_only() -> None:
    programme = parse_programme(variant(session_0={
        "streamed": True, "guests": ["  Amina   Diallo ", "Lena Berg"]}))
    assert programme.sessions[0].guests == ("Amina Diallo", "Lena Berg")
    assert programme.sessions[1].guests == ()
    for guests, message in (
            ("Amina", "'guests' must be a list of names"),
            ([3], "'guests' must be a list of names"),
            (["A", "A"], "a guest is listed twice"),
            (["x" * 61], "longer than 60 characters"),
            ([""], "a guest's name is empty"),
            ([f"G{i}" for i in range(21)], "at most 20 guests")):
        with pytest.raises(ProgrammeError, match=message):
            parse_programme(variant(session_0={"streamed": True, "guests": guests}))
    with pytest.raises(ProgrammeError, match="only a streamed session has remote guests"):
        parse_programme(variant(session_0={"guests": ["Amina Diallo"]}))


def test_prepared_polls_are_checked_as_the_console_checks_them() -> None:
    programme = parse_programme(variant(session_0={"polls": [
        {"question": " Un mot ? ", "kind": "words"},
        {"question": "Lequel ?", "options": ["A", " B "], "multiple": True}]}))
    words, choice = programme.sessions[0].polls
    assert (words.question, words.kind, words.options) == ("Un mot ?", "words", ())
    assert (choice.kind, choice.options, choice.multiple) == ("choice", ("A", "B"), True)
    assert words.key != choice.key and words.key.startswith("prepared:")
    for polls, message in (
            ([{"question": "Q ?", "kind": "quiz"}], "poll #1: a poll's kind is one of"),
            ([{"question": "Q ?", "kind": "rating", "options": ["A", "B"]}], "has no options"),
            ([{"question": "Q ?", "options": ["A"]}], "2 to 10 options"),
            ([{"question": "", "kind": "text"}], "poll question is empty"),
            ([{"question": "Q ?", "options": "A, B"}], "'options' a list of texts"),
            ([{"question": "Q ?", "kind": "text"}] * 101, "at most 100 polls"),
            ("Q ?", "must be a table")):
        with pytest.raises(ProgrammeError, match=message):
            parse_programme(variant(session_0={"polls": polls}))
