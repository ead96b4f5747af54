"""The wire format at its edges: exact bounds, exact bytes, the reasons a peer is told, and the
repair of lone surrogates. tests/test_protocol.py covers the ordinary frames and the fuzzing."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from live import protocol as p
from live.domain import commands as c


def test_a_frame_decodes_to_its_object() -> None:
    assert p.decode_frame('{"type":"Ping","ref":"a","n":[1,{"b":null}]}') == {
        "type": "Ping", "ref": "a", "n": [1, {"b": None}]}


@pytest.mark.parametrize(("text", "reason"), [
    ("{", "frame is not valid JSON"),
    ("[]", "frame is not a JSON object with a type"),
    ('{"type": 3}', "frame is not a JSON object with a type"),
])
def test_a_broken_frame_tells_the_peer_why(text: str, reason: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_frame(text)
    assert (info.value.code, info.value.reason, str(info.value)) == (
        p.CLOSE_INVALID_PAYLOAD, reason, reason)


@pytest.mark.parametrize(("escape", "text"), [
    ("\\ud83d", "a\ufffd"),  # a high surrogate without its low half: an emoji cut in two
    ("\\uD83D", "a\ufffd"),
    ("\\ude00", "a\ufffd"),
    ("\\ud83d\\ude00", "a\U0001f600"),  # a whole pair is the emoji itself
    ("\\uD83D\\uDE00", "a\U0001f600"),
])
def test_lone_surrogates_become_replacement_characters(escape: str, text: str) -> None:
    frame = p.decode_frame('{"type":"AskQuestion","text":"a' + escape + '","n":[1,"é"]}')
    assert frame == {"type": "AskQuestion", "text": text, "n": [1, "é"]}
    p.encode(frame).encode()  # what is echoed back is text again


def test_a_frame_too_deep_to_repair_is_refused_as_nested_too_deeply() -> None:
    """The repair writes the frame back to JSON, one call deeper than the parser: at the nesting
    where the parser just succeeds, writing it back fails, and the peer is told so."""
    def frame(depth: int) -> str:
        return '{"type":"x","a":' + "[" * depth + '"\\ud800"' + "]" * depth + "}"

    for depth in range(sys.getrecursionlimit() + 10, 0, -1):
        try:
            p.decode_frame(frame(depth))
        except p.ProtocolError as error:
            if error.reason == "frame is not valid JSON":
                continue  # too deep for the parser itself
            assert (error.code, error.reason) == (p.CLOSE_INVALID_PAYLOAD, "frame is nested too deeply")
            return
        pytest.fail(f"the deepest frame the parser reads ({depth}) was repaired")
    pytest.fail("no depth reached the parser's limit")


def test_a_ref_of_exactly_the_bound_is_echoed() -> None:
    assert p.message_ref({"ref": "x" * p.MAX_REF_CHARS}) == "x" * p.MAX_REF_CHARS
    assert p.message_ref({"ref": "x" * (p.MAX_REF_CHARS + 1)}) is None
    assert p.message_ref({}) is None


def test_optional_fields_take_a_value_or_null() -> None:
    frame = {"type": "AskQuestion", "text": "Q", "name": "Ana", "organisation": None,
             "client_key": "k1"}
    assert p.parse_command(frame) == c.AskQuestion("Q", name="Ana", client_key="k1")
    with pytest.raises(p.InvalidCommand, match="'name' has the wrong type"):
        p.parse_command({"type": "AskQuestion", "text": "Q", "name": 3})
    with pytest.raises(p.InvalidCommand, match="'text' has the wrong type"):
        p.parse_command({"type": "AskQuestion", "text": None})  # required, not optional


@pytest.mark.parametrize(("choices", "valid"), [
    ([0] * 100, True), ([0] * 101, False),
    ([2**31 - 1], True), ([-(2**31 - 1)], True), ([2**31], False), ([-(2**31)], False),
])
def test_list_and_integer_bounds_are_exact(choices: list[int], valid: bool) -> None:
    frame = {"type": "CastBallot", "poll_id": "p", "choices": choices}
    if valid:
        assert p.parse_command(frame) == c.CastBallot("p", choices)
    else:
        with pytest.raises(p.InvalidCommand, match="'choices' has the wrong type"):
            p.parse_command(frame)


@pytest.mark.parametrize("annotation", [float, dict[str, int], bytes])
def test_an_annotation_the_checker_does_not_know_accepts_nothing(annotation: Any) -> None:
    """A future command field of another type is refused until the checker learns it, never let
    through unchecked."""
    assert not p._check(1.5, annotation)
    assert not p._check({"a": 1}, annotation)


def test_invalid_commands_say_what_is_wrong() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "N" * 50}, "unknown message type " + repr("N" * 40)),
        ({"type": "AskQuestion"}, "AskQuestion: 'text' is missing"),
        ({"type": "AskQuestion", "text": 1}, "AskQuestion: 'text' has the wrong type"),
    ]
    for frame, message in cases:
        with pytest.raises(p.InvalidCommand) as info:
            p.parse_command(frame)
        assert (info.value.message, str(info.value)) == (message, message)


def test_encoding_is_compact_utf8_with_exact_html_escapes() -> None:
    assert p.encode({"a": [1, 2], "t": "é <b> & ☺"}) == (
        '{"a":[1,2],"t":"é \\u003cb\\u003e \\u0026 ☺"}')
