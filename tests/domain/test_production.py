"""Remote guests and the replay's publication (live/domain/production.py), and who is told."""

from __future__ import annotations

from live.domain import Actor, Role, Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import MAX_GUESTS, OFF_AIR, ON_AIR, WAITING
from live.views import Audience, project, state_view
from tests.domain.harness import GUEST, GUEST2, MOD, STUDIO, Harness


def test_a_guest_joins_as_their_link_names_them_once() -> None:
    h = Harness()
    assert h.send(c.JoinAsGuest(), GUEST) == [e.GuestJoined("g1", "Anna Schmidt")]
    assert h.send(c.JoinAsGuest(), GUEST) == []  # back after a drop: the same guest
    assert h.room.state.guests["g1"].status == WAITING
    assert h.refused(c.JoinAsGuest(), Actor(Role.GUEST)) == "forbidden"  # a link naming no one


def test_a_session_has_a_bounded_number_of_guests() -> None:
    h = Harness()
    for i in range(MAX_GUESTS):
        h.send(c.JoinAsGuest(), Actor(Role.GUEST, guest=f"g{i}", guest_name=f"Guest {i}"))
    extra = Actor(Role.GUEST, guest="g_extra", guest_name="One too many")
    assert h.refused(c.JoinAsGuest(), extra) == "too_many_guests"


def test_the_studio_brings_a_guest_on_and_off_air() -> None:
    h = Harness()
    h.send(c.JoinAsGuest(), GUEST)
    assert h.refused(c.SetGuestOnAir("g_missing", True), STUDIO) == "not_found"
    assert h.send(c.SetGuestOnAir("g1", False), STUDIO) == []  # not on air: nothing to do
    assert h.send(c.SetGuestOnAir("g1", True), STUDIO) == [e.GuestOnAirSet("g1", True)]
    assert h.room.state.guests["g1"].status == ON_AIR
    assert h.send(c.SetGuestOnAir("g1", True), STUDIO) == []
    h.send(c.SetGuestOnAir("g1", False), STUDIO)
    assert h.room.state.guests["g1"].status == OFF_AIR


def test_guests_and_the_replay_work_in_a_session_without_questions() -> None:
    h = Harness(interactive=False)
    h.send(c.JoinAsGuest(), GUEST)
    h.send(c.SetGuestOnAir("g1", True), STUDIO)
    assert h.send(c.SetReplayPublished(False), MOD) == [e.ReplayPublishedSet(False)]
    assert h.send(c.SetReplayPublished(False), MOD) == []
    assert h.room.state.replay_published is False


def test_guests_and_the_replay_survive_a_snapshot() -> None:
    h = Harness()
    h.send(c.JoinAsGuest(), GUEST)
    h.send(c.JoinAsGuest(), GUEST2)
    h.send(c.SetGuestOnAir("g2", True), STUDIO)
    h.send(c.SetReplayPublished(False), MOD)
    again = Room.from_snapshot(h.room.snapshot())
    assert again.state == h.room.state
    assert list(again.state.guests) == ["g1", "g2"]  # in the order they joined


def test_the_studio_guests_and_moderators_see_the_guests_participants_do_not() -> None:
    h = Harness()
    [joined] = h.send(c.JoinAsGuest(), GUEST)
    fanout = project(joined, {"type": "GuestJoined", "seq": 1}, h.room.state)
    guest = {"id": "g1", "name": "Anna Schmidt", "status": "waiting"}
    assert set(fanout.shared) == {Audience.MODERATOR, Audience.STAGE}
    assert all(m["guest"] == guest for m in fanout.shared.values())
    assert not fanout.private
    for audience in (Audience.MODERATOR, Audience.STAGE):
        assert state_view(h.room.state, {}, audience, None, 0)["guests"] == [guest]
    assert "guests" not in state_view(h.room.state, {}, Audience.PARTICIPANT, "p1", 0)


def test_everyone_is_told_whether_the_replay_is_published() -> None:
    h = Harness()
    [event] = h.send(c.SetReplayPublished(False), MOD)
    fanout = project(event, {"type": "ReplayPublishedSet", "seq": 1}, h.room.state)
    assert set(fanout.shared) == set(Audience)
    assert all(m["settings"]["replay_published"] is False for m in fanout.shared.values())
