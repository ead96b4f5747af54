"""The small views the WebSocket session sends as they are: a session's card, and each
subscriber's message of an event (tests/test_views.py checks the projection rules themselves)."""

from __future__ import annotations

from datetime import date, time

import pytest

from live.domain.programme import Programme, Session
from live.protocol import encode
from live.views import Audience, Fanout, encode_fanout, message_for, session_view

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
