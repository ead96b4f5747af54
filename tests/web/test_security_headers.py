"""live/web/security.py: every HTTP answer carries the Content-Security-Policy and the other
security headers, whatever made it (a page, an error page, a static file, JSON, CSV, plain text,
the guards at the door, Starlette's own 404 and 405, a handler's crash), and the policy allows no
inline script. Chromium enforcing it on a real page: tests/e2e/test_browser_csp.py."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.web import pages
from live.web.security import CSP, HEADERS, SecurityHeaders
from tests.web.test_pages import assert_csp_clean

SESSION = "pleniere-geopolitique"
# Stated here, not read from the module: a header dropped there must fail here.
EXPECTED = {
    "content-security-policy": CSP,  # its content: test_the_policy_allows_scripts_from_…
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # links carry tokens
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(self), microphone=(self), geolocation=()",  # the studio's
}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000",
                    raise_server_exceptions=False) as c:
        yield c


def assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url} → {response.status_code}"
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (where, name)


def token_of(client: TestClient, role: str) -> str:
    link = client.app.state.links.link(role, SESSION)  # type: ignore[attr-defined]
    return str(urlsplit(link).query.split("t=")[1].split("&")[0])


def test_every_kind_of_answer_carries_the_headers(client: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    participant, moderator = token_of(client, "participant"), token_of(client, "moderator")
    bearer = {"authorization": f"Bearer {participant}"}
    answers = {
        "programme page": client.get("/"),
        "session page": client.get(f"/s/{SESSION}?t={participant}"),
        "error page 401": client.get(f"/moderate/{SESSION}?t=expired.or.forged"),
        "error page 403": client.get(f"/moderate/{SESSION}?t={participant}"),
        "error page 404": client.get(f"/s/no-such-session?t={participant}"),
        "static script": client.get("/static/js/state.js"),
        "static style": client.get("/static/css/app.css"),
        "static 404": client.get("/static/js/no-such-file.js"),
        "route 404": client.get("/no/such/route"),
        "method 405": client.post("/healthz"),
        "json": client.get("/healthz"),
        "json readout": client.get(f"/sessions/{SESSION}/broadcast", headers=bearer),
        "json ice servers": client.get(f"/sessions/{SESSION}/ice-servers", headers=bearer),
        "csv": client.get(f"/moderate/{SESSION}/questions.csv?t={moderator}"),
        "plain text 401": client.post(f"/sessions/{SESSION}/whep", content=b"v=0\r\n"),
        "plain text 409": client.post(f"/sessions/{SESSION}/whep", content=b"v=0\r\n",
                                      headers={**bearer, "content-type": "application/sdp"}),
        "metrics 401": client.get("/metrics"),
        "preflight 204": client.options(f"/sessions/{SESSION}/whep"),
        "head": client.head("/"),
        "421 at the door": client.get("/", headers={"host": "attacker.example"}),
    }
    expected_status = {"programme page": 200, "session page": 200, "error page 401": 401,
                       "error page 403": 403, "error page 404": 404, "static script": 200,
                       "static style": 200, "static 404": 404, "route 404": 404, "method 405": 405,
                       "json": 200, "json readout": 200, "json ice servers": 200, "csv": 200,
                       "plain text 401": 401, "plain text 409": 409, "metrics 401": 401,
                       "preflight 204": 204, "head": 200, "421 at the door": 421}
    for what, response in answers.items():
        assert response.status_code == expected_status[what], (what, response.text[:200])
        assert_secured(response)
    # A handler that fails (a bug, a store gone mid-request) is answered with them too.
    monkeypatch.setattr(pages, "questions_csv", _failing)
    crashed = client.get(f"/moderate/{SESSION}/questions.csv?t={moderator}")
    assert crashed.status_code == 500 and "Traceback" not in crashed.text
    assert_secured(crashed)


def _failing(*args: object) -> str:
    raise RuntimeError("a bug in an export")


def test_the_module_sends_what_is_expected_and_nothing_unreviewed() -> None:
    assert {name.decode(): value.decode() for name, value in HEADERS} == EXPECTED


def test_refusals_at_the_door_carry_them_too() -> None:
    full = Settings(port=8000, max_connections=0)  # every connection beyond the process's limit
    with TestClient(create_app(full), base_url="http://127.0.0.1:8000") as client:
        response = client.get("/")
        assert response.status_code == 503
        assert_secured(response)


def test_error_pages_and_the_programme_have_no_inline_script(client: TestClient) -> None:
    participant = token_of(client, "participant")
    for path, status in (("/", 200), (f"/moderate/{SESSION}?t=x.y", 401), (f"/moderate/{SESSION}", 401),
                         (f"/moderate/{SESSION}?t={participant}", 403), ("/s/nope?t=x", 404)):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html")
        assert_csp_clean(response.text)


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} given twice: browsers take the first"
        parsed[name] = sources
    return parsed


def test_the_policy_allows_scripts_from_the_service_only() -> None:
    policy = directives(CSP)
    # No inline script, no eval, no nonce or hash that would let one in, no other origin.
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert "script-src-elem" not in policy and "script-src-attr" not in policy
    assert policy["style-src"] == ["'self'"]  # no inline style either (templates have none)
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert all("unsafe" not in source and source != "*" for sources in policy.values()
               for source in sources), CSP


async def _own_policy(request: Request) -> Response:
    return PlainTextResponse("framed on purpose", headers={
        "content-security-policy": "frame-ancestors 'self'", "x-frame-options": "SAMEORIGIN"})


async def _plain(request: Request) -> Response:
    return PlainTextResponse("plain")


def test_a_response_s_own_header_is_kept_and_not_doubled() -> None:
    app = Starlette(routes=[Route("/own", _own_policy), Route("/plain", _plain)],
                    middleware=[Middleware(SecurityHeaders)])
    with TestClient(app) as client:
        own = client.get("/own")
        assert own.headers.get_list("content-security-policy") == ["frame-ancestors 'self'"]
        assert own.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
        assert own.headers["referrer-policy"] == "no-referrer"  # the others still added
        assert_secured(client.get("/plain"))
