"""Registered participants: the organiser's registrants file, and one personal link each.

In "registered" mode the organiser gives tribune a CSV of registrants (name, organisation, email,
language); tribune issues each a personal participant link, written out as a CSV for a mail merge
(`python run.py --registrants FILE --links-out OUT.csv`, README). The link's signed token names the
registrant by an id derived from their email (`Signer.registrant_id`), never by the email itself,
and the participant *is* the registrant: one identity, so one ballot and one upvote, whatever the
device, and a ban that follows them to any device. Names and organisations pre-fill the page.

The file: UTF-8 (a BOM, as spreadsheets write, is fine), comma- or semicolon-separated, with a
header naming the columns `name`, `organisation`, `email`, `language` (French `nom`,
`organisation`, `courriel`/`email`, `langue` too), or no header and the columns in that order.
`language` is an interface language (a catalog in live/i18n/: `fr`, the default when empty,
`en`, `es`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from live.config import Settings
from live.domain.state import NAME_CHARS, ORGANISATION_CHARS
from live.domain.text import without_invisible
from live.web.i18n import DEFAULT_LANGUAGE, LANGUAGES

MAX_REGISTRANTS = 100_000
EMAIL_CHARS = 254
COLUMNS = ("name", "organisation", "email", "language")
_ALIASES = {"name": "name", "nom": "name", "organisation": "organisation",
            "organization": "organisation", "email": "email", "e-mail": "email",
            "courriel": "email", "mail": "email", "language": "language", "langue": "language",
            "lang": "language"}


class RegistrantsError(ValueError):
    """The registrants file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Registrant:
    id: str  # also their participant id
    name: str
    organisation: str
    email: str
    language: str

    def profile(self) -> dict[str, str | None]:
        """What pre-fills their participant page (never the email)."""
        return {"name": self.name, "organisation": self.organisation or None}


class Registry:
    """The registrants, by id. Empty in open mode."""

    def __init__(self, registrants: Iterable[Registrant] = ()) -> None:
        self._by_id = {r.id: r for r in registrants}

    def get(self, registrant_id: str) -> Registrant | None:
        return self._by_id.get(registrant_id)

    def __iter__(self) -> Iterator[Registrant]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def parse_registrants(text: str, registrant_id: Callable[[str], str]) -> Registry:
    """The registrants of a CSV text; `registrant_id` turns an email into an id."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)
            if any(cell.strip() for cell in row)]
    order, first_line = list(COLUMNS), 1
    if rows and not any("@" in cell for cell in rows[0]):  # a header
        header = [_ALIASES.get(cell.strip().lower(), "") for cell in rows.pop(0)]
        missing = [c for c in ("name", "email") if c not in header]
        if missing:
            raise RegistrantsError(f"the header has no {' or '.join(missing)} column "
                                   f"(expected: {', '.join(COLUMNS)})")
        order, first_line = header, 2
    if len(rows) > MAX_REGISTRANTS:
        raise RegistrantsError(f"more than {MAX_REGISTRANTS} registrants")
    seen: dict[str, int] = {}
    registrants = []
    for line, row in enumerate(rows, start=first_line):
        cells = {column: cell.strip() for column, cell in zip(order, row, strict=False) if column}
        registrant = _registrant(cells, line, registrant_id)
        if registrant.email.lower() in seen:  # the message names lines, never an email
            raise RegistrantsError(f"line {line}: the same email as line "
                                   f"{seen[registrant.email.lower()]}")
        seen[registrant.email.lower()] = line
        registrants.append(registrant)
    return Registry(registrants)


def _registrant(cells: dict[str, str], line: int, registrant_id: Callable[[str], str]
                ) -> Registrant:
    # Bidi controls and zero-width characters go, as from every name typed on a page: the
    # pre-filled form must show what the moderators will see.
    name, email = without_invisible(cells.get("name", "")).strip(), cells.get("email", "")
    organisation = without_invisible(cells.get("organisation", "")).strip()
    language = cells.get("language", "").lower()
    if not name or len(name) > NAME_CHARS:
        raise RegistrantsError(f"line {line}: a name of 1 to {NAME_CHARS} characters is needed")
    if len(organisation) > ORGANISATION_CHARS:
        raise RegistrantsError(f"line {line}: the organisation is longer than "
                               f"{ORGANISATION_CHARS} characters")
    if "@" not in email or len(email) > EMAIL_CHARS or any(c.isspace() for c in email):
        raise RegistrantsError(f"line {line}: the email column holds no email address")
    if language not in ("", *LANGUAGES):
        raise RegistrantsError(f"line {line}: language {language!r} is not one of "
                               f"{', '.join(LANGUAGES)}")
    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in name + organisation):
        raise RegistrantsError(f"line {line}: control characters in the name or organisation")
    return Registrant(registrant_id(email), name, organisation, email, language or DEFAULT_LANGUAGE)


def read_registrants(path: Path, registrant_id: Callable[[str], str]) -> Registry:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistrantsError(f"{path}: {exc}") from None
    try:
        return parse_registrants(text, registrant_id)
    except RegistrantsError as exc:
        raise RegistrantsError(f"{path}: {exc}") from None


def links_csv(registry: Registry, link: Callable[[Registrant], str]) -> str:
    """The mail-merge file: each registrant's columns and their personal link."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "link"])
    for r in registry:
        writer.writerow([r.name, r.organisation, r.email, r.language, link(r)])
    return out.getvalue()


def check_registered_mode(settings: Settings) -> None:
    """Fail at start, saying why, rather than serve an event nobody can join."""
    if settings.registrants_path is None:
        if not settings.public_link:
            raise RegistrantsError("switching the public link off needs --registrants FILE: "
                                   "nobody could take part")
        if settings.links_out is not None:
            raise RegistrantsError("--links-out needs --registrants FILE")
        return
    if not len(read_registrants(settings.registrants_path, lambda email: email)):
        raise RegistrantsError(f"{settings.registrants_path}: no registrants")
