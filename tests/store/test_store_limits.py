"""The per-address budgets, one contract for both stores (memory, and the real Redis): votes per
address per poll or question, checked in the free append itself; new identities per address; the
address a ban holds. Kept in the store so that every worker process shares them."""

from __future__ import annotations

import asyncio
import json

from live.store import OVER_LIMIT, Quota, Record, Refusal, Store
from tests.conftest import SESSION
from tests.waiting import wait_for

POLL, QUESTION = "poll:p1", "q:q1"
A, B = "203.0.113.7", "2001:db8:1:2::/64"


async def opened(store: Store, *gates: str) -> str:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, [json.dumps({"n": "open"})],
                       [(gate, True) for gate in gates])
    return epoch


def vote(voter: str) -> str:
    return json.dumps({"voter": voter})


def outcomes(results: list[Record | Refusal | None]) -> list[str]:
    return ["over" if r is OVER_LIMIT else "closed" if r is None else "ok" for r in results]


async def test_an_address_counts_distinct_voters_up_to_its_limit(store: Store) -> None:
    epoch = await opened(store, POLL)
    voters = [f"u{i}" for i in range(5)]
    results = await store.append_free(SESSION, epoch, [(vote(v), POLL) for v in voters],
                                      [Quota(v, A, 3) for v in voters])
    assert outcomes(results) == ["ok", "ok", "ok", "over", "over"]
    # a counted voter changing their ballot costs nothing more; another address has its own count
    again = await store.append_free(SESSION, epoch, [(vote("u0"), POLL), (vote("u9"), POLL)],
                                    [Quota("u0", A, 3), Quota("u9", B, 3)])
    assert outcomes(again) == ["ok", "ok"]
    # only what was appended is in the log: the refused votes left no record
    records = await store.read_since(SESSION, epoch, 1)
    assert records is not None
    assert [json.loads(r.data)["voter"] for r in records] == ["u0", "u1", "u2", "u0", "u9"]


async def test_the_count_is_per_gate_and_a_closed_gate_counts_nothing(store: Store) -> None:
    epoch = await opened(store, POLL, QUESTION)
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u1"), POLL)],
                                            [Quota("u1", A, 1)])) == ["ok"]
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u2"), POLL)],
                                            [Quota("u2", A, 1)])) == ["over"]
    # the question has its own budget for the same address
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u2"), QUESTION)],
                                            [Quota("u2", A, 1)])) == ["ok"]
    # refused by its closed gate: not counted either (u3 is not over any budget afterwards)
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u3"), "poll:p2")],
                                            [Quota("u3", A, 1)])) == ["closed"]


async def test_an_uncounted_voter_gives_its_share_back(store: Store) -> None:
    epoch = await opened(store, QUESTION)
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u1"), QUESTION)],
                                            [Quota("u1", A, 1)])) == ["ok"]
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u2"), QUESTION)],
                                            [Quota("u2", A, 1)])) == ["over"]
    # u1 withdraws (uncounted wherever it was counted: the quota names no address)
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u1"), QUESTION)],
                                            [Quota("u1")])) == ["ok"]
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u2"), QUESTION)],
                                            [Quota("u2", A, 1)])) == ["ok"]
    # uncounting a voter never counted changes nothing
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u7"), QUESTION)],
                                            [Quota("u7")])) == ["ok"]
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("u3"), QUESTION)],
                                            [Quota("u3", A, 1)])) == ["over"]


async def test_items_without_a_quota_are_not_counted(store: Store) -> None:
    epoch = await opened(store, POLL)
    results = await store.append_free(SESSION, epoch, [(vote(f"r{i}"), POLL) for i in range(4)],
                                      [None, Quota("u1", A, 1), None, Quota("u2", A, 1)])
    assert outcomes(results) == ["ok", "ok", "ok", "over"]
    assert outcomes(await store.append_free(SESSION, epoch, [(vote("x"), POLL)])) == ["ok"]


async def test_concurrent_batches_never_exceed_the_limit(store: Store) -> None:
    epoch = await opened(store, POLL)
    batches = [[f"u{b}-{i}" for i in range(10)] for b in range(6)]
    results = await asyncio.gather(*(
        store.append_free(SESSION, epoch, [(vote(v), POLL) for v in batch],
                          [Quota(v, A, 25) for v in batch]) for batch in batches))
    flat = [o for batch in results for o in outcomes(batch)]
    assert flat.count("ok") == 25 and flat.count("over") == 35


async def test_new_identities_per_address_take_from_a_bucket(store: Store) -> None:
    admitted = [await store.admit_identity(A, 3, 0.001) for _ in range(5)]
    assert admitted == ["ok", "ok", "ok", "limited", "limited"]
    assert await store.admit_identity(B, 3, 0.001) == "ok"  # another address, its own bucket


async def test_a_held_address_refuses_new_identities_until_the_hold_ends(store: Store) -> None:
    await store.note_address("u_banned", A, 60)
    await store.note_address("u_other", B, 60)
    assert await store.hold_address_of("u_banned", 0.3)
    assert await store.admit_identity(A, 100, 100) == "held"
    assert await store.admit_identity(B, 100, 100) == "ok"
    # a participant whose address is not remembered holds nothing
    assert not await store.hold_address_of("u_unknown", 60)
    # a shorter hold afterwards does not shorten it
    await store.hold_address_of("u_banned", 0.01)
    await asyncio.sleep(0.05)  # the shorter hold's end passes, on purpose
    assert await store.admit_identity(A, 100, 100) == "held"

    async def admitted() -> bool:
        return await store.admit_identity(A, 100, 100) != "held"

    await wait_for(admitted, 3, "the end of the hold")


async def test_a_remembered_address_expires(store: Store) -> None:
    await store.note_address("u1", A, 0.05)

    async def forgotten() -> bool:
        return not await store.hold_address_of("u1", 0.01)

    await wait_for(forgotten, 3, "the remembered address expired")
