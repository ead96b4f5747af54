"""Registered mode through the real server: personal links written for a mail merge, one identity
per registrant whatever the device, names pre-filled, the public link switched off, a ban that
follows the registrant to a fresh device. Clients play documentation addresses (X-Forwarded-For)."""

from __future__ import annotations

import asyncio
import csv
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from live.config import Settings
from live.domain import Role
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import SESSION, RunningServer, ServerThread, free_port, token_of
from tests.wsclient import Client, open_poll, poll_of

REGISTRANTS = """nom;organisation;courriel;langue
Marie Dupont;Ville de Lyon;marie.dupont@example.org;fr
Paul Martin;;paul.martin@example.net;en
"""
EMAILS = ("marie.dupont@example.org", "paul.martin@example.net")


def links_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["email"]: row for row in csv.DictReader(f)}


def registered_server(tmp_path: Path, **settings: Any) -> Iterator[tuple[RunningServer, Path]]:
    source, out = tmp_path / "registrants.csv", tmp_path / "links.csv"
    source.write_text(REGISTRANTS, "utf-8")
    config = Settings(port=free_port(), registrants_path=source, links_out=out,
                      print_links=True, **settings)
    with ServerThread(config) as running:
        yield running, out


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    yield from registered_server(tmp_path, ban_hold=0)


@pytest.fixture
def closed_event(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    yield from registered_server(tmp_path, public_link=False)


async def device(running: RunningServer, tok: str, address: str,
                 identity: dict[str, str] | None = None) -> Client:
    client = Client(running.ws_base, SESSION, tok)
    return await client.connect(participant=identity,
                                additional_headers={"X-Forwarded-For": address})


async def moderator(running: RunningServer) -> Client:
    return await Client(running.ws_base, SESSION,
                        token_of(running.link("moderator", SESSION))).connect()


async def test_personal_links_are_written_for_a_mail_merge_without_the_email_in_them(
        registered: tuple[RunningServer, Path]) -> None:
    running, out = registered
    links = links_of(out)
    assert set(links) == set(EMAILS)
    marie = links["marie.dupont@example.org"]
    assert (marie["name"], marie["organisation"], marie["language"]) == (
        "Marie Dupont", "Ville de Lyon", "fr")
    assert links["paul.martin@example.net"]["link"].endswith("&lang=en")
    assert out.stat().st_mode & 0o077 == 0  # each link lets its holder act as the registrant
    for row in links.values():
        assert row["link"].startswith(f"{running.base_url}/?t=")
        assert row["email"] not in row["link"] and "example" not in row["link"]
        grant = running.app.state.signer.verify(token_of(row["link"]), time.time())
        assert grant.role is Role.PARTICIPANT and grant.registrant is not None
    assert await status(marie["link"]) == 200  # the programme page opens with it


async def test_a_registrant_on_two_devices_is_one_voter_with_the_name_prefilled(
        registered: tuple[RunningServer, Path], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    running, out = registered
    link = token_of(links_of(out)["marie.dupont@example.org"]["link"])
    mod = await moderator(running)
    poll_id = await open_poll(mod)
    public = await device(running, token_of(running.link("participant", SESSION)), "198.51.100.1")
    phone = await device(running, link, "198.51.100.2")
    # the laptop offers the identity its browser kept from a public-link visit: the link wins
    laptop = await device(running, link, "203.0.113.3", identity=public.participant)
    assert phone.participant is not None and laptop.participant is not None
    assert phone.participant["id"] == laptop.participant["id"] != public.participant["id"]
    assert phone.welcome["registrant"] == {"name": "Marie Dupont",
                                           "organisation": "Ville de Lyon"}
    assert "registrant" not in public.welcome
    await phone.ok("CastBallot", poll_id=poll_id, choices=[0])
    await laptop.ok("CastBallot", poll_id=poll_id, choices=[1])
    await mod.wait_for(lambda: poll_of(mod, poll_id)["counts"] == [0, 1])
    assert poll_of(mod, poll_id)["ballots"] == 1
    await phone.wait_for(lambda: phone.view["me"]["ballots"] == {poll_id: [1]})
    # no registrant's email on any socket, nor in any log line
    for client in (mod, public, phone, laptop):
        assert not any(email in str(client.messages) for email in EMAILS)
        await client.close()
    assert caplog.records and not any(email in caplog.text for email in EMAILS)


async def test_a_banned_registrant_stays_banned_on_a_fresh_device(
        registered: tuple[RunningServer, Path]) -> None:
    running, out = registered
    link = token_of(links_of(out)["paul.martin@example.net"]["link"])
    mod = await moderator(running)
    laptop = await device(running, link, "203.0.113.40")
    await laptop.ok("AskQuestion", text="Pub pour mon entreprise")
    question = await mod.wait_for(lambda: mod.question("Pub pour mon entreprise"))
    await mod.ok("BanParticipant", question_id=question["id"])
    await laptop.wait_for(lambda: laptop.view["me"]["banned"])
    # another device, another address, nothing kept in its browser: still that registrant
    phone = await device(running, link, "198.51.100.41")
    assert phone.view["me"]["banned"] is True
    assert (await phone.send("AskQuestion", text="Me revoilà"))["code"] == "banned"
    for client in (mod, laptop, phone):
        await client.close()


async def test_with_the_public_link_off_only_personal_links_get_in(
        closed_event: tuple[RunningServer, Path]) -> None:
    running, out = closed_event
    signer: Signer = running.app.state.signer
    public = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) + 3600)
    assert "participant" not in running.links.by_session[SESSION]  # none printed either
    assert await refused_with(running, public) == 4005
    # a registrant id the server does not know (removed from the file) is refused too
    stranger = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) + 3600,
                            registrant=signer.registrant_id("intrus@example.com"))
    assert await refused_with(running, stranger) == 4001
    personal = token_of(links_of(out)["marie.dupont@example.org"]["link"])
    client = await device(running, personal, "203.0.113.50")
    await client.ok("AskQuestion", text="Inscrite, donc admise ?")
    assert await status(f"{running.base_url}/s/{SESSION}?t={public}") == 403
    assert await status(f"{running.base_url}/s/{SESSION}?t={personal}") == 200
    await client.close()


async def status(url: str) -> int:
    def get() -> int:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
    return await asyncio.to_thread(get)


async def refused_with(running: RunningServer, tok: str) -> int | None:
    client = Client(running.ws_base, SESSION, tok)
    with pytest.raises(AssertionError):
        await client.connect(additional_headers={"X-Forwarded-For": "203.0.113.60"})
    await client.close()
    return client.closed_code
