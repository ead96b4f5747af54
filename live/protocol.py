"""The wire format: parse client frames into commands, encode server messages. See docs/protocol.md.

Everything here is pure: the WebSocket session calls it, and tests call it without a server.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import fields
from typing import Any

from live.domain.commands import COMMANDS, Command

VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
MAX_REF_CHARS = 64

# Close codes (see docs/protocol.md).
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_UNAUTHORIZED = 4001
CLOSE_HELLO_EXPECTED = 4002
CLOSE_BAD_VERSION = 4003
CLOSE_UNKNOWN_SESSION = 4004
CLOSE_SLOW_CLIENT = 4008
# No participant identity for this connection (live/web/identity.py): the public link is switched
# off (registered participants only); too many new identities from the address (retry later); a
# ban holds the address for a while (retry later).
CLOSE_PUBLIC_LINK_OFF = 4005
CLOSE_TOO_MANY_IDENTITIES = 4029
CLOSE_ADDRESS_HELD = 4030


class ProtocolError(Exception):
    """The peer broke the protocol: close the connection with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class InvalidCommand(Exception):
    """A well-formed frame whose command is wrong: answered with an Error, connection kept."""

    def __init__(self, code: str, message: str, ref: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


def decode_frame(text: str) -> dict[str, Any]:
    """A frame must be a JSON object with a string `type`."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(CLOSE_INVALID_PAYLOAD, "frame is not valid JSON") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        raise ProtocolError(CLOSE_INVALID_PAYLOAD, "frame is not a JSON object with a type")
    data: dict[str, Any] = parsed
    if "\\ud" in text or "\\uD" in text:  # only an escape can make a surrogate: rare, so checked
        try:
            data = _without_lone_surrogates(data)
        except RecursionError:  # nested as deep as the parser allows: too deep to write back
            raise ProtocolError(CLOSE_INVALID_PAYLOAD, "frame is nested too deeply") from None
    return data


def _without_lone_surrogates(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with each lone surrogate (a `\\ud800` escape without its pair) replaced by U+FFFD.

    They are valid JSON, and JSON.stringify makes them from a string cut inside an emoji, but not
    text: the UTF-8 encoding of anything that carries one (a question, a `ref` echoed back, a
    stored record) fails, and would take down every connection that message is sent to.
    """
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode()
        return data
    except UnicodeEncodeError:
        fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        result: dict[str, Any] = json.loads(fixed)
        return result


def message_ref(data: dict[str, Any]) -> str | None:
    ref = data.get("ref")
    if isinstance(ref, str | int) and not isinstance(ref, bool) and len(str(ref)) <= MAX_REF_CHARS:
        return str(ref)
    return None


def _check(value: Any, annotation: Any) -> bool:
    """Whether a JSON value fits a command field's annotation (str, bool, int, list[...], X | None)."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        return any(_check(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and len(value) <= 100 and all(_check(v, item) for v in value)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31
    if annotation is str:
        return isinstance(value, str)
    return False


_HINTS = {name: typing.get_type_hints(cls) for name, cls in COMMANDS.items()}


def parse_command(data: dict[str, Any]) -> Command:
    """Build the command a frame names, checking every field's type; raise InvalidCommand."""
    ref = message_ref(data)
    name = data["type"]
    cls = COMMANDS.get(name)
    if cls is None:
        raise InvalidCommand("unknown_type", f"unknown message type {name[:40]!r}", ref)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            if f.default is f.default_factory:  # both MISSING: the field is required
                raise InvalidCommand("invalid", f"{name}: '{f.name}' is missing", ref)
            continue
        if not _check(data[f.name], _HINTS[name][f.name]):
            raise InvalidCommand("invalid", f"{name}: '{f.name}' has the wrong type", ref)
        kwargs[f.name] = data[f.name]
    return cls(**kwargs)


def encode(message: dict[str, Any]) -> str:
    """Compact JSON; `<`, `>` and `&` escaped so a message is also safe inside an HTML data block."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
