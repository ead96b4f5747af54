"""A session's captions as files: WebVTT for players and video editors, plain text for the report.

WebVTT (https://www.w3.org/TR/webvtt1/): cue times count from the start of the broadcast, so the
file lines up with a recording of it; each cue lasts until the next line of its language, at
least CUE_MIN_MS (a line must stay long enough to read) and at most CUE_MAX_MS (a line followed by
silence leaves the screen). Cue text is escaped (`&`, `<`, `>`), which also makes a typed `-->`
harmless, and a caption never holds a line break (live/domain/captions.py), so no text can end a
cue or forge a timing line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from live.domain.state import Caption

CUE_MIN_MS, CUE_MAX_MS = 1_500, 7_000
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def transcript_origin(lines: Sequence[Caption], on_air_since: int | None) -> int | None:
    """When cue time 0 is (ms since the epoch): when the studio went on air, unless a caption came
    before (the studio went off air and back since): then the first caption, so that no cue starts
    before 0. None when there is no caption at all."""
    first = min((line.at for line in lines), default=None)
    if first is None:
        return None
    return first if on_air_since is None else min(first, on_air_since)


def vtt_timestamp(ms: int) -> str:
    hours, rest = divmod(max(0, ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_text(text: str) -> str:
    """Cue text: one line, the three characters WebVTT gives a meaning escaped. (Captions hold no
    control character, live/domain/text.py; one in older data would become a space.)"""
    one_line = " ".join(_CONTROLS.sub(" ", text).split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(lines: Sequence[Caption], origin: int) -> str:
    """One language's final lines as a WebVTT file, timed from `origin` (ms since the epoch)."""
    ordered = sorted(lines, key=lambda line: line.at)  # processes' clocks may differ a little
    starts = [max(0, line.at - origin) for line in ordered]
    out = ["WEBVTT", ""]
    number = 0
    for i, line in enumerate(ordered):
        text = vtt_text(line.text)
        if not text:
            continue
        start = starts[i]
        following = starts[i + 1] if i + 1 < len(starts) else start + CUE_MAX_MS
        end = start + min(CUE_MAX_MS, max(CUE_MIN_MS, following - start))
        number += 1
        out += [str(number), f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}", text, ""]
    return "\n".join(out)


def plain_text(lines: Sequence[Caption], zone: tzinfo) -> str:
    """One line per caption: its time of day where the event takes place, then the text."""
    return "".join(
        f"[{datetime.fromtimestamp(line.at / 1000, zone).strftime('%H:%M:%S')}] "
        f"{' '.join(line.text.split())}\n"
        for line in sorted(lines, key=lambda line: line.at))
