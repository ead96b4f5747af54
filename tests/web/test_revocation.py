"""Revoking the links of one role for one session: generations in the signer, and end to end with
the organiser's command against a running service on Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
import websockets

from live.config import Settings, load_programme
from live.domain import Role
from live.links import role_links
from live.protocol import CLOSE_UNAUTHORIZED
from live.revoke import main as revoke_main
from live.web.auth import EVENT_SCOPE, InvalidToken, Signer, _b64
from tests.conftest import REDIS_URL, SESSION, RunningServer, ServerThread, free_port, token_of
from tests.waiting import wait_for
from tests.wsclient import Client

OTHER = "pleniere-aict"
LATER = 2_000_000_000


# -- the signer ------------------------------------------------------------------------------------


def test_a_revoked_generation_refuses_older_links_of_that_role_and_session_only() -> None:
    signer = Signer("s" * 32)
    old = signer.issue(Role.MODERATOR, SESSION, LATER)
    other_session = signer.issue(Role.MODERATOR, OTHER, LATER)
    stage = signer.issue(Role.STAGE, SESSION, LATER)
    signer.generations.update({f"moderator:{SESSION}": 1})
    with pytest.raises(InvalidToken, match="revoked"):
        signer.verify(old, time.time())
    new = signer.issue(Role.MODERATOR, SESSION, LATER)
    assert signer.verify(new, time.time()).generation == 1
    assert signer.verify(other_session, time.time()).covers(OTHER)
    assert signer.verify(stage, time.time()).covers(SESSION)
    signer.generations.update({f"moderator:{SESSION}": 2})  # revoked again: the new one too
    with pytest.raises(InvalidToken, match="revoked"):
        signer.verify(new, time.time())


def test_links_signed_before_generations_existed_are_generation_zero() -> None:
    signer = Signer("s" * 32)
    token = signer.issue(Role.STAGE, SESSION, LATER)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert payload == {"r": "stage", "s": SESSION, "x": LATER}  # no "g" while it is 0
    assert signer.verify(token, time.time()).generation == 0


@pytest.mark.parametrize("generation", ["1", True, 1.5, None])
def test_a_generation_that_is_not_a_number_is_malformed(generation: object) -> None:
    signer = Signer("s" * 32)
    payload = json.dumps({"r": "stage", "s": SESSION, "x": LATER, "g": generation}).encode()
    token = f"{_b64(payload)}.{_b64(signer._mac('token', payload))}"
    with pytest.raises(InvalidToken, match="malformed"):
        signer.verify(token, time.time())


def test_one_sessions_participant_links_revoked_the_public_link_skips_that_session() -> None:
    signer = Signer("s" * 32)
    public = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER)
    signer.generations.update({f"participant:{SESSION}": 1})
    grant = signer.verify(public, time.time())  # still valid...
    assert not grant.covers(SESSION) and grant.covers(OTHER)  # ...but not for that session
    own = signer.verify(signer.issue(Role.PARTICIPANT, SESSION, LATER), time.time())
    assert own.covers(SESSION) and not own.covers(OTHER)
    signer.generations.update({f"participant:{SESSION}": 1, "participant:*": 1})
    with pytest.raises(InvalidToken, match="revoked"):  # the public link itself revoked
        signer.verify(public, time.time())
    assert signer.verify(signer.issue(Role.PARTICIPANT, SESSION, LATER), time.time()).covers(SESSION)


def test_watchers_hear_once_of_their_own_revocation_only() -> None:
    signer = Signer("s" * 32)
    heard: list[str] = []
    for name, role, scope, session in (("mod", Role.MODERATOR, SESSION, SESSION),
                                       ("public", Role.PARTICIPANT, EVENT_SCOPE, SESSION),
                                       ("public-other", Role.PARTICIPANT, EVENT_SCOPE, OTHER)):
        grant = signer.verify(signer.issue(role, scope, LATER), time.time())
        signer.watch(name, grant, session, lambda name=name: heard.append(name))  # type: ignore[misc]
    signer.generations.update({f"stage:{SESSION}": 1})
    assert heard == []
    signer.generations.update({f"stage:{SESSION}": 1, f"participant:{SESSION}": 1})
    assert heard == ["public"]
    signer.unwatch("mod")  # a closed connection is forgotten
    signer.generations.update({f"participant:{SESSION}": 1, f"moderator:{SESSION}": 1})
    assert heard == ["public"] and signer.generations.watched == 1


def test_printed_links_carry_the_current_generations() -> None:
    signer = Signer("s" * 32)
    signer.generations.update({f"participant:{SESSION}": 1, f"moderator:{SESSION}": 2})
    links = role_links(load_programme(None), Settings(), signer)
    own = signer.verify(token_of(links.link("participant", SESSION)), time.time())
    assert own.scope == SESSION and own.generation == 1 and own.covers(SESSION)
    public = signer.verify(token_of(links.link("participant", OTHER)), time.time())
    assert public.scope == EVENT_SCOPE and public.covers(OTHER) and not public.covers(SESSION)
    assert signer.verify(token_of(links.link("moderator", SESSION)), time.time()).generation == 2


def test_interpreter_links_one_per_language_each_naming_its_channel() -> None:
    signer = Signer("s" * 32)
    links = role_links(load_programme(None), Settings(), signer)
    roles = links.by_session[SESSION]
    assert [r for r in roles if r.startswith("interpreter")] == ["interpreter en", "interpreter es"]
    for lang in ("en", "es"):
        grant = signer.verify(token_of(roles[f"interpreter {lang}"]), time.time())
        assert (grant.role, grant.scope, grant.language) == (Role.INTERPRETER, SESSION, lang)
        assert f"/interpret/{SESSION}?t=" in roles[f"interpreter {lang}"]
    captioner = signer.verify(token_of(roles["captioner"]), time.time())
    assert (captioner.role, captioner.scope, captioner.language) == (Role.CAPTIONER, SESSION, None)
    assert "interpreter en" not in links.by_session["atelier-1"]  # no interpretation there
    assert "captioner" in links.by_session["atelier-1"]  # but captions, as every streamed session
    assert "captioner" not in links.by_session["groupes-pays"]  # not streamed
    assert "interpreter en" in links.as_text() and "(keep private)" in links.as_text()


def test_registrants_links_are_not_revoked_with_the_public_link() -> None:
    signer = Signer("s" * 32)
    personal = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER, registrant="r-claire")
    signer.generations.update({"participant:*": 1, f"participant:{SESSION}": 1})
    assert signer.verify(personal, time.time()).covers(SESSION)


# -- end to end ------------------------------------------------------------------------------------


@pytest.fixture
def service(key_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """The service on Redis, and the organiser's environment for `python -m live.revoke`."""
    secret = secrets.token_urlsafe(24)
    settings = Settings(port=free_port(), redis_url=REDIS_URL, key_prefix=key_prefix,
                        secret=secret)
    for name in ("TRIBUNE_SECRET_FILE", "TRIBUNE_PUBLIC_URL", "TRIBUNE_PROGRAMME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRIBUNE_SECRET", secret)
    monkeypatch.setenv("TRIBUNE_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("TRIBUNE_PUBLIC_URL", settings.base_url)
    with ServerThread(settings) as running:
        yield running


def status(server: RunningServer, path: str, bearer: str | None = None,
           method: str = "GET") -> int:
    headers = {"authorization": f"Bearer {bearer}", "content-type": "application/sdp"} \
        if bearer else {}
    request = urllib.request.Request(f"{server.base_url}{path}", method=method, headers=headers,
                                     data=b"v=0\r\n" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def revoke(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    """Run the organiser's command; the new links it printed, by role."""
    await asyncio.to_thread(revoke_main, [*args, "--redis", REDIS_URL])
    out = capsys.readouterr().out
    return {line.split(":")[0].strip(): line.split(": ", 1)[1].strip()
            for line in out.splitlines() if line.startswith("  ")}


async def hello_close_code(server: RunningServer, session: str, token: str) -> int | None:
    """Open a connection with this token: None if welcomed, else the close code."""
    async with websockets.connect(f"{server.ws_base}/ws/sessions/{session}") as ws:
        await ws.send(json.dumps({"type": "Hello", "v": 1, "token": token}))
        try:
            while True:
                if json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "Snapshot":
                    return None
        except websockets.ConnectionClosed:
            return ws.close_code


async def test_revoking_a_sessions_moderator_links(service: RunningServer,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    old = token_of(service.link("moderator", SESSION))
    other = token_of(service.link("moderator", OTHER))
    stage = token_of(service.link("stage", SESSION))
    connected = await Client(service.ws_base, SESSION, old).connect()
    stage_client = await Client(service.ws_base, SESSION, stage).connect()
    assert status(service, f"/moderate/{SESSION}?t={old}") == 200
    assert status(service, f"/sessions/{SESSION}/whep", old, "POST") == 409  # accepted, not on air

    new = token_of((await revoke(capsys, SESSION, "moderator"))["moderator"])

    await connected.wait_for(lambda: connected.closed_code is not None, timeout=5)
    assert connected.closed_code == CLOSE_UNAUTHORIZED  # the open connection is closed
    # Everywhere a token is checked: pages, exports, the Hello, WHEP.
    assert status(service, f"/moderate/{SESSION}?t={old}") == 401
    assert status(service, f"/moderate/{SESSION}/questions.csv?t={old}") == 401
    assert status(service, f"/stage/{SESSION}?t={old}") == 401
    assert status(service, f"/sessions/{SESSION}/whep", old, "POST") == 401
    assert await hello_close_code(service, SESSION, old) == CLOSE_UNAUTHORIZED
    # The new link works; other roles and other sessions' moderators were not touched.
    assert status(service, f"/moderate/{SESSION}?t={new}") == 200
    assert status(service, f"/moderate/{SESSION}/questions.csv?t={new}") == 200
    assert await hello_close_code(service, SESSION, new) is None
    assert await hello_close_code(service, OTHER, other) is None
    assert stage_client.closed_code is None
    await stage_client.close()


async def test_revoking_one_sessions_participant_links(service: RunningServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    public = token_of(service.link("participant", SESSION))
    here = await Client(service.ws_base, SESSION, public).connect()
    there = await Client(service.ws_base, OTHER, public).connect()

    new = token_of((await revoke(capsys, SESSION, "participant"))["participant"])

    await here.wait_for(lambda: here.closed_code is not None, timeout=5)
    assert here.closed_code == CLOSE_UNAUTHORIZED
    assert status(service, f"/s/{SESSION}?t={public}") == 403  # a valid link, not for this one
    assert await hello_close_code(service, SESSION, public) == CLOSE_UNAUTHORIZED
    assert status(service, f"/s/{SESSION}?t={new}") == 200
    assert await hello_close_code(service, SESSION, new) is None
    # The public link still works for every other session.
    assert there.closed_code is None
    assert status(service, f"/s/{OTHER}?t={public}") == 200
    await there.close()


async def test_revoking_the_public_link(service: RunningServer,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    public = token_of(service.link("participant", SESSION))
    new = token_of((await revoke(capsys, "*", "participant"))["programme (public)"])

    async def refused() -> bool:
        return status(service, f"/?t={public}&lang=fr") == 200 and \
            status(service, f"/s/{OTHER}?t={public}") == 401

    await wait_for(refused, 5, "the old public link refused")
    assert status(service, f"/s/{OTHER}?t={new}") == 200
    assert await hello_close_code(service, OTHER, new) is None


def test_the_command_refuses_what_has_no_links(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIBUNE_SECRET", "x" * 24)
    for args, message in (([SESSION, "moderator"], "without Redis"),
                          (["nope", "moderator", "--redis", REDIS_URL], "no session 'nope'"),
                          (["*", "moderator", "--redis", REDIS_URL], "per session"),
                          (["copil-assises", "stage", "--redis", REDIS_URL], "no questions"),
                          (["groupes-pays", "studio", "--redis", REDIS_URL], "not streamed"),
                          (["groupes-pays", "captioner", "--redis", REDIS_URL], "not streamed"),
                          (["atelier-1", "interpreter", "--redis", REDIS_URL],
                           "no interpretation languages")):
        with pytest.raises(SystemExit) as exit_:
            revoke_main(args)
        assert message in str(exit_.value), (args, exit_.value)
