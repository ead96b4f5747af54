"""The remote guest's page and a guest's clean feed page: who may open them, and what they say."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Role
from live.web.auth import Signer
from tests.conftest import SESSION
from tests.web.test_pages import assert_csp_clean

OTHER = "pleniere-aict"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


def token(client: TestClient, role: Role, session: str = SESSION, *, expires: int | None = None,
          guest: tuple[str, str] | None = None) -> str:
    signer: Signer = client.app.state.signer  # type: ignore[attr-defined]
    return quote(signer.issue(role, session, expires or int(time.time()) + 600, guest=guest))


def test_a_guest_opens_their_page_named_by_their_link(client: TestClient) -> None:
    mine = token(client, Role.GUEST, guest=("gAbc123", "Dr Amina Diallo"))
    page = client.get(f"/guest/{SESSION}?t={mine}")
    assert page.status_code == 200
    assert 'data-role="guest"' in page.text and 'data-guest="gAbc123"' in page.text
    assert "Dr Amina Diallo" in page.text and "entrer en coulisses" in page.text
    assert_csp_clean(page.text)
    assert "go backstage" in client.get(f"/guest/{SESSION}?t={mine}&lang=en").text


def test_guest_pages_refuse_other_links(client: TestClient) -> None:
    guest = ("gAbc123", "Dr Amina Diallo")
    assert client.get(f"/guest/{SESSION}").status_code == 401
    for role in (Role.PARTICIPANT, Role.MODERATOR, Role.STAGE, Role.STUDIO, Role.CAPTIONER):
        assert client.get(f"/guest/{SESSION}?t={token(client, role)}").status_code == 403, role
    elsewhere = token(client, Role.GUEST, OTHER, guest=guest)
    assert client.get(f"/guest/{SESSION}?t={elsewhere}").status_code == 403
    expired = token(client, Role.GUEST, expires=int(time.time()) - 1, guest=guest)
    assert client.get(f"/guest/{SESSION}?t={expired}").status_code == 401
    not_streamed = token(client, Role.GUEST, "copil-assises", guest=guest)
    assert client.get(f"/guest/copil-assises?t={not_streamed}").status_code == 404


def test_the_clean_feed_page_is_the_studios(client: TestClient) -> None:
    studio = token(client, Role.STUDIO)
    page = client.get(f"/guest/{SESSION}/gAbc123/clean?t={studio}")
    assert page.status_code == 200 and 'data-guest="gAbc123"' in page.text
    assert re.search(r'<video id="clean-video"[^>]*autoplay', page.text)
    # Sound on: the room or OBS hears the guest.
    assert not re.search(r'<video id="clean-video"[^>]*\bmuted', page.text)
    assert_csp_clean(page.text)
    guest = token(client, Role.GUEST, guest=("gAbc123", "Dr Amina Diallo"))
    for refused in (guest, token(client, Role.PARTICIPANT), token(client, Role.MODERATOR),
                    token(client, Role.STUDIO, OTHER)):
        assert client.get(f"/guest/{SESSION}/gAbc123/clean?t={refused}").status_code == 403
    assert client.get(f"/guest/{SESSION}/x/clean?t={studio}").status_code == 404
    assert client.get(f"/guest/{SESSION}/{'g' * 40}/clean?t={studio}").status_code == 404
