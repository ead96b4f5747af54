"""A strict reader of WebVTT files (https://www.w3.org/TR/webvtt1/), for the transcript tests.

Stricter than browsers, which skip what they do not understand: every block must be a well-formed
cue (or a NOTE), so a file that a lenient player would show with a cue missing fails here. Cue text
may hold no markup at all (the transcript writes none): a `<` must come escaped, an `&` must start
one of WebVTT's character references.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+\S.*)?$")
REFERENCES = re.compile(r"&(?:amp|lt|gt|lrm|rlm|nbsp);")


@dataclass(frozen=True)
class Cue:
    identifier: str | None
    start: int  # ms
    end: int
    text: str  # unescaped


def _ms(hours: str | None, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def parse_webvtt(data: str | bytes) -> list[Cue]:
    """The cues of a WebVTT file; AssertionError saying what is wrong otherwise."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    assert "\0" not in text, "NUL character"
    text = text.removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = lines[0]
    assert header == "WEBVTT" or (header[:7] in ("WEBVTT ", "WEBVTT\t") and "-->" not in header), \
        f"bad signature line {header!r}"
    blocks: list[list[str]] = []
    current: list[str] = []
    header_done = False
    for line in lines[1:]:
        if line == "":
            if current:
                blocks.append(current)
                current = []
            header_done = True
        elif not header_done:
            raise AssertionError(f"header text after the signature: {line!r}")
        else:
            current.append(line)
    if current:
        blocks.append(current)
    cues: list[Cue] = []
    for block in blocks:
        if block[0] == "NOTE" or block[0].startswith(("NOTE ", "NOTE\t")):
            assert not any("-->" in line for line in block), f"--> in a comment: {block}"
            continue
        identifier = None
        if "-->" not in block[0]:
            identifier, block = block[0], block[1:]
            assert block, f"a cue identifier without timings: {identifier!r}"
        timing = TIMING.match(block[0])
        assert timing, f"bad cue timings {block[0]!r}"
        start, end = _ms(*timing.groups()[:4]), _ms(*timing.groups()[4:])
        assert end > start, f"a cue ends before it starts: {block[0]!r}"
        assert not cues or start >= cues[-1].start, f"cues out of order at {block[0]!r}"
        payload = block[1:]
        assert payload, f"a cue without text at {block[0]!r}"
        for line in payload:
            assert "-->" not in line, f"--> in cue text: {line!r}"
            assert "<" not in line, f"markup in cue text: {line!r}"
            assert "&" not in REFERENCES.sub("", line), f"a bare & in cue text: {line!r}"
        cues.append(Cue(identifier, start, end, html.unescape("\n".join(payload))))
    return cues
