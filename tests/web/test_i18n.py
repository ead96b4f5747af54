"""Interface languages: one catalog file each, all alike; the language a request gets; French typography."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, catalog_languages, negotiate
from tests.web.test_pages import path_of

CATALOGS = Path(__file__).resolve().parents[2] / "live" / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CATEGORIES = ("zero", "one", "two", "few", "many", "other")  # CLDR plural categories


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


# -- one file per language -------------------------------------------------------------------------

def test_the_languages_are_the_catalog_files_french_first() -> None:
    files = sorted(p.stem for p in CATALOGS.glob("*.json"))
    assert LANGUAGES[0] == DEFAULT_LANGUAGE and sorted(LANGUAGES) == files
    assert "es" in LANGUAGES and list(LANGUAGES[1:]) == sorted(LANGUAGES[1:])


def test_a_new_catalog_file_is_a_new_language(tmp_path: Path) -> None:
    for name in ("en.json", "fr.json", "de.json", "README.md"):
        (tmp_path / name).write_text("{}", "utf-8")
    assert catalog_languages(tmp_path) == ("fr", "de", "en")


def plural_bases(keys: set[str]) -> set[str]:
    """French has `.one` and `.other` for each counted text (`studio.limitation.other` is a reason)."""
    return {key.removesuffix(".one") for key in keys
            if key.endswith(".one") and key.removesuffix(".one") + ".other" in keys}


def plural_forms_needed(lang: str) -> set[str]:
    """The CLDR categories the language's counts up to 10 000 fall in (French: one, other)."""
    rule = Locale.parse(lang).plural_form
    return {rule(n) for n in range(10_000)} | {"other"}


def split_plurals(data: dict[str, str], bases: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    forms: dict[str, set[str]] = {base: set() for base in bases}
    plain = set()
    for key in data:
        base, _, category = key.rpartition(".")
        if base in bases and category in CATEGORIES:
            forms[base].add(category)
        else:
            plain.add(key)
    return plain, forms


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalog_has_french_keys_placeholders_and_its_plural_forms(lang: str) -> None:
    french, data = catalog(DEFAULT_LANGUAGE), catalog(lang)
    bases = plural_bases(set(french))
    french_plain, _ = split_plurals(french, bases)
    plain, forms = split_plurals(data, bases)
    assert plain - french_plain == set(), "keys French does not have"
    assert french_plain - plain == set(), "French keys missing"
    needed, allowed = plural_forms_needed(lang), {*Locale.parse(lang).plural_form.tags, "other"}
    for base, categories in forms.items():
        assert needed <= categories <= allowed, (base, sorted(categories), sorted(needed))
    for key, text in data.items():
        base, _, category = key.rpartition(".")
        model = french[f"{base}.other"] if base in bases and category in CATEGORIES else french[key]
        assert isinstance(text, str) and text.strip(), key
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(model)), key
        text.format(**dict.fromkeys(PLACEHOLDER.findall(text), "x"))  # no stray brace


def test_each_language_is_named_in_itself_in_the_switcher(client: TestClient) -> None:
    page = client.get("/?lang=es")
    assert '<html lang="es"' in page.text
    switcher = page.text.split('data-testid="lang-switch"')[1].split("</nav>")[0]
    assert re.findall(r'\slang="(\w+)"', switcher) == list(LANGUAGES)
    for lang in LANGUAGES:
        assert f'lang="{lang}">{catalog(lang)["lang.name"]}<' in switcher
    assert "Español" in switcher and "Français" in switcher and "English" in switcher


# -- which language a request gets --------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("en;q=0.1, es;q=0.9", "es"),  # the weights, not the order, decide
    ("de, en;q=0.5", "en"),  # no German catalog: the next one wanted
    ("es-MX", "es"), ("ES-mx,en;q=0.8", "es"), ("es-419;q=0.3, fr-CA;q=0.2", "es"),
    ("en, es", "en"), ("es, en", "es"),  # equal weights keep the header's order
    ("en;q=0, es;q=0.001", "es"),  # q=0 refuses a language
    ("*", "fr"), ("de, *;q=0.5", "fr"), ("", "fr"), ("garbage", "fr"), (";;,,;q=", "fr"),
    ("en;q=2", "fr"), ("en;q=abc", "fr"), ("en;q=0.0001", "fr"),  # malformed weights: ignored
    ("en_GB", "fr"), ("x" * 5000, "fr"),
])
def test_accept_language_with_its_weights(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_the_page_follows_the_header_unless_lang_or_the_cookie_say_otherwise(
        client: TestClient) -> None:
    participant = path_of(client, "participant")
    spanish = {"accept-language": "en;q=0.1, es-MX;q=0.9"}
    assert '<html lang="es"' in client.get(participant, headers=spanish).text
    assert '<html lang="fr"' in client.get("/", headers={"accept-language": "*"}).text
    asked = client.get(participant + "&lang=en", headers=spanish)
    assert '<html lang="en"' in asked.text and asked.cookies.get("lang") == "en"
    assert '<html lang="en"' in client.get(participant, headers=spanish).text  # the cookie
    client.cookies.clear()
    client.cookies.set("lang", "fr")
    assert '<html lang="fr"' in client.get(participant, headers=spanish).text
    client.cookies.clear()
    client.cookies.set("lang", "zz")  # not a catalog: the header decides
    assert '<html lang="es"' in client.get(participant, headers=spanish).text


# -- French typography ------------------------------------------------------------------------------

# One rule for the whole French catalog: a no-break space U+00A0 before : ; ! ? and %, and inside
# « », so that a sign never starts a line on its own. (Imprimerie nationale would put the narrow
# U+202F before ; ! ?; one width for all is simpler to keep and every font has U+00A0.)
FRENCH_SIGN = re.compile(r"[:;!?%»]")


def typography_faults(text: str) -> list[str]:
    faults = []
    for match in FRENCH_SIGN.finditer(text):
        start = match.start()
        if text[start:start + 3] == "://" or re.match(r"\d:\d", text[start - 1:start + 2]):
            continue  # an address or a time of day
        if text[start - 1:start] != "\u00a0" or text[start - 2:start - 1].isspace():
            faults.append(text[max(0, start - 12):start + 1])
    for match in re.finditer("«", text):
        after = text[match.end():match.end() + 2]
        if after[:1] != "\u00a0" or after[1:].isspace():
            faults.append(text[match.start():match.end() + 12])
    return faults


def test_french_catalog_has_no_break_spaces_before_high_signs_and_inside_guillemets() -> None:
    french = json.loads((CATALOGS / "fr.json").read_text("utf-8"))
    faults = {key: typography_faults(text) for key, text in french.items()}
    assert {key: found for key, found in faults.items() if found} == {}
    assert any("\u00a0:" in text for text in french.values())  # the scan saw the signs


def test_the_typography_scan_finds_plain_spaces_and_missing_ones() -> None:
    assert typography_faults("Salle\u00a0: «\u00a0x\u00a0» ok\u00a0! 12\u00a0% http://a 14:05") == []
    assert len(typography_faults("Salle : x; y ?z! « a » 5%")) == 7
    assert typography_faults("a\u202f?") and typography_faults("a \u00a0?")
