"""Message catalogs (live/i18n/*.json) and language choice. French is the default.

A language is offered as soon as its catalog file is there: `LANGUAGES` is read from the files
(tests/web/test_i18n.py checks every catalog has French's keys, placeholders and plural forms).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from babel.core import negotiate_locale
from starlette.requests import Request

DEFAULT_LANGUAGE = "fr"


def catalog_languages(folder: Traversable | None = None) -> tuple[str, ...]:
    """The catalogs present, French first, then the others in code order (a stable switcher)."""
    names = (entry.name for entry in (folder or resources.files("live.i18n")).iterdir())
    codes = {name.removesuffix(".json") for name in names if name.endswith(".json")}
    return (DEFAULT_LANGUAGE, *sorted(codes - {DEFAULT_LANGUAGE}))


LANGUAGES = catalog_languages()


@cache
def catalog(lang: str) -> dict[str, str]:
    text = resources.files("live.i18n").joinpath(f"{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def language_name(lang: str) -> str:
    """The language's name in itself ("Español"), as the switcher shows it to its readers."""
    return catalog(lang)["lang.name"]


def translator(lang: str) -> Callable[..., str]:
    own, fallback = catalog(lang), catalog(DEFAULT_LANGUAGE)

    def t(key: str, **values: object) -> str:
        text = own.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


# RFC 9110 §12.4.2 and §12.5.4: a language range, then parameters of which only q counts.
_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
MAX_RANGES = 32  # a browser sends a handful; the rest of a longer header is not read


def accepted_languages(header: str) -> list[str]:
    """The header's language ranges, most wanted first (equal weights keep their order); ranges
    with q=0 (refused) and malformed entries are left out."""
    weighted: list[tuple[float, str]] = []
    for part in header.split(",")[:MAX_RANGES]:
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not _RANGE.match(tag):
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                weight = float(value.strip()) if _QVALUE.match(value.strip()) else -1.0
        if weight > 0:
            weighted.append((weight, tag))
    weighted.sort(key=lambda pair: -pair[0])  # sort is stable
    return [tag for _, tag in weighted]


def negotiate(header: str) -> str:
    """The catalog language that best matches an Accept-Language header; French when none does.
    Babel matches a regional range to its language ("es-MX" → "es")."""
    ranges = [tag for tag in accepted_languages(header) if tag != "*"]
    match = negotiate_locale(ranges, LANGUAGES, sep="-")
    return match.lower() if match and match.lower() in LANGUAGES else DEFAULT_LANGUAGE


def choose_language(request: Request) -> str:
    """?lang= first (and remembered in a cookie by the page route), then the cookie, then headers."""
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    if asked in LANGUAGES:
        return asked
    return negotiate(request.headers.get("accept-language", ""))
