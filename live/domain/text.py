"""Invisible characters that can disguise user text, their removal, and the cleaning every typed
text goes through (`clean_text`).

Bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what follows them on
screen: a question can display one thing and say another, and a name can spill its direction into
the text around it on the moderator's console or the stage. Zero-width characters (U+200B-U+200F,
U+2060, U+FEFF, ...) make two names that look the same differ, hide words from a moderator's eye,
or make a name that shows as nothing. All of them are Unicode's "format" category (Cf), which
ordinary text never needs; the Hangul fillers and the grapheme joiner are letters or marks that
render as nothing, used for the same tricks.

One exception: a zero-width joiner between two emoji makes one emoji of them (a family, a rainbow
flag, a profession with a skin tone); it is kept there, where it can hide nothing.
"""

from __future__ import annotations

import unicodedata

from live.domain.errors import DomainError

ZWJ = "\u200d"
# Render as nothing but are not in Cf: the combining grapheme joiner and the Hangul fillers.
INVISIBLE_OTHERS = frozenset("\u034f\u115f\u1160\u3164\uffa0")
EMOJI_PARTS = frozenset("\ufe0f\u20e3")  # emoji presentation selector, keycap


def _is_emoji_part(ch: str) -> bool:
    """Pictographs (So), skin-tone modifiers (Sk, U+1F3FB-U+1F3FF) and emoji selectors."""
    return ch in EMOJI_PARTS or unicodedata.category(ch) == "So" or 0x1F3FB <= ord(ch) <= 0x1F3FF


def _invisible(text: str, i: int) -> bool:
    ch = text[i]
    if ch in INVISIBLE_OTHERS:
        return True
    if unicodedata.category(ch) != "Cf":
        return False
    if ch == ZWJ and 0 < i < len(text) - 1:
        return not (_is_emoji_part(text[i - 1]) and _is_emoji_part(text[i + 1]))
    return True


def without_invisible(text: str) -> str:
    """`text` without bidi controls, zero-width and other invisible format characters."""
    if text.isascii():  # the common case: nothing to look at
        return text
    return "".join(ch for i, ch in enumerate(text) if not _invisible(text, i))


def clean_text(value: str | None, limit: int, what: str, *, required: bool = True) -> str | None:
    """Drop invisible characters (`without_invisible`), trim, refuse control characters and
    enforce the length limit: the rules for every text a person types (questions, names, polls,
    captions)."""
    text = without_invisible(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        if required:
            raise DomainError("invalid", f"{what} is empty")
        return None
    if len(text) > limit:
        raise DomainError("invalid", f"{what} is longer than {limit} characters", limit=limit)
    # C0 controls (but newline and tab), DEL and C1 controls (U+0080-U+009F: CSI, NEL, ...)
    if any((ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F) and ch not in "\n\t" for ch in text):
        raise DomainError("invalid", f"{what} contains control characters")
    return text
