"""Captions over HTTP (live/web/captions.py), through Starlette's test client: the ingest API a
speech-to-text service posts to, answer by answer, and the transcript files, role by role."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Role
from live.limits import CAPTION_BURST
from live.store.memory import MemoryStore
from live.web.captions import MAX_BODY_BYTES
from tests.web.vtt import parse_webvtt

SESSION = "pleniere-geopolitique"  # streamed, French with English and Spanish interpretation
OTHER = "pleniere-aict"
URL = f"/sessions/{SESSION}/captions"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


def token(client: TestClient, role: str, session: str = SESSION) -> str:
    if role == "admin":
        return str(client.app.state.signer.issue(  # type: ignore[attr-defined]
            Role.ADMIN, "*", int(time.time()) + 3600))
    link = client.app.state.links.link(role, session)  # type: ignore[attr-defined]
    if role == "whip":
        return str(link.split("Bearer ")[1])
    return parse_qs(urlsplit(link).query)["t"][0]


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def post(client: TestClient, body: Any = None, *, role: str = "captioner",
         headers: dict[str, str] | None = None, **kw: Any) -> Any:
    sent_headers = {**bearer(token(client, role)), **(headers or {})}
    if body is not None:
        kw["json"] = body
    return client.post(URL, headers=sent_headers, **kw)


def transcript(client: TestClient, language: str = "fr") -> list[str]:
    hub = client.portal.call(client.app.state.service.hub, SESSION)  # type: ignore[attr-defined]
    return [line.text for line in hub.room.state.captions if line.language == language]


def assert_refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["message"], body
    assert response.headers["access-control-allow-origin"] == "*"


def test_a_posted_line_is_a_caption(client: TestClient) -> None:
    response = post(client, {"language": "fr", "text": "Bienvenue à toutes et à tous."})
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert post(client, {"language": "en", "text": "Welc", "final": False}).status_code == 204
    assert post(client, {"language": "fr", "text": "Deux.", "final": True, "client_key": "k1",
                         "extra": "ignored"}).status_code == 204
    assert post(client, {"language": "fr", "text": "Deux.", "client_key": "k1"}).status_code == 204
    assert transcript(client) == ["Bienvenue à toutes et à tous.", "Deux."]
    assert transcript(client, "en") == []  # a partial result is no line of the transcript


def test_preflight_lets_any_origin_post_with_a_bearer_token(client: TestClient) -> None:
    response = client.options(URL, headers={"origin": "https://stt.example",
                                            "access-control-request-method": "POST"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize("headers", [
    {}, {"authorization": "Bearer"}, {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": "Bearer not-a-token"},
], ids=["none", "empty", "basic", "forged"])
def test_without_a_valid_token_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(URL, headers=headers, json={"language": "fr", "text": "x"})
    assert_refused(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_token_401(client: TestClient) -> None:
    expired = client.app.state.signer.issue(  # type: ignore[attr-defined]
        Role.CAPTIONER, SESSION, int(time.time()) - 1)
    response = client.post(URL, headers=bearer(expired), json={"language": "fr", "text": "x"})
    assert_refused(response, 401, "unauthorized")
    assert "expired" in response.json()["message"]


@pytest.mark.parametrize("role", ["participant", "stage", "studio", "moderator", "admin", "whip",
                                  "interpreter en"])
def test_only_the_captioner_posts_403(client: TestClient, role: str) -> None:
    assert_refused(post(client, {"language": "fr", "text": "x"}, role=role), 403, "forbidden")
    assert transcript(client) == []


def test_another_sessions_captioner_403(client: TestClient) -> None:
    response = client.post(URL, headers=bearer(token(client, "captioner", OTHER)),
                           json={"language": "fr", "text": "x"})
    assert_refused(response, 403, "forbidden")


def test_unknown_session_404(client: TestClient) -> None:
    response = client.post("/sessions/no-such/captions", headers=bearer(token(client, "captioner")),
                           json={"language": "fr", "text": "x"})
    assert_refused(response, 404, "not_found")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          None])
def test_a_body_that_is_not_json_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = post(client, headers=headers, content=b'{"language": "fr", "text": "x"}')
    assert_refused(response, 415, "unsupported_media_type")


def test_json_with_a_charset_is_json(client: TestClient) -> None:
    response = post(client, headers={"content-type": "application/json; charset=utf-8"},
                    content='{"language": "fr", "text": "Voilà."}'.encode())
    assert response.status_code == 204


def test_a_body_too_large_413(client: TestClient) -> None:
    text = "x" * MAX_BODY_BYTES
    assert_refused(post(client, {"language": "fr", "text": text}), 413, "too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        yield b'{"language": "fr", "text": "'
        for _ in range(MAX_BODY_BYTES // 512 + 1):
            yield b"y" * 512
        yield b'"}'

    response = post(client, headers={"content-type": "application/json"}, content=chunks())
    assert_refused(response, 413, "too_large")
    # A declared length over the bound is refused before any of the body is read.
    declared = post(client, headers={"content-type": "application/json",
                                     "content-length": str(MAX_BODY_BYTES + 1)},
                    content=b'{"language": "fr", "text": "x"}')
    assert_refused(declared, 413, "too_large")


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe{}", b'["fr", "x"]', b'"text"', b"null",
                                  b"[" * 10_000 + b"]" * 10_000])
def test_a_body_that_is_not_a_json_object_400(client: TestClient, body: bytes) -> None:
    body = body[:MAX_BODY_BYTES]
    response = post(client, headers={"content-type": "application/json"}, content=body)
    assert_refused(response, 400, "bad_request")


@pytest.mark.parametrize("body", [
    {"text": "x"}, {"language": "fr"}, {"language": "fr", "text": 3},
    {"language": "fr", "text": "x", "final": "yes"}, {"language": "fr", "text": "x", "final": 1},
    {"language": "fr", "text": ""}, {"language": "fr", "text": " \n "},
    {"language": "fr", "text": "x" * 301}, {"language": "fr", "text": "bell\x07"},
    {"language": "de", "text": "Hallo"}, {"language": "FR", "text": "x"},
    {"language": "fr", "text": "x", "client_key": "k" * 65},
], ids=["no-language", "no-text", "text-type", "final-string", "final-int", "empty", "blank",
        "too-long", "control", "other-language", "upper-case", "long-key"])
def test_a_line_that_is_not_a_caption_422(client: TestClient, body: dict[str, Any]) -> None:
    assert_refused(post(client, body), 422, "invalid")
    assert transcript(client) == []


def test_a_lone_surrogate_is_stored_as_a_replacement_character(client: TestClient) -> None:
    content = b'{"language": "fr", "text": "coup\\ud83d\\u00e9"}'  # cut inside an emoji
    response = post(client, headers={"content-type": "application/json"}, content=content)
    assert response.status_code == 204
    assert transcript(client) == ["coup\ufffd\u00e9"]


def test_too_many_lines_429(client: TestClient) -> None:
    for i in range(CAPTION_BURST):
        assert post(client, {"language": "fr", "text": f"ligne {i}"}).status_code == 204
    # The budget refills 4 lines a second: on a busy machine the burst may have taken long
    # enough for a line or two more to pass before the refusal.
    accepted = CAPTION_BURST
    response = post(client, {"language": "fr", "text": "une de trop"})
    while response.status_code == 204 and accepted < CAPTION_BURST + 5:
        accepted += 1
        response = post(client, {"language": "fr", "text": f"une de trop {accepted}"})
    assert_refused(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "1"
    assert "access-control-expose-headers" in response.headers
    assert len(transcript(client)) == accepted


class StoreDown(MemoryStore):
    async def append(self, *args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Redis is away")


def test_storage_unavailable_503() -> None:
    app = create_app(Settings(port=8000), store=StoreDown())
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert_refused(post(client, {"language": "fr", "text": "x"}), 503, "unavailable")


# -- the transcript ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["moderator", "admin", "captioner"])
def test_moderators_and_the_captioner_get_the_transcript(client: TestClient, role: str) -> None:
    for text in ("Bonjour & bienvenue.", "Le sujet --> <b>la coopération</b>."):
        assert post(client, {"language": "fr", "text": text}).status_code == 204
    post(client, {"language": "fr", "text": "en cours", "final": False})
    post(client, {"language": "es", "text": "Bienvenidos."})
    vtt = client.get(f"/sessions/{SESSION}/transcript.vtt", headers=bearer(token(client, role)))
    assert vtt.status_code == 200
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert vtt.headers["content-disposition"] == \
        f'attachment; filename="{SESSION}-fr.vtt"'
    assert [cue.text for cue in parse_webvtt(vtt.content)] == [
        "Bonjour & bienvenue.", "Le sujet --> <b>la coopération</b>."]
    # The pages' download links carry the token in the query, as for the CSV exports.
    spanish = client.get(f"/sessions/{SESSION}/transcript.vtt?language=es&t={token(client, role)}")
    assert [cue.text for cue in parse_webvtt(spanish.content)] == ["Bienvenidos."]
    text = client.get(f"/sessions/{SESSION}/transcript.txt", headers=bearer(token(client, role)))
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert [line.split("] ", 1)[1] for line in text.text.splitlines()] == [
        "Bonjour & bienvenue.", "Le sujet --> <b>la coopération</b>."]


def test_an_empty_transcript_is_a_valid_file(client: TestClient) -> None:
    vtt = client.get(f"/sessions/{SESSION}/transcript.vtt", headers=bearer(token(client, "admin")))
    assert vtt.status_code == 200 and parse_webvtt(vtt.text) == []


@pytest.mark.parametrize("role", ["participant", "stage", "studio", "interpreter en"])
def test_others_do_not_get_the_transcript_403(client: TestClient, role: str) -> None:
    for kind in ("vtt", "txt"):
        response = client.get(f"/sessions/{SESSION}/transcript.{kind}",
                              headers=bearer(token(client, role)))
        assert_refused(response, 403, "forbidden")


def test_transcript_refusals(client: TestClient) -> None:
    base = f"/sessions/{SESSION}/transcript"
    moderator = bearer(token(client, "moderator"))
    assert_refused(client.get(f"{base}.vtt"), 401, "unauthorized")
    assert_refused(client.get(f"{base}.vtt?t=forged"), 401, "unauthorized")
    other = bearer(token(client, "moderator", OTHER))
    assert_refused(client.get(f"{base}.vtt", headers=other), 403, "forbidden")
    assert_refused(client.get(f"{base}.vtt?language=de", headers=moderator), 400, "bad_request")
    assert_refused(client.get(f"{base}.srt", headers=moderator), 404, "not_found")
    assert_refused(client.get("/sessions/nope/transcript.vtt", headers=moderator), 404,
                   "not_found")


def test_cue_times_count_from_when_the_studio_went_on_air(client: TestClient) -> None:
    relay = client.app.state.relay  # type: ignore[attr-defined]
    relay.broadcast(SESSION).since = time.time() - 30  # on air for half a minute
    assert post(client, {"language": "fr", "text": "Bonjour."}).status_code == 204
    vtt = client.get(f"/sessions/{SESSION}/transcript.vtt", headers=bearer(token(client, "admin")))
    [cue] = parse_webvtt(vtt.text)
    assert 30_000 <= cue.start < 40_000
    relay.broadcast(SESSION).since = None  # off air: timed from the first caption
    vtt = client.get(f"/sessions/{SESSION}/transcript.vtt", headers=bearer(token(client, "admin")))
    assert parse_webvtt(vtt.text)[0].start == 0
