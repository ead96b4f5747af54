"""Captions on the wire: the commands' parsing, what each audience is sent, and that a page which
followed the events holds what a freshly connected one is sent (the page's own state.js, under
Node), the snapshot carrying only the latest lines."""

from __future__ import annotations

import random
from typing import Any

import pytest

from live import protocol as p
from live.config import load_programme
from live.domain import Actor, Role, Room
from live.domain import commands as c
from live.domain import events as e
from live.domain.state import Caption
from live.views import (
    CAPTION_LINES,
    CAPTION_SCAN,
    Audience,
    captions_view,
    project,
    session_view,
    state_view,
)
from tests.statejs import Op, host

LANGUAGES = ("fr", "en", "es")
CAPTIONER, MOD = Actor(Role.CAPTIONER), Actor(Role.MODERATOR)
VIEWERS: list[tuple[Audience, str | None]] = [
    (Audience.MODERATOR, None), (Audience.STAGE, None), (Audience.PARTICIPANT, "u_anna")]


def test_post_caption_is_parsed_with_its_defaults() -> None:
    assert p.parse_command({"type": "PostCaption", "language": "fr", "text": "Bonjour."}) == \
        c.PostCaption("fr", "Bonjour.", True, None)
    assert p.parse_command({"type": "PostCaption", "language": "en", "text": "Hel",
                            "final": False, "client_key": "k1", "ref": "c3"}) == \
        c.PostCaption("en", "Hel", False, "k1")
    assert p.parse_command({"type": "SetStageCaptions", "enabled": True}) == \
        c.SetStageCaptions(True, None)
    assert p.parse_command({"type": "SetStageCaptions", "enabled": True, "language": "es"}) == \
        c.SetStageCaptions(True, "es")


@pytest.mark.parametrize("frame", [
    {"type": "PostCaption", "text": "x"},
    {"type": "PostCaption", "language": "fr"},
    {"type": "PostCaption", "language": ["fr"], "text": "x"},
    {"type": "PostCaption", "language": "fr", "text": 3},
    {"type": "PostCaption", "language": "fr", "text": "x", "final": "true"},
    {"type": "PostCaption", "language": "fr", "text": "x", "final": 0},
    {"type": "PostCaption", "language": "fr", "text": "x", "client_key": 7},
    {"type": "SetStageCaptions"},
    {"type": "SetStageCaptions", "enabled": "on"},
    {"type": "SetStageCaptions", "enabled": True, "language": 1},
])
def test_malformed_caption_commands_are_user_errors(frame: dict[str, Any]) -> None:
    with pytest.raises(p.InvalidCommand) as info:
        p.parse_command({**frame, "ref": "r1"})
    assert info.value.code == "invalid" and info.value.ref == "r1"


def posted(room: Room, command: c.Command, actor: Actor, now: int) -> list[e.Event]:
    events = room.handle(command, actor, now, str)
    for event in events:
        room.apply(event)
    return events


def test_every_audience_is_told_of_a_line_without_its_key() -> None:
    room = Room.new("s", languages=LANGUAGES)
    [event] = posted(room, c.PostCaption("fr", "Bonjour.", client_key="k1"), CAPTIONER, 5_000)
    fanout = project(event, {"type": "CaptionPosted", "seq": 1}, room.state)
    assert not fanout.private
    for audience in Audience:
        assert fanout.shared[audience] == {"type": "CaptionPosted", "seq": 1, "caption": {
            "language": "fr", "text": "Bonjour.", "at": 5_000, "final": True}}
    event = posted(room, c.SetStageCaptions(True, "en"), MOD, 6_000)[0]
    fanout = project(event, {"type": "StageCaptionsSet", "seq": 2}, room.state)
    for audience in Audience:
        assert fanout.shared[audience]["settings"] == {
            "premoderation": True, "stage_captions": "en", "replay_published": True}


