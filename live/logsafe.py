"""No link token in any log line.

Links carry their token in the query string (`?t=…`), WHIP/WHEP clients send it as a Bearer token,
and uvicorn's access log writes every request's path with its query string. A log file is read by
more people, and kept longer, than the links it would leak: each record is redacted when it is
made, whichever logger makes it (ours, uvicorn's access and error logs, aiortc's), so no handler
configured later (uvicorn configures its own when it starts) can miss it.

Redacted: the value of a `t` query parameter, what follows `Bearer`, and anything shaped like one
of our tokens (a base64url JSON payload, a dot, a 24-character signature) wherever it appears.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
_PATTERNS = [
    (re.compile(r"([?&;]t=)[^&;#\s\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"(\bbearer\s+)[^\s\"',;]+", re.I), rf"\1{REDACTED}"),
    # A signed token: base64url of a JSON object ('{"' is "eyJ"), a dot, 18 bytes of MAC.
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{24}(?![A-Za-z0-9_-])"), REDACTED),
]


def redact(text: str) -> str:
    """`text` with every token in it replaced by [redacted]."""
    if "t=" not in text and "eyJ" not in text and "earer" not in text.lower():
        return text  # most log lines: nothing to look for
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return redact(arg)
    if isinstance(arg, int | float | type(None)):
        return arg  # %d and %f arguments stay numbers
    if type(arg).__module__ == "websockets.frames" and getattr(
            getattr(arg, "opcode", None), "name", None) in ("TEXT", "BINARY", "CONT"):
        # A WebSocket frame at debug level: its text is cut in the middle ("eyJ…ij78"), which no
        # pattern can recognise, and a Hello's token (or the end of its signature) may show.
        # Frames carry personal data besides: only their kind and size are kept.
        return f"{arg.opcode.name} [{len(arg.data)} bytes, content not logged]"
    text = str(arg)
    redacted = redact(text)
    return arg if redacted == text else redacted


class RedactTokens(logging.Filter):
    """Redact a record's message and arguments in place (each argument on its own, so formatters
    that read `record.args`, like uvicorn's access formatter, still find them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Format the traceback now, redacted: formatters reuse exc_text when it is set.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Redact every record from now on (idempotent): in the record factory, which every logger
    goes through, rather than on handlers, which uvicorn replaces when it configures logging."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts_tokens", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _FILTER.filter(record)
        return record

    make_record.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
    # Records made before install() or by a custom factory installed later still meet the filter
    # on the loggers that write tokens most: uvicorn's access log, its error log, and the root's.
    for name in ("uvicorn.access", "uvicorn.error", ""):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
