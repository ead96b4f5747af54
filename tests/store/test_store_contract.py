"""One contract for both stores: the embedded one and Redis (real server, one key prefix per test)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis

from live.store import Conflict, EpochChanged, RateLimited, Record, Store
from live.store.base import HISTORY
from live.store.redis import RedisStore
from tests.conftest import REDIS_URL, SESSION, delete_prefix
from tests.waiting import wait_for


def texts(records: list[Record] | None) -> list[str]:
    assert records is not None
    return [r.data for r in records]


def seqs(records: list[Record] | None) -> list[int]:
    assert records is not None
    return [r.seq for r in records]


async def test_first_load_creates_an_epoch_with_no_records(store: Store) -> None:
    assert await store.head(SESSION) == (None, 0)
    loaded = await store.load(SESSION)
    assert isinstance(loaded.epoch, str) and loaded.epoch
    assert loaded.snapshot is None and loaded.snapshot_seq == 0
    assert loaded.records == [] and loaded.seq == 0
    assert await store.head(SESSION) == (loaded.epoch, 0)
    again = await store.load(SESSION)
    assert again.epoch == loaded.epoch  # loading again keeps the epoch
    other = await store.load("pleniere-aict")
    assert other.epoch != loaded.epoch  # each session has its own


def body(n: int | str) -> str:
    return json.dumps({"n": n})


def ns(records: list[Record] | None) -> list[object]:
    """The `n` of each record, checking its stamp (seq and version in front) on the way."""
    assert records is not None
    out = []
    for r in records:
        data = json.loads(r.data)
        assert r.data.startswith(f'{{"seq":{r.seq},"v":{data["v"]},') and data["seq"] == r.seq
        out.append(data["n"])
    return out


async def test_append_numbers_records_and_returns_them_in_order(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    first = await store.append(SESSION, epoch, 0, [body(1), body(2)])
    assert [r.seq for r in first] == [1, 2] and ns(first) == [1, 2]
    assert [json.loads(r.data)["v"] for r in first] == [1, 1]  # one guarded append: version 1
    await store.append(SESSION, epoch, 1, [body(3)])
    await store.append(SESSION, epoch, 2, [body('é ✓ "quoted"\n')])
    loaded = await store.load(SESSION)
    assert loaded.epoch == epoch and loaded.seq == 4
    assert ns(loaded.records) == [1, 2, 3, 'é ✓ "quoted"\n']
    assert await store.read_since(SESSION, epoch, 0) == loaded.records
    assert await store.read_since(SESSION, epoch, 2) == loaded.records[2:]
    assert await store.head(SESSION) == (epoch, 4)


async def test_stale_version_conflicts_and_appends_nothing(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, [body("a"), body("b"), body("c")])
    for stale in (0, 2, 3):  # behind, ahead; records are not versions
        with pytest.raises(Conflict):
            await store.append(SESSION, epoch, stale, [body("x")], [("poll:p1", True)])
    assert await store.head(SESSION) == (epoch, 3)
    assert await store.gates(SESSION) == set()  # a refused append changes no gate either
    assert ns((await store.load(SESSION)).records) == ["a", "b", "c"]
    assert ns(await store.append(SESSION, epoch, 1, [body("d")])) == ["d"]


async def test_wrong_epoch_is_refused_and_appends_nothing(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, [body("a")], [("poll:p1", True)])
    with pytest.raises(EpochChanged):
        await store.append(SESSION, "not-" + epoch, 1, [body("x")])
    with pytest.raises(EpochChanged):  # the epoch is checked before the version
        await store.append(SESSION, "not-" + epoch, 0, [body("x")])
    with pytest.raises(EpochChanged):  # and before the gate
        await store.append_free(SESSION, "not-" + epoch, [(body("x"), "poll:p1")])
    assert await store.head(SESSION) == (epoch, 1)
    assert ns((await store.load(SESSION)).records) == ["a"]


async def test_free_appends_need_their_gate_and_leave_the_version_alone(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    assert await store.append_free(SESSION, epoch, [(body("early"), "poll:p1")]) == [None]
    await store.append(SESSION, epoch, 0, [body("open")], [("poll:p1", True), ("q:q1", True)])
    assert await store.gates(SESSION) == {"poll:p1", "q:q1"}
    # One call, several votes: each numbered, the one behind a closed gate left out.
    votes = await store.append_free(SESSION, epoch, [
        (body("vote"), "poll:p1"), (body("lost"), "poll:p2"), (body("upvote"), "q:q1")])
    assert [v.seq if v else None for v in votes] == [2, None, 3]
    assert ns([v for v in votes if v]) == ["vote", "upvote"]
    assert all(json.loads(v.data)["v"] == 1 for v in votes if v)
    # A guarded append decided at version 1 still goes in after free ones.
    await store.append(SESSION, epoch, 1, [body("close")], [("poll:p1", False)])
    assert await store.append_free(SESSION, epoch, [(body("late"), "poll:p1")]) == [None]
    await store.append_free(SESSION, epoch, [(body("again"), "q:q1")])
    assert await store.gates(SESSION) == {"q:q1"}
    assert ns((await store.load(SESSION)).records) == ["open", "vote", "upvote", "close", "again"]


async def test_free_and_guarded_appenders_race_to_a_gapless_log(store: Store) -> None:
    """Votes from many processes never conflict; a poll's close cuts them off exactly."""
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, [body("open")], [("poll:p1", True)])
    accepted: list[int] = []
    refused = 0

    async def voter(n: int) -> None:
        nonlocal refused
        await asyncio.sleep(0)
        [record] = await store.append_free(SESSION, epoch, [(body(n), "poll:p1")])
        if record is None:
            refused += 1
        else:
            accepted.append(record.seq)

    async def closer() -> int:
        await asyncio.sleep(0)
        records = await store.append(SESSION, epoch, 1, [body("close")], [("poll:p1", False)])
        return records[0].seq

    *_, close_seq = await asyncio.gather(*(voter(n) for n in range(60)), closer())
    records = (await store.load(SESSION)).records
    assert [r.seq for r in records] == list(range(1, 62 + 1 - refused))
    assert all(seq < close_seq for seq in accepted)
    assert len(accepted) + refused == 60


