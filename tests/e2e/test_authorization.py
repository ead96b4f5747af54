"""Who may do what, where clients connect: every command over the WebSocket from every role that
may not send it, and from links that expired, each refused with the session unchanged.

The domain's own tests check its capability table; these check that nothing between the socket and
the domain (the Hello, the role the connection keeps, the service) lets a command through.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any

import pytest
import websockets

from live.domain import Role
from live.domain import commands as c
from live.protocol import CLOSE_UNAUTHORIZED
from tests.conftest import SESSION, RunningServer, token_of
from tests.domain.test_moderation import (
    CAPTIONER_COMMANDS,
    DIRECT_COMMANDS,
    GUEST_COMMANDS,
    INTERPRETER_COMMANDS,
    MODERATOR_COMMANDS,
    PARTICIPANT_COMMANDS,
    SAMPLES,
    SPEAKER_COMMANDS,
)
from tests.wsclient import Client

Json = dict[str, Any]


def wire(command: c.Command) -> Json:
    fields = {k: list(v) if isinstance(v, tuple) else v
              for k, v in dataclasses.asdict(command).items() if v is not None}
    return {"type": type(command).__name__, **fields}


async def populated(server: RunningServer) -> tuple[Client, dict[str, str]]:
    """Questions in several statuses and polls, so every sample names something real."""
    moderator = await Client(server.ws_base, SESSION, token_of(server.link("moderator", SESSION))).connect()
    asker = await Client(server.ws_base, SESSION, token_of(server.link("participant", SESSION))).connect()
    ids: dict[str, str] = {}
    for key, text in (("pending", "En attente ?"), ("approved", "Approuvée ?"),
                      ("dismissed", "Écartée ?")):
        await asker.ok("AskQuestion", text=text, name="Marie Dupont")
        ids[key] = (await moderator.wait_for(lambda t=text: moderator.question(t)))["id"]
    await moderator.ok("ApproveQuestion", question_id=ids["approved"])
    await moderator.ok("DismissQuestion", question_id=ids["dismissed"])
    for key, question in (("poll", "Avis ?"), ("draft", "Plus tard ?")):
        await moderator.ok("CreatePoll", question=question, options=["Oui", "Non"])
        ids[key] = next(p["id"] for p in moderator.view["polls"] if p["question"] == question)
    await moderator.ok("CreatePoll", question="Un mot ?", kind="words")
    ids["words"] = next(p["id"] for p in moderator.view["polls"] if p["question"] == "Un mot ?")
    await moderator.ok("OpenPoll", poll_id=ids["words"])
    await asker.ok("CastBallot", poll_id=ids["words"], answers=["Mobilité"])
    await moderator.ok("OpenPoll", poll_id=ids["poll"])
    await asker.close()
    return moderator, ids


def comparable(view: Json) -> Json:
    return {k: v for k, v in view.items() if k != "connected"}


async def fresh_view(server: RunningServer) -> Json:
    client = await Client(server.ws_base, SESSION, token_of(server.link("moderator", SESSION))).connect()
    view = comparable(client.view)
    await client.close()
    return view


# What each link's role may send; every other command must be refused. The interpreter's link is
# the English booth's; the guest's, the remote speaker the demo programme names.
OWN: dict[str, frozenset[str]] = {
    "participant": PARTICIPANT_COMMANDS, "moderator": MODERATOR_COMMANDS, "stage": frozenset(),
    "studio": DIRECT_COMMANDS, "captioner": CAPTIONER_COMMANDS,
    "interpreter en": INTERPRETER_COMMANDS,
    "guest Intervenant à distance": GUEST_COMMANDS | SPEAKER_COMMANDS,
}
OWN["stage"] = SPEAKER_COMMANDS  # the speaker acknowledges the moderators' message
FORBIDDEN = [(role, name) for role, own in OWN.items() for name in sorted(set(c.COMMANDS) - own)]


async def test_every_forbidden_command_is_refused_and_changes_nothing(
        live_server: RunningServer) -> None:
    moderator, ids = await populated(live_server)
    before = await fresh_view(live_server)
    connections = {role: await Client(live_server.ws_base, SESSION,
                                      token_of(live_server.link(role, SESSION))).connect()
                   for role in OWN if role != "moderator"}
    connections["moderator"] = moderator
    try:
        # Command by command, every role in turn, with a pause past 25 rounds: a connection may
        # send 30 frames at once, then 10 a second, and each role has more refusals than that.
        for i, (role, name) in enumerate(sorted(FORBIDDEN, key=lambda rn: (rn[1], rn[0]))):
            if i and i % (25 * len(OWN)) == 0:
                await asyncio.sleep(1.5)
            reply = await connections[role].send(name, **_fields(SAMPLES[name](ids)))
            assert reply["type"] == "Error" and reply["code"] == "forbidden", (role, name, reply)
        assert all(client.closed_code is None for client in connections.values())  # a user error
        assert await fresh_view(live_server) == before
    finally:
        for client in connections.values():
            await client.close()
    # The matrix is whole: each role is refused everything but its own commands, and every
    # command is some role's.
    assert len(FORBIDDEN) == len(OWN) * len(c.COMMANDS) - sum(len(own) for own in OWN.values())
    assert set().union(*OWN.values()) == set(c.COMMANDS)


def _fields(command: c.Command) -> Json:
    message = wire(command)
    del message["type"]
    return message


@pytest.mark.parametrize("role", list(Role))
async def test_an_expired_link_gets_no_session(live_server: RunningServer, role: Role) -> None:
    moderator, ids = await populated(live_server)
    before = await fresh_view(live_server)
    expired = live_server.app.state.signer.issue(role, SESSION if role is not Role.PARTICIPANT
                                                 else "*", int(time.time()) - 1)
    async with websockets.connect(f"{live_server.ws_base}/ws/sessions/{SESSION}") as ws:
        await ws.send('{"type":"Hello","v":1,"token":"' + expired + '"}')
        # Commands sent right behind the Hello, as a client that ignores the refusal would.
        for name in sorted(SAMPLES):
            try:
                await ws.send(json.dumps(wire(SAMPLES[name](ids))))
            except websockets.ConnectionClosed:
                break
        frames = []
        try:
            async for frame in ws:
                frames.append(frame)
        except websockets.ConnectionClosed:
            pass
        assert ws.close_code == CLOSE_UNAUTHORIZED, (ws.close_code, frames)
        assert not any('"Ack"' in f or '"Snapshot"' in f or '"Welcome"' in f for f in frames), frames
    assert await fresh_view(live_server) == before
    await moderator.close()
