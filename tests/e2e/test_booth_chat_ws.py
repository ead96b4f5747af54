"""The booth chat over the WebSocket, on the real server: two interpreters of the English booth
write to each other; the Spanish booth, a moderator, a participant and the stage screen are never
sent a word of it, live, in their snapshots or in the events replayed when they resume. Each
client's view is what the page's own state.js makes of what it received (tests/wsclient.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from live.domain import Role
from tests.conftest import SESSION, RunningServer, token_of
from tests.wsclient import Client

ENGLISH_LINES = ("Next: the mayor of Dakar", "I take over at 10:30")
DEVICE = "page-one-0001"


def interpreter(server: RunningServer, language: str) -> Client:
    token = server.app.state.signer.issue(Role.INTERPRETER, SESSION, int(time.time()) + 3600,
                                          language=language)
    return Client(server.ws_base, SESSION, token)


def role(server: RunningServer, name: str) -> Client:
    return Client(server.ws_base, SESSION, token_of(server.link(name, SESSION)))


def booth(client: Client) -> list[tuple[str, str | None, str | None]]:
    return [(m["text"], m["sender"], m["device"]) for m in client.view["booth"]]


def leaks(client: Client, *secrets: str) -> list[str]:
    """Whatever of `secrets` any frame this client received carries."""
    received = json.dumps(client.messages, ensure_ascii=False)
    return [s for s in secrets if s in received]


async def everyone_saw(moderator: Client, clients: list[Client]) -> None:
    """A change every audience is told of, once each client has it: whatever was sent to them
    before it has arrived too (a connection's messages keep their order)."""
    wanted = not moderator.view["settings"]["premoderation"]
    await moderator.ok("SetPremoderation", enabled=wanted)
    for client in clients:
        await client.wait_for(lambda c=client: c.view["settings"]["premoderation"] is wanted)


def snapshot_state(client: Client) -> dict[str, Any]:
    states: list[dict[str, Any]] = [m["state"] for m in client.messages if m["type"] == "Snapshot"]
    return states[-1]


async def test_booth_partners_talk_and_nobody_else_hears(live_server: RunningServer) -> None:
    first, partner, spanish = [await interpreter(live_server, lang).connect()
                               for lang in ("en", "en", "es")]
    moderator, participant, stage = [await role(live_server, name).connect()
                                     for name in ("moderator", "participant", "stage")]
    outsiders = [spanish, moderator, participant, stage]
    everybody = [first, partner, *outsiders]
    assert (first.welcome["role"], first.welcome["booth"], spanish.welcome["booth"]) == \
        ("interpreter", "en", "es")
    assert all("booth" not in c.welcome for c in (moderator, participant, stage))
    assert snapshot_state(first)["booth"] == [] and snapshot_state(spanish)["booth"] == []
    assert all("booth" not in snapshot_state(c) for c in (moderator, participant, stage))

    await first.ok("SendBoothMessage", text=ENGLISH_LINES[0], name="Anne", device=DEVICE,
                   client_key="k-1")
    await partner.wait_for(lambda: booth(partner) == [(ENGLISH_LINES[0], "Anne", DEVICE)])
    assert booth(first) == booth(partner)  # the sender's page is sent its own message too
    await spanish.ok("SendBoothMessage", text="Hola, soy Lola")
    await partner.ok("SendBoothMessage", text=ENGLISH_LINES[1], device="page-two-0002")
    # A message re-sent with its key after a reconnect is kept once.
    await first.ok("SendBoothMessage", text=ENGLISH_LINES[0], name="Anne", device=DEVICE,
                   client_key="k-1")
    await everyone_saw(moderator, everybody)
    assert booth(first) == booth(partner) == [(ENGLISH_LINES[0], "Anne", DEVICE),
                                              (ENGLISH_LINES[1], None, "page-two-0002")]
    assert booth(spanish) == [("Hola, soy Lola", None, None)]
    for client in outsiders:
        assert leaks(client, *ENGLISH_LINES, DEVICE, "Anne") == [], client.welcome["role"]
    for client in (moderator, participant, stage):
        assert leaks(client, "Hola", "BoothMessageSent", "booth_message") == []
    assert leaks(first, "Hola") == [] and leaks(partner, "Hola") == []

    # Only an interpreter writes, and only in the booth of their link, whatever they claim.
    for client in (moderator, participant, stage):
        reply = await client.send("SendBoothMessage", text="Can I join?")
        assert (reply["type"], reply["code"]) == ("Error", "forbidden"), reply
    await spanish.ok("SendBoothMessage", text="Sigo en español", language="en", booth="en")
    for text in ("", " ", "x" * 301):
        reply = await first.send("SendBoothMessage", text=text)
        assert (reply["type"], reply["code"]) == ("Error", "invalid"), text
    floor = await interpreter(live_server, "fr").connect()  # the floor has no booth
    assert "booth" not in floor.welcome and "booth" not in snapshot_state(floor)
    reply = await floor.send("SendBoothMessage", text="Bonjour")
    assert (reply["type"], reply["code"]) == ("Error", "forbidden")

    # Everyone drops; the English booth goes on meanwhile; they come back and resume.
    await everyone_saw(moderator, [*everybody, floor])
    left = {id(c): (c.epoch, c.seq, c.view, c.participant) for c in (partner, *outsiders)}
    for client in (partner, *outsiders, floor):
        await client.close()
    await first.ok("SendBoothMessage", text="While you were away", device=DEVICE)
    await first.ok("SendBoothMessage", text="Still away?", device=DEVICE)
    back: list[Client] = []
    for old in (partner, *outsiders):
        epoch, seq, view, identity = left[id(old)]
        client = Client(live_server.ws_base, SESSION, old.token)
        client.view = view
        await client.connect(resume=(epoch, seq), participant=identity)
        assert client.resumed is not None, old.welcome["role"]  # replayed, not a snapshot
        back.append(client)
    partner, spanish, moderator, participant, stage = back
    await everyone_saw(moderator, [first, *back])
    assert booth(partner) == booth(first) and [t for t, _, _ in booth(partner)][-2:] == [
        "While you were away", "Still away?"]
    for client in back[1:]:
        assert leaks(client, "While you were away", "Still away?", DEVICE) == [], \
            client.welcome["role"]
    assert booth(spanish) == [("Hola, soy Lola", None, None), ("Sigo en español", None, None)]

    # A page opened afresh has its booth's latest messages in its snapshot, and only those.
    fresh_spanish, fresh_english = [await interpreter(live_server, lang).connect()
                                    for lang in ("es", "en")]
    assert [m["text"] for m in snapshot_state(fresh_spanish)["booth"]] == [
        "Hola, soy Lola", "Sigo en español"]
    assert booth(fresh_english) == booth(first)
    assert leaks(fresh_spanish, *ENGLISH_LINES, "While you were away") == []
    for client in (first, *back, fresh_spanish, fresh_english):
        await client.close()