async def test_read_since_at_head_beyond_head_and_in_another_epoch(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    assert await store.read_since(SESSION, epoch, 0) == []
    await store.append(SESSION, epoch, 0, ["a", "b"])
    assert await store.read_since(SESSION, epoch, 2) == []
    assert await store.read_since(SESSION, epoch, 3) is None
    assert await store.read_since(SESSION, epoch, 1000) is None
    assert await store.read_since(SESSION, "another-epoch", 0) is None
    assert await store.read_since(SESSION, "another-epoch", 2) is None
    assert await store.read_since("pleniere-aict", epoch, 0) is None  # never loaded: no epoch


async def test_trimmed_history_cannot_be_read_but_its_tail_can(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    seq, version, batch = 0, 0, HISTORY // 3 + 4  # 337: leaves the stream somewhat over HISTORY
    while seq < 3 * HISTORY:  # a few big batches: Redis trims approximately (MAXLEN ~)
        records = await store.append(SESSION, epoch, version, [body(f"r{seq + i + 1}")
                                                                for i in range(batch)])
        seq, version = records[-1].seq, version + 1
    head = seq
    assert await store.head(SESSION) == (epoch, head)
    assert await store.read_since(SESSION, epoch, 1) is None
    assert await store.read_since(SESSION, epoch, 0) is None
    assert ns(await store.read_since(SESSION, epoch, head - 10)) == [
        f"r{n}" for n in range(head - 9, head + 1)]
    # The last HISTORY records are always kept; anything older is either gone or complete:
    # read_since never returns a partial list.
    assert seqs(await store.read_since(SESSION, epoch, head - HISTORY)) == list(
        range(head - HISTORY + 1, head + 1))
    for since in range(head - HISTORY - 200, head - HISTORY, 3):
        records = await store.read_since(SESSION, epoch, since)
        assert records is None or seqs(records) == list(range(since + 1, head + 1)), since
    # With a recent snapshot, loading still works after trimming.
    await store.save_snapshot(SESSION, epoch, head - 5, version, '{"snap":true}')
    loaded = await store.load(SESSION)
    assert loaded.snapshot == '{"snap":true}' and loaded.snapshot_seq == head - 5
    assert loaded.snapshot_version == version
    assert seqs(loaded.records) == list(range(head - 4, head + 1)) and loaded.seq == head


async def test_snapshot_is_loaded_with_only_the_records_after_it(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, [body(f"r{n}") for n in range(1, 6)])
    await store.save_snapshot(SESSION, epoch, 3, 1, "S3")
    loaded = await store.load(SESSION)
    assert (loaded.snapshot, loaded.snapshot_seq, loaded.snapshot_version) == ("S3", 3, 1)
    assert ns(loaded.records) == ["r4", "r5"] and seqs(loaded.records) == [4, 5]
    assert loaded.seq == 5
    assert seqs(await store.read_since(SESSION, epoch, 1)) == [2, 3, 4, 5]  # still in the log

    await store.save_snapshot(SESSION, epoch, 2, 1, "S2")  # older: ignored
    await store.save_snapshot(SESSION, epoch, 3, 1, "S3-again")  # not newer: ignored
    await store.save_snapshot(SESSION, "another-epoch", 5, 1, "foreign")  # not this epoch: ignored
    loaded = await store.load(SESSION)
    assert (loaded.snapshot, loaded.snapshot_seq) == ("S3", 3)

    await store.save_snapshot(SESSION, epoch, 5, 1, "S5")
    loaded = await store.load(SESSION)
    assert (loaded.snapshot, loaded.snapshot_seq, loaded.records) == ("S5", 5, [])
    assert loaded.seq == 5


async def test_presence_sums_live_nodes_and_ignores_expired_ones(store: Store) -> None:
    assert await store.presence(SESSION) == 0
    await store.set_presence(SESSION, "node-a", 3, 10.0)
    await store.set_presence(SESSION, "node-b", 4, 10.0)
    assert await store.presence(SESSION) == 7
    await store.set_presence(SESSION, "node-a", 1, 10.0)  # a node's new count replaces its old one
    assert await store.presence(SESSION) == 5
    await store.set_presence(SESSION, "node-c", 100, 0.2)
    assert await store.presence(SESSION) == 105

    async def node_c_expired() -> bool:
        return await store.presence(SESSION) == 5

    await wait_for(node_c_expired, 3, "node-c's count expired, the others' kept")
    assert await store.presence("pleniere-aict") == 0  # per session


async def test_a_short_lived_node_does_not_expire_the_others(store: Store) -> None:
    await store.set_presence(SESSION, "node-a", 3, 10.0)
    await store.set_presence(SESSION, "node-b", 4, 10.0)
    await store.set_presence(SESSION, "node-c", 100, 0.1)  # Redis once let this expire the key
    # The time is the subject: past when Redis would have expired the whole key (after
    # int(0.1 * 4) + 1 = 1 s), taking every node's count along, the others' are still there.
    await asyncio.sleep(1.2)
    assert await store.presence(SESSION) == 7


async def test_concurrent_guarded_appenders_end_with_a_gapless_log(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    writers, each = 20, 5
    conflicts = 0
    versions = {0}

    async def appender(w: int) -> None:
        nonlocal conflicts
        for k in range(each):
            while True:
                version = max(versions)
                await asyncio.sleep(0)  # let the others move the version meanwhile
                try:
                    records = await store.append(SESSION, epoch, version, [body(f"w{w}-{k}")])
                    versions.add(json.loads(records[0].data)["v"])
                    break
                except Conflict:
                    conflicts += 1

    await asyncio.gather(*(appender(w) for w in range(writers)))
    records = (await store.load(SESSION)).records
    assert seqs(records) == list(range(1, writers * each + 1))
    data = [str(n) for n in ns(records)]
    assert sorted(data) == sorted(f"w{w}-{k}" for w in range(writers) for k in range(each))
    for w in range(writers):  # each writer's records in its own order
        mine = [d for d in data if d.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{k}" for k in range(each)]
    assert [json.loads(r.data)["v"] for r in records] == list(range(1, writers * each + 1))
    assert conflicts > 0  # the race did happen
    assert await store.head(SESSION) == (epoch, writers * each)


# -- Redis only -------------------------------------------------------------------------------


@pytest.fixture
async def redis_store(key_prefix: str) -> AsyncIterator[RedisStore]:
    the_store = RedisStore(REDIS_URL, prefix=key_prefix)
    yield the_store
    await the_store.close()


def delete_keys(*keys: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(*keys)
    finally:
        client.close()


@pytest.mark.parametrize("lost", ["epoch", "everything"])
async def test_redis_lost_history_starts_a_new_epoch(redis_store: RedisStore, key_prefix: str,
                                                      lost: str) -> None:
    old = (await redis_store.load(SESSION)).epoch
    await redis_store.append(SESSION, old, 0, [body("a"), body("b"), body("c")],
                             [("poll:p1", True)])
    await redis_store.save_snapshot(SESSION, old, 2, 1, "S2")
    base = f"{key_prefix}:{{{SESSION}}}"
    names = (["epoch"] if lost == "epoch"
             else ["epoch", "seq", "version", "gates", "log", "snap", "presence"])
    await asyncio.to_thread(delete_keys, *(f"{base}:{name}" for name in names))

    with pytest.raises(EpochChanged):  # before anyone reloads
        await redis_store.append(SESSION, old, 1, [body("d")])
    loaded = await redis_store.load(SESSION)
    assert loaded.epoch != old
    assert (loaded.snapshot, loaded.snapshot_seq, loaded.records) == (None, 0, [])
    assert await redis_store.gates(SESSION) == set()  # the old epoch's gates went with it
    with pytest.raises(EpochChanged):
        await redis_store.append(SESSION, old, 1, [body("d")])
    with pytest.raises(EpochChanged):
        await redis_store.append(SESSION, old, 0, [body("d")])
    with pytest.raises(EpochChanged):
        await redis_store.append_free(SESSION, old, [(body("d"), "poll:p1")])
    assert await redis_store.read_since(SESSION, old, 0) is None
    assert await redis_store.read_since(SESSION, old, 3) is None
    new = await redis_store.append(SESSION, loaded.epoch, 0, [body("new")])
    assert await redis_store.read_since(SESSION, loaded.epoch, 0) == new
    assert ns(new) == ["new"] and new[0].seq == 1


async def test_redis_processes_share_one_log(key_prefix: str) -> None:
    a, b = RedisStore(REDIS_URL, prefix=key_prefix), RedisStore(REDIS_URL, prefix=key_prefix)
    other = RedisStore(REDIS_URL, prefix=key_prefix + "-other")
    try:
        epoch = (await a.load(SESSION)).epoch
        assert (await b.load(SESSION)).epoch == epoch
        await a.append(SESSION, epoch, 0, [body("from a")])
        with pytest.raises(Conflict):
            await b.append(SESSION, epoch, 0, [body("from b")])
        await b.append(SESSION, epoch, 1, [body("from b")])
        assert ns(await a.read_since(SESSION, epoch, 0)) == ["from a", "from b"]
        assert await other.head(SESSION) == (None, 0)  # prefixes do not mix
    finally:
        for s in (a, b, other):
            await s.close()
        delete_prefix(key_prefix + "-other")


async def test_redis_presence_drops_stale_and_malformed_entries(redis_store: RedisStore,
                                                               key_prefix: str) -> None:
    await redis_store.set_presence(SESSION, "node-a", 2, 10.0)
    await redis_store.set_presence(SESSION, "node-gone", 5, 0.05)
    key = f"{key_prefix}:{{{SESSION}}}:presence"
    admin = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await asyncio.to_thread(admin.hset, key, "node-garbled", "not a count")

        async def only_node_a() -> bool:
            return await redis_store.presence(SESSION) == 2

        await wait_for(only_node_a, 3, "node-gone's entry expired, the garbled one ignored")
        assert await asyncio.to_thread(admin.hkeys, key) == ["node-a"]
        assert 30_000 < await asyncio.to_thread(admin.pttl, key) <= 41_000  # 4 x ttl + 1 s
    finally:
        admin.close()


async def test_rate_limits_are_taken_with_the_append_all_or_none(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    version = 0

    async def ask(*limits: tuple[str, float, float]) -> bool:
        nonlocal version
        try:
            await store.append(SESSION, epoch, version, [body("q")], limits=list(limits))
        except RateLimited:
            return False
        version += 1
        return True

    slow = ("p:anna", 3, 0.001)  # 3 at once, then hardly any
    roomy = ("ip:venue", 100, 0.001)
    assert [await ask(slow, roomy) for _ in range(4)] == [True] * 3 + [False]
    # The refused append left the roomy bucket alone: 97 left, not 96.
    assert [await ask(roomy) for _ in range(98)].count(True) == 97
    assert await ask(("p:bruno", 3, 0.001))  # each key its own bucket
    with pytest.raises(Conflict):  # an append refused for its version takes no token
        await store.append(SESSION, epoch, version + 1, [body("x")], limits=[("p:dora", 1, 1e-3)])
    assert await ask(("p:dora", 1, 0.001))
    fast = ("p:chloe", 1, 20.0)
    assert await ask(fast) and not await ask(fast)
    await asyncio.sleep(0.1)  # the time is the subject: at 20 a second, refilled by then
    assert await ask(fast)
    assert (await store.head(SESSION))[1] == version  # only the accepted ones were appended


async def test_link_generations_start_at_zero_and_only_go_up(store: Store) -> None:
    assert await store.generations() == {}
    assert await store.bump_generation(f"moderator:{SESSION}") == 1
    assert await store.bump_generation(f"moderator:{SESSION}") == 2
    assert await store.bump_generation("participant:*") == 1
    assert await store.generations() == {f"moderator:{SESSION}": 2, "participant:*": 1}


async def test_redis_link_generations_are_shared_by_processes(key_prefix: str) -> None:
    a, b = RedisStore(REDIS_URL, prefix=key_prefix), RedisStore(REDIS_URL, prefix=key_prefix)
    other = RedisStore(REDIS_URL, prefix=key_prefix + "-other")
    try:
        assert await a.bump_generation(f"stage:{SESSION}") == 1
        assert await b.bump_generation(f"stage:{SESSION}") == 2  # one counter, not one each
        assert await a.generations() == {f"stage:{SESSION}": 2}
        assert await other.generations() == {}  # prefixes do not mix
    finally:
        for s in (a, b, other):
            await s.close()
        delete_prefix(key_prefix + "-other")
