"""The control room's alerts (live/control.py), from a room's figures and the programme's clock."""

from __future__ import annotations

from datetime import datetime

from live.config import load_programme
from live.control import RoomFigures, alerts, connected_by_session, room_card

PROGRAMME = load_programme(None)
PLENARY = PROGRAMME.session("pleniere-geopolitique")  # 2020-09-22 09:00-10:45, streamed
assert PLENARY is not None
BEFORE, SOON, DURING, AFTER = (datetime(2020, 9, 22, h, m)
                               for h, m in ((8, 0), (8, 57), (9, 30), (11, 0)))
ON_AIR = {"live": True, "video": {"width": 1280, "height": 720, "fps": 30, "kbps": 1500},
          "keyframe_age": 1.2, "viewers": 12}
STAFFED = {"moderator": 1, "stage": 1}


def test_a_calm_room_has_no_alert() -> None:
    assert alerts(PLENARY, RoomFigures(readout=ON_AIR, connected=STAFFED), DURING) == []
    assert alerts(PLENARY, RoomFigures(), BEFORE) == []  # long before: nothing expected yet
    assert alerts(PLENARY, RoomFigures(readout={"live": False}), AFTER) == []


def test_nothing_on_air_in_its_time_slot_unless_the_studio_ended_it() -> None:
    off = RoomFigures(readout={"live": False}, connected=STAFFED)
    assert alerts(PLENARY, off, DURING) == ["no_signal"]
    off.ended = True
    assert alerts(PLENARY, off, DURING) == []


def test_no_moderator_five_minutes_before_and_during() -> None:
    assert alerts(PLENARY, RoomFigures(readout=ON_AIR), SOON) == ["no_moderator"]
    assert alerts(PLENARY, RoomFigures(readout=ON_AIR), DURING) == ["no_moderator"]
    admin = RoomFigures(readout=ON_AIR, connected={"admin": 1})
    assert alerts(PLENARY, admin, DURING) == []  # an admin on the console moderates


def test_a_queue_nobody_screens() -> None:
    waiting = RoomFigures(pending=5)
    assert "queue_unscreened" in alerts(PLENARY, waiting, AFTER)
    assert alerts(PLENARY, RoomFigures(pending=4), AFTER) == []
    assert alerts(PLENARY, RoomFigures(pending=50, connected=STAFFED), AFTER) == []


def test_a_stream_without_a_recent_keyframe() -> None:
    stale = RoomFigures(readout={**ON_AIR, "keyframe_age": 10.5}, connected=STAFFED)
    assert alerts(PLENARY, stale, DURING) == ["no_keyframe"]
    never = RoomFigures(readout={**ON_AIR, "keyframe_age": None}, connected=STAFFED)
    assert alerts(PLENARY, never, DURING) == ["no_keyframe"]
    audio_only = RoomFigures(readout={"live": True, "video": None}, connected=STAFFED)
    assert alerts(PLENARY, audio_only, DURING) == []


def test_connections_are_summed_over_workers_by_role() -> None:
    reports = [{"sessions": {"s": {"role_moderator": 1, "role_participant": 40, "viewers": 3}}},
               {"sessions": {"s": {"role_participant": 35}, "t": {"role_stage": 1}}}]
    assert connected_by_session(reports) == {"s": {"moderator": 1, "participant": 75},
                                             "t": {"stage": 1}}
    card = room_card(PLENARY, RoomFigures(readout=ON_AIR, connected={"participant": 75}), DURING,
                     "en")
    assert card["title"].startswith("Plenary") and card["on_air"] and card["viewers"] == 12
    assert card["connected"]["participant"] == 75 and card["connected"]["moderator"] == 0
    assert card["alerts"] == ["no_moderator"]
