"""The wire format, without a server: parsing, validation, and fuzzed hostile frames."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from live import protocol as p
from live.domain import commands as c
from live.domain.commands import COMMANDS


def test_a_valid_command_is_parsed_with_its_defaults() -> None:
    command = p.parse_command({"type": "AskQuestion", "text": "Bonjour ?", "ref": "c1"})
    assert command == c.AskQuestion("Bonjour ?")
    poll = p.parse_command({"type": "CreatePoll", "question": "Q", "options": ["a", "b"]})
    assert poll == c.CreatePoll("Q", ["a", "b"], False)


@pytest.mark.parametrize(("frame", "code"), [
    ({"type": "Nope"}, "unknown_type"),
    ({"type": "AskQuestion"}, "invalid"),  # text missing
    ({"type": "AskQuestion", "text": ["x"]}, "invalid"),
    ({"type": "AskQuestion", "text": "x", "anonymous": "yes"}, "invalid"),
    ({"type": "CastBallot", "poll_id": "p", "choices": [True]}, "invalid"),  # bool is not int
    ({"type": "CastBallot", "poll_id": "p", "choices": [2**40]}, "invalid"),
    ({"type": "CastBallot", "poll_id": "p", "choices": list(range(101))}, "invalid"),
    ({"type": "SetPremoderation", "enabled": 1}, "invalid"),
])
def test_bad_commands_are_user_errors(frame: dict[str, Any], code: str) -> None:
    with pytest.raises(p.InvalidCommand) as info:
        p.parse_command({**frame, "ref": "r9"})
    assert info.value.code == code and info.value.ref == "r9"


@pytest.mark.parametrize("text", ["{", "[]", '"x"', "1", '{"type": 3}', "{}", "\ud800", "null",
                                  "[" * 100_000 + "]" * 100_000])
def test_frames_that_are_not_typed_objects_are_protocol_errors(text: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_frame(text)
    assert info.value.code == p.CLOSE_INVALID_PAYLOAD


def test_refs_are_echoed_only_when_sane() -> None:
    assert p.message_ref({"ref": "c1"}) == "c1"
    assert p.message_ref({"ref": 7}) == "7"
    assert p.message_ref({"ref": True}) is None
    assert p.message_ref({"ref": "x" * 65}) is None
    assert p.message_ref({"ref": {"a": 1}}) is None


def test_encoding_is_safe_inside_html() -> None:
    text = p.encode({"text": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"text": "</script><b>&"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from([*COMMANDS, "Hello", "Ping", "", "__class__"]),
       fields=st.dictionaries(st.sampled_from(
           ["text", "name", "anonymous", "question_id", "poll_id", "choices", "options",
            "question", "multiple", "enabled", "starred", "target", "participant_id", "ref",
            "client_key", "organisation"]), json_values, max_size=6))
def test_fuzzed_frames_parse_or_fail_cleanly(kind: str, fields: dict[str, Any]) -> None:
    frame = json.dumps({**fields, "type": kind})
    try:
        command = p.parse_command(p.decode_frame(frame))
    except (p.InvalidCommand, p.ProtocolError):
        return
    assert type(command).__name__ == kind
