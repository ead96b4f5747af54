"""No token in any log line: the real server's real output, after pages, exports, WHEP and WebSocket
use with tokens in query strings, Bearer headers and Hello frames."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

from live.domain import Role
from live.logsafe import REDACTED, RedactTokens, redact
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import SESSION
from tests.processes import RunPy
from tests.waiting import wait_for


def test_query_tokens_bearer_tokens_and_bare_tokens_are_redacted() -> None:
    token = Signer("s" * 32).issue(Role.MODERATOR, SESSION, 2_000_000_000)
    assert redact(f'1.2.3.4 - "GET /moderate/x?t={token}&lang=fr HTTP/1.1" 200') == (
        f'1.2.3.4 - "GET /moderate/x?t={REDACTED}&lang=fr HTTP/1.1" 200')
    assert redact(f"GET /s/x?lang=en&t={token}") == f"GET /s/x?lang=en&t={REDACTED}"
    assert redact(f"authorization: Bearer {token}") == f"authorization: Bearer {REDACTED}"
    assert redact("bearer abc.def") == f"bearer {REDACTED}"
    assert token not in redact(f'{{"type":"Hello","token":"{token}"}}')
    assert redact("GET /static/app.css?v=3 HTTP/1.1") == "GET /static/app.css?v=3 HTTP/1.1"
    assert redact("at=12 format=json") == "at=12 format=json"  # not a t= parameter


def test_the_filter_redacts_arguments_one_by_one() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/?t=secret-token", "1.1", 200), None)
    RedactTokens().filter(record)
    assert record.args == ("1.2.3.4:5", "GET", f"/?t={REDACTED}", "1.1", 200)
    assert record.getMessage() == f'1.2.3.4:5 - "GET /?t={REDACTED} HTTP/1.1" 200'


def http(port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None,
         body: bytes | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError):
        return 0  # not listening (yet)


async def use_everything(port: int, tokens: dict[str, str]) -> None:
    """A participant and a moderator as the pages and the player use the service, and a few
    mistakes that get logged."""
    participant, moderator, studio = tokens["participant"], tokens["moderator"], tokens["studio"]
    assert await asyncio.to_thread(http, port, f"/?t={participant}&lang=fr") == 200
    assert await asyncio.to_thread(http, port, f"/s/{SESSION}?lang=en&t={participant}") == 200
    assert await asyncio.to_thread(http, port, f"/moderate/{SESSION}?t={moderator}") == 200
    assert await asyncio.to_thread(
        http, port, f"/moderate/{SESSION}/questions.csv?t={moderator}") == 200
    assert await asyncio.to_thread(http, port, f"/studio/{SESSION}?t={participant}") == 403
    whep = {"authorization": f"Bearer {participant}", "content-type": "application/sdp"}
    status = await asyncio.to_thread(http, port, f"/sessions/{SESSION}/whep?t={participant}",
                                     "POST", whep, b"v=0\r\n")
    assert status in (400, 409)  # not a valid offer, or not on air: either way it was logged
    whip = {"authorization": f"Bearer {studio}", "content-type": "application/sdp"}
    assert await asyncio.to_thread(http, port, f"/sessions/{SESSION}/whip", "POST", whip,
                                   b"not sdp") == 400
    url = f"ws://127.0.0.1:{port}/ws/sessions/{SESSION}?t={participant}"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "Hello", "v": 1, "token": participant}))
        assert json.loads(await ws.recv())["type"] == "Welcome"
        await ws.send(json.dumps({"type": "AskQuestion", "ref": 1, "text": f"Jeton {participant}"}))
        await ws.send(json.dumps({"type": "Nonsense", "token": participant}))
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/sessions/{SESSION}") as ws:
        await ws.send(json.dumps({"type": "Hello", "v": 99, "token": moderator}))  # bad version
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await ws.recv()
    assert await asyncio.to_thread(http, port, f"/healthz?t={participant}&done=1") == 200


async def test_the_real_server_logs_no_token(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(32)
    signer, expires = Signer(secret), int(time.time()) + 7777  # not the printed links' tokens
    tokens = {"participant": signer.issue(Role.PARTICIPANT, EVENT_SCOPE, expires),
              "moderator": signer.issue(Role.MODERATOR, SESSION, expires),
              "studio": signer.issue(Role.STUDIO, SESSION, expires)}
    # run.py as an organiser starts it, at the most talkative log level, its output in a file.
    server = RunPy(tmp_path, ["--media-address", "127.0.0.1", "--log-level", "debug"],
                   {"TRIBUNE_SECRET": secret})
    try:
        await asyncio.to_thread(server.start)
        await use_everything(server.port, tokens)
        await wait_for(lambda: "done=1" in server.output(), 10,
                       lambda: f"the last request's access log line\n{server.log()}")
    finally:
        await asyncio.to_thread(server.stop)
    output = server.output()
    for role, token in tokens.items():
        signature = token.split(".")[1]  # 24 random characters: any 10 of them in a row are a leak
        for piece in {signature[i:i + 10] for i in range(len(signature) - 9)}:
            leaks = [line for line in output.splitlines() if piece in line]
            assert not leaks, f"(part of) the {role} token is in the log: {leaks[:3]}"
    assert f'"GET /s/{SESSION}?lang=en&t={REDACTED} HTTP/1.1" 200' in output  # the access log ran
    assert "WebSocket" in output and "/whep" in output
