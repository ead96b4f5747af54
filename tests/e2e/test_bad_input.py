"""Hostile and broken input through the real server: a clear error or a clean close, never a crash."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from live.domain import Role
from live.web.auth import Signer
from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e.test_ws_flow import clients
from tests.wsclient import Client


async def raw(server: RunningServer, session: str = SESSION, **extra: object) -> object:
    return await websockets.connect(f"{server.ws_base}/ws/sessions/{session}", **extra)


async def hello(ws: object, tok: str, **extra: object) -> None:
    await ws.send(json.dumps({"type": "Hello", "v": 1, "token": tok, **extra}))  # type: ignore[attr-defined]


async def closed_with(ws: object) -> int | None:
    with pytest.raises(websockets.ConnectionClosed):
        for _ in range(20):
            await asyncio.wait_for(ws.recv(), 5)  # type: ignore[attr-defined]
    await ws.close()  # type: ignore[attr-defined]
    return ws.close_code  # type: ignore[attr-defined,no-any-return]


def signer_of(server: RunningServer) -> Signer:
    signer: Signer = server.app.state.signer
    return signer


async def test_forged_expired_and_misscoped_tokens_are_refused(live_server: RunningServer) -> None:
    good = token_of(live_server.link("moderator", SESSION))
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    expired = signer_of(live_server).issue(Role.MODERATOR, SESSION, int(time.time()) - 10)
    other = token_of(live_server.link("moderator", "pleniere-aict"))
    for tok in (forged, expired, other, "", "not-a-token"):
        ws = await raw(live_server)
        await hello(ws, tok)
        assert await closed_with(ws) == 4001, tok


async def test_protocol_errors_close_with_their_code(live_server: RunningServer) -> None:
    tok = token_of(live_server.link("participant", SESSION))
    ws = await raw(live_server)
    await ws.send("{not json")
    assert await closed_with(ws) == 1007

    ws = await raw(live_server)
    await ws.send(json.dumps({"type": "AskQuestion", "text": "hello"}))
    assert await closed_with(ws) == 4002

    ws = await raw(live_server)
    await ws.send(json.dumps({"type": "Hello", "v": 99, "token": tok}))
    assert await closed_with(ws) == 4003

    ws = await raw(live_server, session="no-such-session")
    await hello(ws, tok)
    assert await closed_with(ws) == 4004

    ws = await raw(live_server)
    await hello(ws, tok)
    await ws.send(b"\x00\x01binary")
    assert await closed_with(ws) == 1003

    ws = await raw(live_server)
    await hello(ws, tok)
    await ws.send(json.dumps([1, 2, 3]))
    assert await closed_with(ws) == 1007


async def test_oversized_frame_closes_with_1009(live_server: RunningServer) -> None:
    participant = await Client(live_server.ws_base, SESSION,
                               token_of(live_server.link("participant", SESSION))).connect()
    await participant.ws.send(json.dumps({"type": "AskQuestion", "text": "x" * 70_000}))
    await participant.wait_for(lambda: participant.closed_code is not None)
    assert participant.closed_code == 1009


async def test_foreign_origin_is_refused_own_origin_accepted(live_server: RunningServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await raw(live_server, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    host = live_server.base_url.removeprefix("http://")
    ws = await raw(live_server, origin=f"http://{host}")
    await hello(ws, token_of(live_server.link("stage", SESSION)))
    first = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert first["type"] == "Welcome"
    await ws.close()


async def test_forged_participant_identity_gets_a_new_one(live_server: RunningServer) -> None:
    tok = token_of(live_server.link("participant", SESSION))
    client = await Client(live_server.ws_base, SESSION, tok).connect(
        participant={"id": "u_someone-else", "key": "guessed"})
    assert client.participant is not None and client.participant["id"] != "u_someone-else"
    await client.close()


async def test_html_in_a_question_stays_text(live_server: RunningServer) -> None:
    participant, moderator = await clients(live_server, "participant", "moderator")
    text = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'
    await participant.ok("AskQuestion", text=text)
    seen = await moderator.wait_for(lambda: moderator.question(text))
    assert seen["text"] == text  # stored and sent verbatim: pages render it with textContent
    raw_frames = [m for m in moderator.messages if m.get("type") == "QuestionAsked"]
    assert raw_frames and raw_frames[-1]["question"]["text"] == text
    await participant.close()
    await moderator.close()


async def test_question_flood_is_rate_limited_and_accepted_ones_kept(
        live_server: RunningServer) -> None:
    participant, moderator = await clients(live_server, "participant", "moderator")
    replies = [await participant.send("AskQuestion", text=f"Question {i}") for i in range(8)]
    accepted = [r for r in replies if r["type"] == "Ack"]
    limited = [r for r in replies if r.get("code") == "rate_limited"]
    assert len(accepted) == 5 and len(limited) == 3
    await moderator.wait_for(lambda: len(moderator.view["questions"]) >= 5)
    assert sorted(q["text"] for q in moderator.view["questions"]) == [
        f"Question {i}" for i in range(5)]
    assert participant.closed_code is None
    await participant.close()
    await moderator.close()


async def test_message_flood_closes_the_connection_only(live_server: RunningServer) -> None:
    flooder, bystander = await clients(live_server, "participant", "participant")
    for _ in range(200):
        await flooder.ws.send(json.dumps({"type": "Ping"}))
    await flooder.wait_for(lambda: flooder.closed_code is not None)
    assert flooder.closed_code == 1008
    assert any(m.get("code") == "rate_limited" for m in flooder.messages)
    await bystander.ok("AskQuestion", text="Toujours là ?")
    await bystander.close()


async def test_banned_participant_is_refused_and_pending_questions_vanish(
        live_server: RunningServer) -> None:
    participant, moderator = await clients(live_server, "participant", "moderator")
    await participant.ok("AskQuestion", text="Spam 1")
    question = await moderator.wait_for(lambda: moderator.question("Spam 1"))
    await moderator.ok("BanParticipant", question_id=question["id"])
    await moderator.wait_for(lambda: moderator.question("Spam 1")["status"] == "dismissed")
    assert moderator.view["banned"] == [{"ban_id": question["id"], "name": None}]
    await participant.wait_for(lambda: participant.view["me"]["banned"])
    reply = await participant.send("AskQuestion", text="Spam 2")
    assert reply["code"] == "banned"
    await participant.close()
    await moderator.close()


async def test_hostile_frames_get_an_answer_or_a_close_and_the_server_survives(
        live_server: RunningServer) -> None:
    import random

    rng = random.Random(7)
    tok = token_of(live_server.link("participant", SESSION))
    junk: list[str] = [
        "{", "[]", "null", '{"type":null}', '{"type":"Hello","v":1}', "\u0000", "{}" * 50,
        json.dumps({"type": "AskQuestion", "text": "x" * 501}),
        json.dumps({"type": "AskQuestion", "text": "\u202e\u0007bell"}),
        json.dumps({"type": "CastBallot", "poll_id": "p_none", "choices": [0]}),
        json.dumps({"type": "BanParticipant", "question_id": "q_x"}),
        json.dumps({"type": "UpvoteQuestion", "question_id": {"$gt": ""}}),
        json.dumps({"type": "__init__"}), json.dumps({"type": "ApproveQuestion"}),
    ]
    answered = closed = 0
    moderator = (await clients(live_server, "moderator"))[0]
    before = moderator.view["questions"]
    ws = None
    for i in range(300):
        if ws is None:
            ws = await raw(live_server)
            await hello(ws, tok)
            for _ in range(3):  # Welcome, Snapshot, Tally
                await asyncio.wait_for(ws.recv(), 5)
        frame = rng.choice(junk)
        if rng.random() < 0.2:
            frame = frame[: rng.randrange(len(frame) + 1)]
        try:
            await ws.send(frame)
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert reply["type"] == "Error", reply
            answered += 1
        except websockets.ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code in (1007, 1008, 4002), (i, frame)
            closed += 1
            await ws.close()
            ws = None
    if ws is not None:
        await ws.close()
    assert answered > 50 and closed > 10
    reply = await moderator.send("SetPremoderation", enabled=True)
    assert reply["type"] == "Ack" and moderator.view["questions"] == before
    await moderator.close()
