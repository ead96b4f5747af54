"""Pages through Starlette's test client: access by signed link, language, a strict CSP."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Role
from tests.conftest import SESSION, token_of


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


def path_of(client: TestClient, role: str, session: str = SESSION) -> str:
    url = urlsplit(client.app.state.links.link(role, session))  # type: ignore[attr-defined]
    return f"{url.path}?{url.query}"


def assert_csp_clean(html: str) -> None:
    """No inline script, no inline style attribute, no inline event handler."""
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I):
        attrs, body = match.groups()
        if 'type="application/json"' in attrs:
            assert "</" not in body
            continue
        assert "src=" in attrs and not body.strip(), match.group(0)[:200]
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)


@pytest.mark.parametrize("role", ["participant", "moderator", "stage", "studio"])
def test_each_role_page_opens_with_its_link(client: TestClient, role: str) -> None:
    response = client.get(path_of(client, role))
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert f'data-role="{role}"' in response.text
    assert f'data-session="{SESSION}"' in response.text
    assert_csp_clean(response.text)


def test_programme_lists_both_days_with_session_links(client: TestClient) -> None:
    response = client.get(path_of(client, "participant").replace(f"/s/{SESSION}", "/"))
    assert response.status_code == 200
    assert "Points Pays" in response.text and "Plénière" in response.text
    assert f"/s/{SESSION}?" in response.text
    assert_csp_clean(response.text)
    anonymous = client.get("/")
    assert anonymous.status_code == 200 and f"/s/{SESSION}?" not in anonymous.text


def test_french_by_default_english_on_request(client: TestClient) -> None:
    french = client.get(path_of(client, "participant"))
    assert '<html lang="fr"' in french.text
    english = client.get(path_of(client, "participant") + "&lang=en")
    assert '<html lang="en"' in english.text
    assert "global geopolitical stakes" in english.text
    assert english.cookies.get("lang") == "en"
    client.cookies.clear()
    by_header = client.get(path_of(client, "participant"), headers={"accept-language": "en-GB"})
    assert '<html lang="en"' in by_header.text


def test_bad_links_are_refused_with_a_page(client: TestClient) -> None:
    participant = path_of(client, "participant")
    token = token_of(participant)
    assert client.get(f"/s/{SESSION}").status_code == 401
    assert client.get(f"/s/{SESSION}?t={token[:-3]}xyz").status_code == 401
    assert client.get(f"/moderate/{SESSION}?t={token}").status_code == 403  # participant link
    other = path_of(client, "moderator", "pleniere-aict").split("?")[1]
    assert client.get(f"/moderate/{SESSION}?{other}").status_code == 403  # other session
    assert client.get(f"/s/no-such-session?t={token}").status_code == 404
    signer = client.app.state.signer  # type: ignore[attr-defined]
    expired = signer.issue(Role.MODERATOR, SESSION, int(time.time()) - 1)
    assert client.get(f"/moderate/{SESSION}?t={expired}").status_code == 401


def test_health(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


def test_moderators_export_questions_and_polls_as_csv(client: TestClient) -> None:
    from live.domain import Actor
    from live.domain import commands as c

    service = client.app.state.service  # type: ignore[attr-defined]
    participant = Actor(Role.PARTICIPANT, "u_test")
    moderator = Actor(Role.MODERATOR)
    portal = client.portal  # type: ignore[attr-defined]
    portal.call(service.execute, SESSION, c.AskQuestion("=cmd|' /C calc'!A0", name="Zoé"),
                participant)
    portal.call(service.execute, SESSION, c.AskQuestion("Sans nom ?"), Actor(Role.PARTICIPANT, "u_2"))
    portal.call(service.execute, SESSION, c.CreatePoll("Oui ?", ["Oui", "Non"]), moderator)
    moderator_path = path_of(client, "moderator")
    query = moderator_path.split("?")[1]
    questions = client.get(f"/moderate/{SESSION}/questions.csv?{query}")
    assert questions.status_code == 200 and questions.headers["content-type"].startswith("text/csv")
    assert "Zoé" in questions.text and "'=cmd" in questions.text  # formula defused
    rows = list(csv.reader(io.StringIO(questions.text.lstrip("\ufeff"))))
    anonymous = next(r for r in rows if r[2] == "Sans nom ?")
    assert anonymous[3:6] == ["", "", "True"] and anonymous[9] == ""  # empty cells stay empty
    polls = client.get(f"/moderate/{SESSION}/polls.csv?{query}")
    assert "Oui ?" in polls.text and polls.text.count("\n") == 3
    participant_query = path_of(client, "participant").split("?")[1]
    assert client.get(f"/moderate/{SESSION}/questions.csv?{participant_query}").status_code == 403
    assert client.get(f"/moderate/{SESSION}/other.csv?{query}").status_code == 404


def test_the_player_is_on_streamed_sessions_only(client: TestClient) -> None:
    streamed = client.get(path_of(client, "participant"))
    assert 'id="player-video"' in streamed.text and "/static/js/player.js" in streamed.text
    assert "playsinline" in streamed.text and " muted " in streamed.text
    other = client.get(path_of(client, "participant", "micro-ateliers"))  # questions, no video
    assert other.status_code == 200
    assert 'id="player' not in other.text and "player.js" not in other.text


def test_studio_page_gives_the_whip_settings_and_needs_a_studio_link(client: TestClient) -> None:
    studio = path_of(client, "studio")
    token = token_of(studio)
    page = client.get(studio)
    assert page.status_code == 200 and '<html lang="fr"' in page.text
    assert f"http://127.0.0.1:8000/sessions/{SESSION}/whip" in page.text
    assert re.search(rf'<input id="studio-whip-token" type="password"[^>]* value="{re.escape(token)}"',
                     page.text)
    assert "Prendre l'antenne" in page.text and "images clés\u00a0: 1\u00a0s" in page.text
    english = client.get(studio + "&lang=en")
    assert "Go live" in english.text and "Keyframe interval: 1 s" in english.text
    for role in ("participant", "moderator", "stage"):
        query = path_of(client, role).split("?")[1]
        assert client.get(f"/studio/{SESSION}?{query}").status_code == 403, role
    other = path_of(client, "studio", "pleniere-aict").split("?")[1]
    assert client.get(f"/studio/{SESSION}?{other}").status_code == 403  # another session's
