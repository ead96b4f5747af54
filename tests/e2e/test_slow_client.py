"""A client that stops reading, through the real server and a real socket whose TCP window fills.

The service never waits for a client: the one that stopped reading is dropped (4008) once its queue
overflows, everyone else keeps receiving every event as it happens, and the dropped client resumes
on reconnect. A client that never reads again is let go by the server (it leaves the session).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from live.web import ws as ws_module
from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e.test_ws_flow import clients
from tests.wsclient import Client

QUEUE_LIMIT = 100  # smaller than the service's, so the drop comes after fewer events
TEXT_CHARS = 480  # each edit sends the whole question: ~600 bytes per event to every client


@pytest.fixture
def fast_moderator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the per-connection message rate so one moderator can edit hundreds of times a second,
    and lower the queue limit: the test needs a flood of events, not a long one."""
    monkeypatch.setattr(ws_module, "MESSAGE_BURST", 100_000)
    monkeypatch.setattr(ws_module, "MESSAGES_PER_SECOND", 100_000.0)
    monkeypatch.setattr(ws_module, "QUEUE_LIMIT", QUEUE_LIMIT)


async def stalled(server: RunningServer, tok: str) -> tuple[ClientConnection, list[dict[str, Any]]]:
    """A participant that reads its Welcome and Snapshot, then nothing: a 4 KiB receive buffer and
    a one-frame client queue, so the TCP window closes after a few frames."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    host, port = server.base_url.removeprefix("http://").split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    conn = await websockets.connect(f"{server.ws_base}/ws/sessions/{SESSION}", sock=sock,
                                    max_queue=1, compression=None, ping_interval=None)
    await conn.send(json.dumps({"type": "Hello", "v": 1, "token": tok}))
    seen: list[dict[str, Any]] = []
    while not any(m["type"] == "Snapshot" for m in seen):
        seen.append(json.loads(await asyncio.wait_for(conn.recv(), 5)))
    return conn, seen


async def read_to_the_end(conn: ClientConnection) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(conn.recv(), 10)))
    except websockets.ConnectionClosed:
        return frames


def shows(client: Client, text: str) -> Callable[[], object]:
    return lambda: client.question(text)


def logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    """Whether the server (in this process) logged `text`: how the test knows a drop happened."""
    return any(text in record.getMessage() for record in caplog.records)


async def test_a_client_that_stops_reading_is_dropped_and_the_others_keep_up(
        live_server: RunningServer, fast_moderator: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="live.web.ws")
    participant, moderator, stage = await clients(live_server, "participant", "moderator", "stage")
    await participant.ok("AskQuestion", text="Une question à modifier")
    question = await moderator.wait_for(lambda: moderator.question("Une question à modifier"))
    await moderator.ok("ApproveQuestion", question_id=question["id"])
    await stage.wait_for(lambda: stage.view["questions"])
    slow, handshake = await stalled(live_server, token_of(live_server.link("participant", SESSION)))
    snapshot = next(m for m in handshake if m["type"] == "Snapshot")

    edits = 0
    while not logged(caplog, "dropping a slow client"):
        assert edits < 5_000, "the client that stopped reading was never dropped"
        edits += 1
        text = f"{edits:05d} " + "x" * TEXT_CHARS
        await moderator.ok("EditQuestion", question_id=question["id"], text=text)
        if edits % 50 == 0:  # the others are current while the slow one is stuck
            for client in (stage, participant):
                await client.wait_for(shows(client, text))
    assert edits > QUEUE_LIMIT  # it was dropped for a full queue, not for anything else

    # Every edit reached the others, each exactly once and in order.
    for client in (stage, participant, moderator):
        await client.wait_for(shows(client, text))
        edited = [m["seq"] for m in client.messages if m["type"] == "QuestionEdited"]
        assert len(edited) == edits and edited == sorted(set(edited))

    # Once it reads again, the slow client finds what was sent before the drop, in order and
    # without gaps, then the slow-client close.
    frames = await read_to_the_end(slow)
    assert slow.close_code == 4008
    seqs = [m["seq"] for m in frames if m["type"] == "QuestionEdited"]
    # Exactly the edits the participant that kept reading saw first (seqs skip the moderators'
    # own events, such as the moderation log).
    kept_up = [m["seq"] for m in participant.messages if m["type"] == "QuestionEdited"]
    assert seqs and seqs == kept_up[:len(seqs)]
    assert seqs[0] == snapshot["seq"] + 1 and len(seqs) < edits

    # It reconnects and resumes from where it stopped, though what it missed is more than its
    # queue holds (the replay is not counted against it): it ends with the current text.
    assert edits - len(seqs) > QUEUE_LIMIT
    back = Client(live_server.ws_base, SESSION, token_of(live_server.link("participant", SESSION)))
    back.view = snapshot["state"]
    for frame in frames:
        if frame["type"] == "QuestionEdited":
            back.view = {**back.view, "questions": [frame["question"]]}
    welcome = next(m for m in handshake if m["type"] == "Welcome")
    await back.connect(participant=welcome["participant"], resume=(snapshot["epoch"], seqs[-1]))
    assert back.resumed is not None
    await back.wait_for(lambda: back.question(text))
    assert back.closed_code is None
    for client in (back, participant, moderator, stage):
        await client.close()


async def test_a_client_that_never_reads_again_is_let_go(
        live_server: RunningServer, fast_moderator: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # Long enough for the edits to fill the queue (a thousand, a few ms each on a loaded machine)
    # before the write deadline ends the stuck send; short enough for the test.
    monkeypatch.setattr(ws_module, "WRITE_DEADLINE", 2.0)
    caplog.set_level(logging.INFO, logger="live.web.ws")
    participant, moderator = await clients(live_server, "participant", "moderator")
    await participant.ok("AskQuestion", text="Encore une question")
    question = await moderator.wait_for(lambda: moderator.question("Encore une question"))
    await moderator.ok("ApproveQuestion", question_id=question["id"])
    slow, _ = await stalled(live_server, token_of(live_server.link("participant", SESSION)))
    await moderator.wait_for(lambda: moderator.view["connected"] == 2, timeout=10)

    edits = 0
    while not logged(caplog, "dropping a slow client"):
        assert edits < 5_000, "the client that stopped reading was never dropped"
        edits += 1
        await moderator.ok("EditQuestion", question_id=question["id"],
                           text=f"{edits:05d} " + "y" * TEXT_CHARS)
    # Not even the close frame fits: past the write deadline the server ends the connection on
    # its side. It leaves the session (presence counts one participant again) while its socket
    # is still open and unread.
    await moderator.wait_for(lambda: moderator.view["connected"] == 1, timeout=10)
    assert logged(caplog, "the peer takes nothing")
    assert slow.close_code is None
    # The others carry on (not an upvote: the question is the participant's own).
    reply = await participant.send("AskQuestion", text="Et une autre ?")
    assert reply["type"] == "Ack"
    slow.transport.abort()
    for client in (participant, moderator):
        await client.close()