def test_a_snapshot_carries_the_latest_lines_of_each_language_only() -> None:
    room = Room.new("s", languages=LANGUAGES)
    for i in range(3 * CAPTION_LINES):
        posted(room, c.PostCaption("fr", f"fr {i}"), CAPTIONER, i)
    posted(room, c.PostCaption("en", "en 0"), CAPTIONER, 100)
    posted(room, c.PostCaption("es", "es…", final=False), CAPTIONER, 101)
    view = state_view(room.state, {"id": "s"}, Audience.PARTICIPANT, "u_anna", 0)["captions"]
    assert [line["text"] for line in view["lines"]] == [
        *(f"fr {i}" for i in range(2 * CAPTION_LINES, 3 * CAPTION_LINES)), "en 0"]
    assert view["partials"] == {"es": {"language": "es", "text": "es…", "at": 101,
                                       "final": False}}
    assert all(set(line) == {"language", "text", "at", "final"} for line in view["lines"])


def test_the_snapshot_looks_through_the_latest_lines_only() -> None:
    room = Room.new("s", languages=LANGUAGES)
    room.state.captions = [Caption("en", "old", 0)] + [
        Caption("fr", f"fr {i}", i + 1) for i in range(CAPTION_SCAN)]
    lines = captions_view(room.state)["lines"]
    assert {line["language"] for line in lines} == {"fr"} and len(lines) == CAPTION_LINES
    room.state.captions = room.state.captions[1:]  # within the scan: one more line to send
    room.state.captions.insert(1, Caption("en", "recent", 1))
    assert captions_view(room.state)["lines"][0]["text"] == "recent"


def test_the_session_view_names_its_languages() -> None:
    programme = load_programme(None)
    session = next(s for s in programme.sessions if len(s.languages) > 1)
    assert session_view(programme, session.id)["languages"] == list(session.languages)


def random_caption(rng: random.Random) -> tuple[c.Command, Actor]:
    language = rng.choice(LANGUAGES)
    if rng.random() < 0.1:
        return c.SetStageCaptions(rng.random() < 0.7, rng.choice([None, *LANGUAGES])), MOD
    if rng.random() < 0.05:
        return c.AskQuestion("Et les sous-titres ?"), Actor(Role.PARTICIPANT, "u_anna")
    return c.PostCaption(language, f"{language} {rng.random():.4f}", rng.random() < 0.6,
                         rng.choice([None, None, None, "k1"])), CAPTIONER


@pytest.mark.parametrize("seed", range(5))
def test_old_view_plus_caption_events_equals_fresh_view(seed: int) -> None:
    rng = random.Random(seed)
    room = Room.new("s", premoderation=False, languages=LANGUAGES)
    keys = {v: f"captions-{seed}-{v[0].value}" for v in VIEWERS}

    def fresh(audience: Audience, pid: str | None) -> dict[str, Any]:
        return state_view(room.state, {"id": "s"}, audience, pid, 0)

    host().run([(keys[v], "snapshot", fresh(*v), {"epoch": "e", "seq": 0}) for v in VIEWERS])
    seq = 0
    for step in range(1, 150):
        command, actor = random_caption(rng)
        ops: list[Op] = []
        for event in posted(room, command, actor, step * 1_000):
            seq += 1
            fanout = project(event, {"type": type(event).__name__, "seq": seq}, room.state)
            for audience, pid in VIEWERS:
                message = fanout.private.get(pid or "") or fanout.shared.get(audience)
                if message is not None:
                    ops.append((keys[(audience, pid)], "event", message, None))
        ops += [(f"fresh-{keys[v]}", "snapshot", fresh(*v), {"epoch": "e", "seq": seq})
                for v in VIEWERS]
        fresh_views = host().run(ops)[-len(VIEWERS):]
        # An event already seen (seq 0) changes nothing: it reads each page's state as it is.
        synced = host().run([(keys[v], "event", {"type": "Seen", "seq": 0}, None)
                             for v in VIEWERS])
        for v, old, new in zip(VIEWERS, synced, fresh_views, strict=True):
            assert old is not None and new is not None
            assert old["captions"] == new["captions"], (seed, step, v, command)
            assert old["settings"] == new["settings"], (seed, step, v, command)
    assert sum(line.language == "fr" for line in room.state.captions) > CAPTION_LINES
