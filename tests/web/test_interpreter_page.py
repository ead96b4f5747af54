"""The interpreter's page: opened by an interpreter link of that session (its language's booth),
or by an admin naming the language; refused to every other link as the other pages refuse them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Role
from live.web.auth import EVENT_SCOPE, Signer
from tests.web.test_pages import assert_csp_clean, path_of

SESSION = "pleniere-geopolitique"  # streamed, languages fr (the floor), en, es
OTHER = "pleniere-aict"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


def signer(client: TestClient) -> Signer:
    found: Signer = client.app.state.signer  # type: ignore[attr-defined]
    return found


def issued(client: TestClient, role: Role, scope: str = SESSION, *, language: str | None = None,
           expires: int | None = None) -> str:
    expires = int(time.time()) + 3600 if expires is None else expires
    return quote(signer(client).issue(role, scope, expires, language=language))


def test_the_printed_interpreter_link_opens_its_booth(client: TestClient) -> None:
    path = path_of(client, "interpreter en")
    assert urlsplit(path).path == f"/interpret/{SESSION}"
    page = client.get(path)
    assert page.status_code == 200 and '<html lang="fr"' in page.text
    assert 'data-role="interpreter"' in page.text and f'data-session="{SESSION}"' in page.text
    assert 'data-language="en"' in page.text and 'data-languages="fr en es"' in page.text
    assert "/static/js/interpreter.js" in page.text
    assert "Votre canal\u00a0: anglais" in page.text and "Hors antenne" in page.text
    assert "Prendre l'antenne" in page.text and "Portez un casque" in page.text
    # The relay sources: the floor and the other booths, never one's own.
    options = re.findall(r'<option value="(\w*)">([^<]*)</option>',
                         page.text.split('<select id="interp-source"')[1].split("</select>")[0])
    assert options == [("", "Salle (original, français)"), ("es", "Relais\u00a0: espagnol")]
    names = re.search(r'<script type="application/json" id="interp-language-names">(.*?)</script>',
                      page.text)
    assert names and json.loads(names.group(1)) == {"fr": "français", "en": "anglais",
                                                    "es": "espagnol"}
    assert_csp_clean(page.text)
    english = client.get(path + "&lang=en")
    assert "Your channel: English" in english.text and "Go on air" in english.text
    assert "Floor (original, French)" in english.text
    spanish = client.get(path_of(client, "interpreter es") + "&lang=es")
    assert "Su canal: español" in spanish.text and 'data-language="es"' in spanish.text
    assert '<option value="en">Relé: inglés</option>' in spanish.text


def test_an_admin_names_the_booth(client: TestClient) -> None:
    admin = issued(client, Role.ADMIN, EVENT_SCOPE)
    page = client.get(f"/interpret/{SESSION}?t={admin}&language=es")
    assert page.status_code == 200 and 'data-language="es"' in page.text
    assert client.get(f"/interpret/{SESSION}?t={admin}").status_code == 404  # which booth?
    missing = client.get(f"/interpret/{SESSION}?t={admin}&language=de")
    assert missing.status_code == 404 and "pas d'interprétation dans cette langue" in missing.text
    floor = client.get(f"/interpret/{SESSION}?t={admin}&language=fr")  # the floor is no booth
    assert floor.status_code == 404


def test_an_interpreter_link_cannot_choose_another_booth(client: TestClient) -> None:
    page = client.get(path_of(client, "interpreter en") + "&language=es")
    assert page.status_code == 200 and 'data-language="en"' in page.text
    german = issued(client, Role.INTERPRETER, language="de")  # a language the session lacks
    assert client.get(f"/interpret/{SESSION}?t={german}").status_code == 404


@pytest.mark.parametrize("role", ["participant", "moderator", "stage", "studio", "captioner"])
def test_other_roles_links_are_refused(client: TestClient, role: str) -> None:
    query = urlsplit(path_of(client, role)).query
    response = client.get(f"/interpret/{SESSION}?{query}")
    assert response.status_code == 403 and "interpreter.js" not in response.text
    assert "Ce lien ne donne pas accès à cette page." in response.text


def test_expired_missing_forged_and_other_sessions_links_are_refused(client: TestClient) -> None:
    expired = issued(client, Role.INTERPRETER, language="en", expires=int(time.time()) - 1)
    assert client.get(f"/interpret/{SESSION}?t={expired}").status_code == 401
    assert client.get(f"/interpret/{SESSION}").status_code == 401
    token = urlsplit(path_of(client, "interpreter en")).query.removeprefix("t=")
    assert client.get(f"/interpret/{SESSION}?t={token[:-3]}xyz").status_code == 401
    other = urlsplit(path_of(client, "interpreter en", OTHER)).query
    refused = client.get(f"/interpret/{SESSION}?{other}")
    assert refused.status_code == 403 and "interpreter.js" not in refused.text
    assert client.get(f"/interpret/no-such-session?{other}").status_code == 404
    # and the interpreter link opens no other page
    mine = urlsplit(path_of(client, "interpreter en")).query
    for page in ("s", "moderate", "stage", "studio"):
        assert client.get(f"/{page}/{SESSION}?{mine}").status_code == 403, page
