"""The links for the day (live/web/linkdesk.py): the control room lists each session's links by
role, prints the rooms' sheets with a QR code and a short address, and revokes one role's links
of one session, the old ones refused at once; every other link is refused, bad input answered
with a clear 4xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Role
from live.web.auth import EVENT_SCOPE
from live.web.linkdesk import REVOCATIONS
from tests.conftest import SESSION, token_of

OTHER = "atelier-1"  # streamed, with questions, no interpretation
BASE = "http://127.0.0.1:8000"


def make_client(**settings: Any) -> TestClient:
    return TestClient(create_app(Settings(port=8000, **settings)), base_url=BASE,
                      follow_redirects=False)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client() as the_client:
        yield the_client


def admin(client: TestClient, expires_in: int = 3600) -> str:
    app: Any = client.app
    return str(app.state.signer.issue(Role.ADMIN, EVENT_SCOPE, int(time.time()) + expires_in))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def listing(client: TestClient, session: str = SESSION) -> dict[str, dict[str, str]]:
    answer = client.get(f"/control/links/{session}", headers=bearer(admin(client)))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    return {group["role"]: {link["name"]: link["url"] for link in group["links"]}
            for group in answer.json()["roles"]}


def grant(client: TestClient, url: str) -> Any:
    app: Any = client.app
    token = url.split("Bearer ")[1] if "Bearer " in url else token_of(url)
    return app.state.signer.verify(token, time.time())


def test_every_role_s_links_for_the_organiser(client: TestClient) -> None:
    roles = listing(client)
    assert list(roles) == ["participant", "moderator", "stage", "studio", "interpreter",
                           "captioner", "guest"]
    assert set(roles["participant"]) == {"participant", "short"}
    assert set(roles["studio"]) == {"studio", "whip"}
    assert set(roles["interpreter"]) == {"interpreter en", "interpreter es"}
    assert set(roles["guest"]) == {"guest Intervenant à distance"}
    for role in ("moderator", "stage", "studio", "captioner"):
        given = grant(client, roles[role][role])
        assert (given.role.value, given.scope) == (role, SESSION)
    assert grant(client, roles["studio"]["whip"]).role is Role.STUDIO
    assert grant(client, roles["interpreter"]["interpreter en"]).language == "en"
    short = roles["participant"]["short"]
    assert short.startswith(f"{BASE}/j/") and len(urlsplit(short).path) == len("/j/") + 7
    assert "interpreter" not in listing(client, OTHER)
    app: Any = client.app  # printed at start as well, with the links
    assert f"{short}  (public, for the room)" in app.state.links.as_text()


def test_the_short_address_opens_the_session_as_asked_from_the_room(client: TestClient) -> None:
    short = listing(client)["participant"]["short"]
    answer = client.get(urlsplit(short).path)
    assert answer.status_code == 303 and answer.headers["cache-control"] == "no-store"
    target = answer.headers["location"]
    assert target.startswith(f"{BASE}/s/{SESSION}?t=") and target.endswith("&onsite=1")
    assert grant(client, target).role is Role.PARTICIPANT
    assert client.get(urlsplit(target).path + "?" + urlsplit(target).query).status_code == 200
    code = urlsplit(short).path.removeprefix("/j/")
    assert client.get(f"/j/{code.upper()}").status_code == 303  # typed in capitals
    assert listing(client, OTHER)["participant"]["short"] != short  # one per session


@pytest.mark.parametrize("code", ["abcdefg", "abc", "abcdefgh", "0000000", "abc-efg", "é" * 7])
def test_an_unknown_short_address_is_a_clear_404(client: TestClient, code: str) -> None:
    answer = client.get(f"/j/{code}")
    assert answer.status_code == 404 and "adresse courte" in answer.text


def test_the_sheet_prints_the_qr_code_and_short_address_and_nothing_private(
        client: TestClient) -> None:
    roles = listing(client)
    answer = client.get(f"/control/sheets/{SESSION}", params={"t": admin(client)})
    assert answer.status_code == 200
    sheets = answer.text.split('data-testid="sheet"')[1:]
    assert len(sheets) == 1
    assert "<svg" in sheets[0] and roles["participant"]["short"] in sheets[0]
    assert "?t=" not in sheets[0] and "Bearer" not in sheets[0]
    everyone = client.get("/control/sheets", params={"t": admin(client), "lang": "en"})
    app: Any = client.app
    rooms = [s for s in app.state.service.programme.sessions if s.interactive or s.streamed]
    assert everyone.text.count('data-testid="sheet"') == len(rooms) > 1
    assert "Ask your questions" in everyone.text


def test_revoking_a_role_refuses_its_old_links_at_once_and_gives_new_ones(
        client: TestClient) -> None:
    old = listing(client)
    token = admin(client)
    assert client.get(f"/moderate/{SESSION}", params={"t": token_of(old["moderator"]["moderator"])}
                      ).status_code == 200
    answer = client.post(f"/control/links/{SESSION}/moderator/revoke", headers=bearer(token))
    assert answer.status_code == 200
    assert (answer.json()["revoked"], answer.json()["generation"]) == ("moderator", 1)
    new = {g["role"]: {x["name"]: x["url"] for x in g["links"]} for g in answer.json()["roles"]}
    assert client.get(f"/moderate/{SESSION}", params={"t": token_of(old["moderator"]["moderator"])}
                      ).status_code == 401
    assert client.get(f"/moderate/{SESSION}", params={"t": token_of(new["moderator"]["moderator"])}
                      ).status_code == 200
    # The other roles, and the same role of another session, are untouched.
    assert client.get(f"/stage/{SESSION}", params={"t": token_of(old["stage"]["stage"])}
                      ).status_code == 200
    other = listing(client, OTHER)["moderator"]["moderator"]
    assert client.get(f"/moderate/{OTHER}", params={"t": token_of(other)}).status_code == 200


def test_revoking_the_participants_link_of_a_session_replaces_its_short_address(
        client: TestClient) -> None:
    old = listing(client)["participant"]
    answer = client.post(f"/control/links/{SESSION}/participant/revoke",
                         headers=bearer(admin(client)))
    assert answer.status_code == 200
    new = listing(client)["participant"]
    assert new["short"] != old["short"]
    assert client.get(urlsplit(old["short"]).path).status_code == 404
    target = client.get(urlsplit(new["short"]).path).headers["location"]
    assert grant(client, target).scope == SESSION  # the session's own link from now on
    # The public link no longer covers this session (403), and still opens the others.
    assert client.get(f"/s/{SESSION}", params={"t": token_of(old["participant"])}
                      ).status_code == 403
    assert client.get(f"/s/{OTHER}", params={"t": token_of(old["participant"])}).status_code == 200


def test_bad_revocations_are_clear_4xx(client: TestClient) -> None:
    token = admin(client)

    def revoke(session: str, role: str) -> Any:
        return client.post(f"/control/links/{session}/{role}/revoke", headers=bearer(token))

    assert revoke(SESSION, "admin").json()["error"] == "links.error.role"  # not from here
    assert revoke(SESSION, "wizard").status_code == 400
    refused = revoke(OTHER, "interpreter")
    assert refused.status_code == 409 and "interpretation" in refused.json()["detail"]
    assert revoke("no-such-session", "moderator").status_code == 404
    assert client.get(f"/control/links/{SESSION}/moderator/revoke",
                      headers=bearer(token)).status_code == 405
    assert client.get("/control/links/no-such-session", headers=bearer(token)).status_code == 404
    assert client.get("/control/sheets/no-such-session", params={"t": token}).status_code == 404
    done = [revoke(SESSION, "stage").status_code for _ in range(REVOCATIONS + 1)]
    assert done == [200] * REVOCATIONS + [429]
    assert revoke(SESSION, "stage").headers["retry-after"] == str(60 // REVOCATIONS)


def every_other_token(client: TestClient) -> dict[str, str]:
    app: Any = client.app
    tokens = {}
    for name, url in app.state.links.by_session[SESSION].items():
        tokens[name] = url.split("Bearer ")[1] if "Bearer " in url else token_of(url)
    expired = app.state.signer.issue(Role.ADMIN, EVENT_SCOPE, int(time.time()) - 1)
    return {**tokens, "expired admin": expired, "forged": "forged.token"}


def test_only_the_admin_link_lists_revokes_or_prints(client: TestClient) -> None:
    urls = [("GET", f"/control/links/{SESSION}"), ("POST", f"/control/links/{SESSION}/stage/revoke")]
    for method, url in urls:
        assert client.request(method, url).status_code == 401
        assert client.request(method, url).headers["www-authenticate"] == "Bearer"
        for name, token in every_other_token(client).items():
            status = client.request(method, url, headers=bearer(token)).status_code
            assert status == (401 if name in ("expired admin", "forged") else 403), (url, name)
    for url in (f"/control/sheets/{SESSION}", "/control/sheets"):
        assert client.get(url).status_code == 401
        for name, token in every_other_token(client).items():
            status = client.get(url, params={"t": token}).status_code
            assert status == (401 if name in ("expired admin", "forged") else 403), (url, name)
    app: Any = client.app
    assert app.state.signer.generations.of("stage", SESSION) == 0  # nothing was revoked


def test_without_the_public_link_no_short_address_and_the_sheet_says_so() -> None:
    with make_client(public_link=False) as client:
        assert "participant" not in listing(client)
        sheet = client.get(f"/control/sheets/{SESSION}", params={"t": admin(client)})
        assert 'data-testid="sheet-registered"' in sheet.text and "<svg" not in sheet.text
        app: Any = client.app
        code = app.state.signer.short_code(SESSION, 0)
        assert client.get(f"/j/{quote(code)}").status_code == 404
