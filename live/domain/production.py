"""What the studio and the moderators decide about the broadcast itself: which remote guests are
on air, and whether the session's replay is published.

A guest is who their link says (`Actor.guest`, `Actor.guest_name`, signed by the studio that
made the link), never what a command says: a guest joins only as themself. They appear to the
studio when they enter the green room (past their device check) and stay listed, with their
status, for the rest of the session: a guest who drops and comes back is the same guest. Whether
a guest is *seen and heard* is the studio page's composition (static/js/studio-guests.js); the
status here tells the guest page and the studio which state to show.
"""

from __future__ import annotations

from live.domain import commands as c
from live.domain import events as e
from live.domain.actor import Actor
from live.domain.errors import DomainError
from live.domain.state import MAX_GUESTS, OFF_AIR, ON_AIR, Guest, RoomState


def join(state: RoomState, actor: Actor) -> list[e.Event]:
    if actor.guest is None or not actor.guest_name:
        raise DomainError("forbidden", "your link names no guest")
    known = state.guests.get(actor.guest)
    if known is not None:
        return []  # back after a drop: the same guest, in the same status
    if len(state.guests) >= MAX_GUESTS:
        raise DomainError("too_many_guests", f"a session has {MAX_GUESTS} guests at most")
    return [e.GuestJoined(actor.guest, actor.guest_name)]


def set_on_air(state: RoomState, cmd: c.SetGuestOnAir) -> list[e.Event]:
    guest = state.guests.get(cmd.guest_id)
    if guest is None:
        raise DomainError("not_found", "no such guest in this session")
    on_air = bool(cmd.on_air)
    if (guest.status == ON_AIR) == on_air:
        return []
    return [e.GuestOnAirSet(guest.id, on_air)]


def set_replay(state: RoomState, cmd: c.SetReplayPublished) -> list[e.Event]:
    published = bool(cmd.published)
    return [] if state.replay_published == published else [e.ReplayPublishedSet(published)]


def apply(state: RoomState, event: e.GuestJoined | e.GuestOnAirSet | e.ReplayPublishedSet) -> None:
    match event:
        case e.GuestJoined():
            state.guests[event.guest_id] = Guest(event.guest_id, event.name)
        case e.GuestOnAirSet():
            state.guests[event.guest_id].status = ON_AIR if event.on_air else OFF_AIR
        case e.ReplayPublishedSet():
            state.replay_published = event.published
