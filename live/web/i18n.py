"""Message catalogs (live/i18n/*.json) and language choice. French is the default."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources

from starlette.requests import Request

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


@cache
def catalog(lang: str) -> dict[str, str]:
    text = resources.files("live.i18n").joinpath(f"{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def translator(lang: str) -> Callable[..., str]:
    own, fallback = catalog(lang), catalog(DEFAULT_LANGUAGE)

    def t(key: str, **values: object) -> str:
        text = own.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


def choose_language(request: Request) -> str:
    """?lang= first (and remembered in a cookie by the page route), then the cookie, then headers."""
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE
