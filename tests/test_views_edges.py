"""The small views the WebSocket session sends as they are: a session's card, and each
subscriber's message of an event (tests/test_views.py checks the projection rules themselves)."""

from __future__ import annotations

from datetime import date, time

import pytest

from live.domain import events as e
from live.domain.programme import Programme, Session
from live.domain.state import RoomState
from live.protocol import encode
from live.views import (
    Audience,
    Fanout,
    booth_key,
    encode_fanout,
    message_for,
    project,
    session_view,
)

SESSION = Session(
    id="atelier-1", title={"fr": "Atelier 1", "en": "Workshop 1"}, description={"fr": "Débat"},
    day=date(2020, 9, 22), start=time(9, 5), end=time(10, 30), kind="workshop", room="Salle B",
    interactive=True, streamed=False, premoderation=True, languages=("fr", "en"))
OTHER = Session(
    id="pleniere", title={"fr": "Plénière"}, description={}, day=date(2020, 9, 21),
    start=time(14, 0), end=time(15, 0), kind="plenary", room="", interactive=False, streamed=True,
    premoderation=False)
PROGRAMME = Programme(id="p", title={"fr": "P"}, venue="V", timezone="Europe/Paris", days=(),
                      sessions=(OTHER, SESSION))


def test_a_session_card_has_its_programme_fields() -> None:
    assert session_view(PROGRAMME, "atelier-1") == {
        "id": "atelier-1", "title": {"fr": "Atelier 1", "en": "Workshop 1"},
        "description": {"fr": "Débat"}, "date": "2020-09-22", "start": "09:05", "end": "10:30",
        "kind": "workshop", "room": "Salle B", "interactive": True, "streamed": False,
        "languages": ["fr", "en"],
    }
    assert session_view(PROGRAMME, "pleniere") == {
        "id": "pleniere", "title": {"fr": "Plénière"}, "description": {}, "date": "2020-09-21",
        "start": "14:00", "end": "15:00", "kind": "plenary", "room": "", "interactive": False,
        "streamed": True, "languages": ["fr"],
    }
    with pytest.raises(AssertionError):  # callers check the session exists first
        session_view(PROGRAMME, "absente")


FANOUT = Fanout(
    shared={Audience.MODERATOR: {"type": "QuestionAsked", "question": {"text": "<Q>"}},
            Audience.STAGE: {"type": "QuestionAsked", "question": None}},
    private={"u_anna": {"type": "QuestionAsked", "question": {"text": "<Q>", "mine": True}}},
)


def test_each_message_of_an_event_is_encoded_once_under_its_audience_or_participant() -> None:
    assert encode_fanout(FANOUT) == {
        Audience.MODERATOR: encode(FANOUT.shared[Audience.MODERATOR]),
        Audience.STAGE: encode(FANOUT.shared[Audience.STAGE]),
        "u_anna": encode(FANOUT.private["u_anna"]),
    }
    assert encode_fanout(Fanout()) == {}


def test_a_subscriber_gets_its_private_message_else_its_audiences_else_none() -> None:
    private = encode(FANOUT.private["u_anna"])
    assert message_for(FANOUT, Audience.PARTICIPANT, "u_anna") == private
    assert message_for(FANOUT, Audience.MODERATOR, "u_anna") == private
    assert message_for(FANOUT, Audience.MODERATOR, None) == encode(FANOUT.shared[Audience.MODERATOR])
    assert message_for(FANOUT, Audience.STAGE, "u_bruno") == encode(FANOUT.shared[Audience.STAGE])
    assert message_for(FANOUT, Audience.PARTICIPANT, "u_bruno") is None
    assert message_for(FANOUT, Audience.PARTICIPANT, None) is None


def test_a_booth_message_goes_to_its_booth_alone_under_a_key_of_its_own() -> None:
    envelope = {"type": "BoothMessageSent", "seq": 7}
    sent = e.BoothMessageSent("b_1", "en", "I take over at 10", "Ana", "dev-1", 1234, "k1")
    fanout = project(sent, envelope, RoomState("atelier-1"))
    line = {"type": "BoothMessageSent", "seq": 7, "booth_message": {
        "id": "b_1", "language": "en", "text": "I take over at 10", "at": 1234, "sender": "Ana",
        "device": "dev-1"}}
    assert fanout.shared == {} and fanout.private == {} and fanout.booth == {"en": line}
    assert booth_key("en") == ("booth", "en") != booth_key("es")
    assert encode_fanout(fanout) == {("booth", "en"): encode(line)}
    # The English booth hears it, whatever its audience; the Spanish booth and everyone else not.
    for audience in Audience:
        assert message_for(fanout, audience, None, "en") == encode(line)
        assert message_for(fanout, audience, None, "es") is None
        assert message_for(fanout, audience, None) is None
        assert message_for(fanout, audience, "u_anna") is None
    # A booth's message does not hide an audience's message of the same event from another booth.
    both = Fanout(shared={Audience.MODERATOR: {"type": "X"}}, booth={"en": line})
    assert message_for(both, Audience.MODERATOR, None, "es") == encode({"type": "X"})
    assert message_for(both, Audience.MODERATOR, None, "en") == encode(line)


def test_a_caption_line_reaches_every_audience_as_posted() -> None:
    envelope = {"type": "CaptionPosted", "seq": 3}
    for final in (True, False):
        posted = e.CaptionPosted("es", "Buenos días", final, 99_000, "c1")
        fanout = project(posted, envelope, RoomState("atelier-1"))
        expected = {"type": "CaptionPosted", "seq": 3, "caption": {
            "language": "es", "text": "Buenos días", "at": 99_000, "final": final}}
        assert fanout.shared == {audience: expected for audience in Audience}
        assert fanout.private == {} and fanout.booth == {}
