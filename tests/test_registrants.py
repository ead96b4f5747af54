"""The registrants file: what an organiser's spreadsheet export may look like, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.config import Settings
from live.registrants import RegistrantsError, check_registered_mode, links_csv, parse_registrants
from live.web.auth import Signer

SIGNER = Signer("a-test-secret-of-enough-length")


def parse(text: str) -> list[tuple[str, str, str, str]]:
    registry = parse_registrants(text, SIGNER.registrant_id)
    return [(r.name, r.organisation, r.email, r.language) for r in registry]


def test_a_header_in_any_order_french_names_a_bom_and_semicolons() -> None:
    text = "\ufeffcourriel;Nom;Langue;Organisation\r\nm.d@example.org;Marie Dupont;EN;Lyon\r\n\r\n"
    assert parse(text) == [("Marie Dupont", "Lyon", "m.d@example.org", "en")]


def test_no_header_takes_the_documented_order_and_french_by_default() -> None:
    text = 'Paul Martin,"Cités Unies, France",paul@example.net,\n'
    assert parse(text) == [("Paul Martin", "Cités Unies, France", "paul@example.net", "fr")]


def test_names_lose_bidi_controls_and_zero_width_characters_as_typed_ones_do() -> None:
    text = "Ma\u202erie\u200b Dupont,\u2066Lyon\u2069,m@example.org,\n"
    assert parse(text) == [("Marie Dupont", "Lyon", "m@example.org", "fr")]


def test_ids_are_stable_per_secret_case_blind_and_reveal_no_email() -> None:
    [a] = parse_registrants("X,,Marie@Example.org,fr", SIGNER.registrant_id)
    [b] = parse_registrants("X,,marie@example.org ,fr", SIGNER.registrant_id)
    [c] = parse_registrants("X,,marie@example.org,fr", Signer("another-secret-xxxxxxxx").registrant_id)
    assert a.id == b.id != c.id
    assert "marie" not in a.id.lower() and len(a.id) <= 64
    assert a.profile() == {"name": "X", "organisation": None}


@pytest.mark.parametrize(("text", "why"), [
    ("name,email\n,a@example.org\n", "line 2: a name"),
    ("name,email\nMarie,pas-un-courriel\n", "line 2: the email column holds no email"),
    ("Marie,,a@example.org,de\n", "language 'de'"),
    ("Marie,,a@example.org,fr\nPaul,,A@example.org,fr\n", "line 2: the same email as line 1"),
    ("nom,organisation\nMarie,Lyon\n", "no email column"),
    ("Ma\u0007rie,,a@example.org,fr\n", "control characters"),
    ("M" * 61 + ",,a@example.org,fr\n", "a name of 1 to 60"),
])
def test_a_bad_file_is_refused_saying_where(text: str, why: str) -> None:
    with pytest.raises(RegistrantsError, match=why.replace("(", r"\(")):
        parse_registrants(text, SIGNER.registrant_id)


def test_the_links_file_has_the_registrants_columns_and_their_link() -> None:
    registry = parse_registrants("Marie,Lyon,m@example.org,en\n", SIGNER.registrant_id)
    text = links_csv(registry, lambda r: f"https://x/?id={r.id}")
    assert text.splitlines() == ["name,organisation,email,language,link",
                                 f"Marie,Lyon,m@example.org,en,https://x/?id={next(iter(registry)).id}"]


def test_registered_mode_is_checked_at_start(tmp_path: Path) -> None:
    with pytest.raises(RegistrantsError, match="needs --registrants"):
        check_registered_mode(Settings(public_link=False))
    with pytest.raises(RegistrantsError, match="needs --registrants"):
        check_registered_mode(Settings(links_out=tmp_path / "out.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_text("name,organisation,email,language\n", "utf-8")
    with pytest.raises(RegistrantsError, match="no registrants"):
        check_registered_mode(Settings(registrants_path=empty, public_link=False))
    check_registered_mode(Settings())
