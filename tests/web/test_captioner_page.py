"""The captioner's page and the caption parts of the others, through Starlette's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings

SESSION = "pleniere-geopolitique"  # streamed: French, English, Spanish
NOT_STREAMED = "groupes-pays"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


def path_of(client: TestClient, role: str, session: str = SESSION) -> str:
    url = urlsplit(client.app.state.links.link(role, session))  # type: ignore[attr-defined]
    return f"{url.path}?{url.query}"


def test_the_captioner_link_opens_the_captioners_page(client: TestClient) -> None:
    page = client.get(path_of(client, "captioner"))
    assert page.status_code == 200
    assert 'data-role="captioner"' in page.text
    assert '<script type="module" src="/static/js/captioner.js">' in page.text
    options = re.findall(r'<option value="([a-z]+)" lang="\1">', page.text)
    assert options == ["fr", "en", "es"]  # the session's languages, the floor's first
    assert 'maxlength="300"' in page.text
    assert re.search(r"\son[a-z]+\s*=|\sstyle\s*=", page.text) is None


@pytest.mark.parametrize("role", ["participant", "moderator", "stage", "studio"])
def test_other_links_do_not_open_it(client: TestClient, role: str) -> None:
    query = path_of(client, role).split("?")[1]
    assert client.get(f"/caption/{SESSION}?{query}").status_code == 403
    assert client.get(f"/caption/{SESSION}").status_code == 401


def test_the_captioners_link_opens_no_other_page(client: TestClient) -> None:
    query = path_of(client, "captioner").split("?")[1]
    for page in ("s", "moderate", "stage", "studio"):
        assert client.get(f"/{page}/{SESSION}?{query}").status_code == 403, page


def test_streamed_pages_carry_the_caption_parts(client: TestClient) -> None:
    participant = client.get(path_of(client, "participant")).text
    assert 'id="captions"' in participant and "/static/js/captions.js" in participant
    stage = client.get(path_of(client, "stage")).text
    assert 'id="stage-captions"' in stage and "/static/js/captions.js" in stage
    moderator = client.get(path_of(client, "moderator")).text
    assert 'id="stage-captions-toggle"' in moderator
    links = re.findall(r'href="(/sessions/[^"]+/transcript\.(?:vtt|txt)\?[^"]+)"', moderator)
    assert len(links) == 2 * 3
    for href in links:
        response = client.get(href.replace("&amp;", "&"))
        assert response.status_code == 200, href


def test_sessions_without_video_have_no_caption_parts(client: TestClient) -> None:
    for role in ("participant", "moderator", "stage"):
        text = client.get(path_of(client, role, NOT_STREAMED)).text
        assert "captions.js" not in text and "transcript." not in text, role
