"""One person, one vote, in open mode, through the real server: per-address budgets of new
identities, ballots and upvotes; a ban that holds the banned one's address; a ban that does not
tie an anonymous question to a named one.

Every client here plays a documentation address (RFC 5737 / RFC 3849) in X-Forwarded-For, which
the test server believes from loopback as production believes its proxy: the budgets are
exercised as they hold on the internet, not through the loopback exemption.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from live.config import Settings
from tests.conftest import REDIS_URL, SESSION, RunningServer, ServerThread, free_port, token_of
from tests.wsclient import Client, open_poll, poll_of

ADDRESS = "203.0.113.7"


def server(**settings: Any) -> Iterator[RunningServer]:
    with ServerThread(Settings(port=free_port(), **settings)) as running:
        yield running


@pytest.fixture
def limited() -> Iterator[RunningServer]:
    """Budgets small enough to reach in a test; identities plenty unless a test says otherwise."""
    yield from server(identity_burst=500, address_ballots=20, address_upvotes=5, ban_hold=60)


@pytest.fixture
def few_identities() -> Iterator[RunningServer]:
    yield from server(identity_burst=3, identities_per_minute=0.001)


async def connect(running: RunningServer, address: str) -> Client:
    client = Client(running.ws_base, SESSION, token_of(running.link("participant", SESSION)))
    return await client.connect(additional_headers={"X-Forwarded-For": address})


async def moderator(running: RunningServer) -> Client:
    return await Client(running.ws_base, SESSION,
                        token_of(running.link("moderator", SESSION))).connect()


async def refused(running: RunningServer, address: str,
                  identity: dict[str, str] | None = None) -> int | None:
    """The close code a participant Hello from `address` gets (None: admitted)."""
    async with websockets.connect(f"{running.ws_base}/ws/sessions/{SESSION}",
                                  additional_headers={"X-Forwarded-For": address}) as ws:
        hello: dict[str, Any] = {"type": "Hello", "v": 1,
                                 "token": token_of(running.link("participant", SESSION))}
        if identity is not None:
            hello["participant"] = identity
        await ws.send(json.dumps(hello))
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message["type"] in ("Snapshot", "Resumed"):
                    return None
        except websockets.ConnectionClosed:
            return ws.close_code


async def test_200_identity_less_connections_from_one_address_cast_only_the_limit(
        limited: RunningServer) -> None:
    mod = await moderator(limited)
    poll_id = await open_poll(mod)
    voters = await asyncio.gather(*(connect(limited, ADDRESS) for _ in range(200)))
    assert len({v.participant["id"] for v in voters if v.participant}) == 200
    replies = await asyncio.gather(*(
        v.send("CastBallot", poll_id=poll_id, choices=[0]) for v in voters))
    accepted = [r for r in replies if r["type"] == "Ack"]
    refusals = [r for r in replies if r["type"] == "Error"]
    assert len(accepted) == 20
    assert {r["code"] for r in refusals} == {"address_limited"} and len(refusals) == 180
    assert "network address" in refusals[0]["message"]
    await mod.wait_for(lambda: poll_of(mod, poll_id)["ballots"] == 20)
    # the refused connections stay open and usable; a counted voter may still change their mind
    refused_one = voters[replies.index(refusals[0])]
    assert refused_one.closed_code is None
    await refused_one.ok("AskQuestion", text="Toujours là ?")
    counted = voters[replies.index(accepted[0])]
    await counted.ok("CastBallot", poll_id=poll_id, choices=[1])
    # another address has its own budget
    other = await connect(limited, "198.51.100.20")
    await other.ok("CastBallot", poll_id=poll_id, choices=[1])
    await mod.wait_for(lambda: poll_of(mod, poll_id)["ballots"] == 21)
    assert poll_of(mod, poll_id)["counts"] == [19, 2]
    for client in (*voters, other, mod):
        await client.close()


async def test_upvotes_from_one_address_stop_at_the_limit_and_a_withdrawal_gives_one_back(
        limited: RunningServer) -> None:
    mod = await moderator(limited)
    author = await connect(limited, "198.51.100.30")
    await author.ok("AskQuestion", text="Et les communes rurales ?")
    question = await mod.wait_for(lambda: mod.question("Et les communes rurales ?"))
    await mod.ok("ApproveQuestion", question_id=question["id"])
    voters = await asyncio.gather(*(connect(limited, ADDRESS) for _ in range(12)))
    replies = await asyncio.gather(*(
        v.send("UpvoteQuestion", question_id=question["id"]) for v in voters))
    assert [r["type"] for r in replies].count("Ack") == 5
    assert {r["code"] for r in replies if r["type"] == "Error"} == {"address_limited"}
    await mod.wait_for(lambda: mod.question("Et les communes rurales ?")["votes"] == 5)
    first = voters[[r["type"] for r in replies].index("Ack")]
    late = voters[[r["type"] for r in replies].index("Error")]
    await first.ok("WithdrawUpvote", question_id=question["id"])
    await late.ok("UpvoteQuestion", question_id=question["id"])
    assert (await first.send("UpvoteQuestion", question_id=question["id"]))["code"] \
        == "address_limited"
    await mod.wait_for(lambda: mod.question("Et les communes rurales ?")["votes"] == 5)
    assert all(v.closed_code is None for v in voters)
    for client in (*voters, author, mod):
        await client.close()


async def test_new_identities_per_address_are_limited_returning_ones_are_not(
        few_identities: RunningServer) -> None:
    first = await connect(few_identities, ADDRESS)
    others = [await connect(few_identities, ADDRESS) for _ in range(2)]
    assert await refused(few_identities, ADDRESS) == 4029
    # the identity issued earlier still comes back from that address
    assert first.participant is not None
    assert await refused(few_identities, ADDRESS, first.participant) is None
    # a forged identity is a new one: refused too
    assert await refused(few_identities, ADDRESS, {"id": "u_forged", "key": "x"}) == 4029
    assert await refused(few_identities, "198.51.100.7") is None  # another address
    for client in (first, *others):
        await client.close()


async def test_ipv6_addresses_of_one_64_share_one_budget(few_identities: RunningServer) -> None:
    clients = [await connect(few_identities, f"2001:db8:1:2::{n}") for n in (1, 2, 3)]
    assert await refused(few_identities, "2001:db8:1:2:ffff:ffff:ffff:fffe") == 4029
    assert await refused(few_identities, "2001:db8:1:3::1") is None  # the next /64
    for client in clients:
        await client.close()


async def test_a_ban_holds_the_banned_participants_address(limited: RunningServer) -> None:
    mod = await moderator(limited)
    spammer = await connect(limited, ADDRESS)
    neighbour = await connect(limited, ADDRESS)  # already here: keeps their identity
    await spammer.ok("AskQuestion", text="Spam")
    question = await mod.wait_for(lambda: mod.question("Spam"))
    assert await refused(limited, ADDRESS) is None  # new identities welcome before the ban
    await mod.ok("BanParticipant", question_id=question["id"])
    await spammer.wait_for(lambda: spammer.view["me"]["banned"])
    # a fresh identity from the banned one's address is refused; the trade-off behind a NAT: a
    # newcomer there waits for the hold too, while everyone already connected keeps going
    assert await refused(limited, ADDRESS) == 4030
    assert neighbour.participant is not None
    assert await refused(limited, ADDRESS, neighbour.participant) is None
    assert await refused(limited, "198.51.100.8") is None
    assert (await spammer.send("AskQuestion", text="Encore"))["code"] == "banned"
    for client in (spammer, neighbour, mod):
        await client.close()


async def test_a_ban_does_not_tie_an_anonymous_question_to_a_named_one(
        limited: RunningServer) -> None:
    mod = await moderator(limited)
    author = await connect(limited, ADDRESS)
    await author.ok("AskQuestion", text="Signée", name="Marie Dupont")
    await author.ok("AskQuestion", text="Anonyme", anonymous=True)
    await author.ok("AskQuestion", text="Sans nom")
    named = await mod.wait_for(lambda: mod.question("Signée"))
    secret = await mod.wait_for(lambda: mod.question("Anonyme"))
    nameless = await mod.wait_for(lambda: mod.question("Sans nom"))
    seen = len(mod.messages)
    await mod.ok("BanParticipant", question_id=named["id"])
    await mod.wait_for(lambda: mod.question("Signée")["status"] == "dismissed")
    # what the moderator's socket carried because of the ban names no anonymous question
    wire = json.dumps(mod.messages[seen:])
    assert named["id"] in wire
    assert secret["id"] not in wire and nameless["id"] not in wire
    assert mod.question("Anonyme")["status"] == "pending"
    assert mod.question("Sans nom")["status"] == "pending"
    # a fresh moderator console tells no more
    late = await moderator(limited)
    assert late.view["banned"] == [{"ban_id": named["id"], "name": "Marie Dupont"}]
    assert late.question("Anonyme")["status"] == "pending"
    for client in (author, mod, late):
        await client.close()


async def test_the_budgets_hold_across_services_sharing_redis(key_prefix: str) -> None:
    """Two services (each its own event loop, as two workers) on one Redis share the budgets."""
    common: dict[str, Any] = dict(redis_url=REDIS_URL, key_prefix=key_prefix,
                                  secret="a-secret-shared-by-both-workers", address_ballots=10,
                                  identity_burst=24, identities_per_minute=0.001)
    with ServerThread(Settings(port=free_port(), **common)) as one, \
            ServerThread(Settings(port=free_port(), **common)) as two:
        mod = await moderator(one)
        poll_id = await open_poll(mod)
        voters = await asyncio.gather(*(connect(server, ADDRESS)
                                        for server in (one, two) for _ in range(12)))
        assert await refused(two, ADDRESS) == 4029  # 24 identities taken, on both together
        replies = await asyncio.gather(*(
            v.send("CastBallot", poll_id=poll_id, choices=[0]) for v in voters))
        assert [r["type"] for r in replies].count("Ack") == 10
        await mod.wait_for(lambda: poll_of(mod, poll_id)["ballots"] == 10)
        for client in (*voters, mod):
            await client.close()
