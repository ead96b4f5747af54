"""The booth chat on the wire: the command's parsing, who is told of a message (that booth's
interpreters, nobody else), what a snapshot carries, and that a page which followed the events
holds what a freshly connected one is sent (the page's own state.js, under Node)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from live import protocol as p
from live.domain import Actor, Role, Room, booth
from live.domain import commands as c
from live.domain import events as e
from live.views import Audience, booth_key, encode_fanout, message_for, project, state_view
from tests.statejs import Op, host

LANGUAGES = ("fr", "en", "es")
EN, ES = Actor(Role.INTERPRETER, language="en"), Actor(Role.INTERPRETER, language="es")
# Who may be told what: (audience, participant id, booth).
Viewer = tuple[Audience, str | None, str | None]
VIEWERS: list[Viewer] = [
    (Audience.MODERATOR, None, None), (Audience.STAGE, None, None),
    (Audience.PARTICIPANT, "u_anna", None),
    (Audience.STAGE, None, "en"), (Audience.STAGE, None, "es"),  # interpreters see as the stage
]


def test_send_booth_message_is_parsed_with_its_defaults() -> None:
    assert p.parse_command({"type": "SendBoothMessage", "text": "Salut"}) == \
        c.SendBoothMessage("Salut", None, None, None)
    assert p.parse_command({"type": "SendBoothMessage", "text": "Salut", "name": "Anne",
                            "device": "d1", "client_key": "k1", "ref": "c1",
                            "language": "es"}) == c.SendBoothMessage("Salut", "Anne", "d1", "k1")


@pytest.mark.parametrize("frame", [
    {"type": "SendBoothMessage"},
    {"type": "SendBoothMessage", "text": 3},
    {"type": "SendBoothMessage", "text": ["x"]},
    {"type": "SendBoothMessage", "text": "x", "name": 1},
    {"type": "SendBoothMessage", "text": "x", "device": {}},
    {"type": "SendBoothMessage", "text": "x", "client_key": True},
])
def test_malformed_booth_messages_are_user_errors(frame: dict[str, Any]) -> None:
    with pytest.raises(p.InvalidCommand) as info:
        p.parse_command({**frame, "ref": "r1"})
    assert info.value.code == "invalid" and info.value.ref == "r1"


def sent(room: Room, command: c.Command, actor: Actor, now: int) -> list[e.Event]:
    events = room.handle(command, actor, now, lambda kind: f"{kind}_{now}")
    for event in events:
        room.apply(event)
    return events


def test_only_the_booth_of_the_message_is_told_of_it() -> None:
    room = Room.new("s", languages=LANGUAGES)
    [event] = sent(room, c.SendBoothMessage("Prêt ?", name="Anne", device="t1", client_key="k1"),
                   EN, 5_000)
    fanout = project(event, {"type": "BoothMessageSent", "seq": 1, "at": 5_000}, room.state)
    message = {"type": "BoothMessageSent", "seq": 1, "at": 5_000, "booth_message": {
        "id": "b_5000", "language": "en", "text": "Prêt ?", "at": 5_000, "sender": "Anne",
        "device": "t1"}}  # never its client key
    assert fanout.booth == {"en": message}
    assert fanout.shared == {} and fanout.private == {}
    encoded = encode_fanout(fanout)
    assert encoded == {booth_key("en"): p.encode(message)}
    # A resuming client is replayed what it would have been sent live: the same rule.
    told = {viewer: message_for(fanout, *viewer) for viewer in VIEWERS}
    assert told == {viewer: p.encode(message) if viewer[2] == "en" else None
                    for viewer in VIEWERS}


def test_a_snapshot_carries_its_own_booth_to_an_interpreter_only() -> None:
    room = Room.new("s", languages=LANGUAGES)
    for i in range(booth.KEPT + 2):
        sent(room, c.SendBoothMessage(f"en {i}"), EN, i)
    sent(room, c.SendBoothMessage("es 0", device="t9"), ES, 100)
    views = {v: state_view(room.state, {"id": "s"}, v[0], v[1], 0, booth=v[2]) for v in VIEWERS}
    for (audience, pid, language), view in views.items():
        if language is None:
            assert "booth" not in view, (audience, pid)
    assert [m["text"] for m in views[VIEWERS[3]]["booth"]] == [
        f"en {i}" for i in range(2, booth.KEPT + 2)]
    assert views[VIEWERS[4]]["booth"] == [{"id": "b_100", "language": "es", "text": "es 0",
                                           "at": 100, "sender": None, "device": "t9"}]
    # Nothing of a booth shows anywhere else in any other view.
    for viewer, view in views.items():
        if viewer[2] is None:
            assert "en 1" not in str(view) and "es 0" not in str(view) and "t9" not in str(view)


def random_command(rng: random.Random) -> tuple[c.Command, Actor]:
    if rng.random() < 0.1:
        return c.PostCaption("fr", f"fr {rng.random():.4f}"), Actor(Role.CAPTIONER)
    if rng.random() < 0.05:
        return c.AskQuestion("Et les cabines ?"), Actor(Role.PARTICIPANT, "u_anna")
    return (c.SendBoothMessage(f"m {rng.random():.4f}", name=rng.choice([None, "Anne"]),
                               device=rng.choice([None, "t1", "t2"]),
                               client_key=rng.choice([None, f"k{rng.randrange(60)}"])),
            rng.choice([EN, EN, ES]))


@pytest.mark.parametrize("seed", range(4))
def test_old_view_plus_booth_events_equals_fresh_view(seed: int) -> None:
    rng = random.Random(seed)
    room = Room.new("s", premoderation=False, languages=LANGUAGES)
    keys = {v: f"booth-{seed}-{v[0].value}-{v[1]}-{v[2]}" for v in VIEWERS}

    def fresh(viewer: Viewer) -> dict[str, Any]:
        return state_view(room.state, {"id": "s"}, viewer[0], viewer[1], 0, booth=viewer[2])

    host().run([(keys[v], "snapshot", fresh(v), {"epoch": "e", "seq": 0}) for v in VIEWERS])
    seq = 0
    for step in range(1, 160):
        command, actor = random_command(rng)
        ops: list[Op] = []
        for event in sent(room, command, actor, step * 1_000):
            seq += 1
            fanout = project(event, {"type": type(event).__name__, "seq": seq}, room.state)
            for viewer in VIEWERS:
                message = message_for(fanout, *viewer)
                if message is not None:
                    ops.append((keys[viewer], "event", p.decode_frame(message), None))
        ops += [(f"fresh-{keys[v]}", "snapshot", fresh(v), {"epoch": "e", "seq": seq})
                for v in VIEWERS]
        fresh_views = host().run(ops)[-len(VIEWERS):]
        synced = host().run([(keys[v], "event", {"type": "Seen", "seq": 0}, None)
                             for v in VIEWERS])
        for v, old, new in zip(VIEWERS, synced, fresh_views, strict=True):
            assert old is not None and new is not None
            assert old["booth"] == new["booth"], (seed, step, v, command)
            if v[2] is None:
                assert new["booth"] == [], v  # state.js keeps none for a page outside a booth
    assert len(room.state.booth["en"]) == booth.KEPT  # the bound was crossed
