"""One contract for both stores: the embedded one and Redis (real server, one key prefix per test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from live.store import Conflict, EpochChanged, Record, Store
from live.store.base import HISTORY
from live.store.memory import MemoryStore
from live.store.redis import RedisStore
from tests.conftest import REDIS_URL, delete_prefix, redis_prefix

SESSION = "pleniere-geopolitique"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    prefix = redis_prefix()
    the_store = RedisStore(REDIS_URL, prefix=prefix)
    try:
        yield the_store
    finally:
        await the_store.close()
        delete_prefix(prefix)


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


async def test_append_numbers_records_and_returns_them_in_order(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    assert await store.append(SESSION, epoch, 0, ['{"n":1}', '{"n":2}']) == 2
    assert await store.append(SESSION, epoch, 2, ['{"n":3}']) == 3
    assert await store.append(SESSION, epoch, 3, ["é ✓ \"quoted\"\n"]) == 4
    expected = [Record(1, '{"n":1}'), Record(2, '{"n":2}'), Record(3, '{"n":3}'),
                Record(4, "é ✓ \"quoted\"\n")]
    loaded = await store.load(SESSION)
    assert loaded.epoch == epoch and loaded.records == expected and loaded.seq == 4
    assert await store.read_since(SESSION, epoch, 0) == expected
    assert await store.read_since(SESSION, epoch, 2) == expected[2:]
    assert await store.head(SESSION) == (epoch, 4)


async def test_stale_expected_seq_conflicts_and_appends_nothing(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, ["a", "b", "c"])
    for stale in (0, 2, 4):  # behind, just behind, ahead
        with pytest.raises(Conflict):
            await store.append(SESSION, epoch, stale, ["x", "y"])
    assert await store.head(SESSION) == (epoch, 3)
    assert texts((await store.load(SESSION)).records) == ["a", "b", "c"]
    assert await store.append(SESSION, epoch, 3, ["d"]) == 4


async def test_wrong_epoch_is_refused_and_appends_nothing(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, ["a"])
    with pytest.raises(EpochChanged):
        await store.append(SESSION, "not-" + epoch, 1, ["x"])
    with pytest.raises(EpochChanged):  # the epoch is checked before the sequence number
        await store.append(SESSION, "not-" + epoch, 0, ["x"])
    assert await store.head(SESSION) == (epoch, 1)
    assert texts((await store.load(SESSION)).records) == ["a"]


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
    seq, batch = 0, HISTORY // 3 + 4  # 337: leaves the stream somewhat over HISTORY
    while seq < 3 * HISTORY:  # a few big batches: Redis trims approximately (MAXLEN ~)
        seq = await store.append(SESSION, epoch, seq, [f"r{seq + i + 1}" for i in range(batch)])
    head = seq
    assert await store.head(SESSION) == (epoch, head)
    assert await store.read_since(SESSION, epoch, 1) is None
    assert await store.read_since(SESSION, epoch, 0) is None
    assert texts(await store.read_since(SESSION, epoch, head - 10)) == [
        f"r{n}" for n in range(head - 9, head + 1)]
    # The last HISTORY records are always kept; anything older is either gone or complete:
    # read_since never returns a partial list.
    assert seqs(await store.read_since(SESSION, epoch, head - HISTORY)) == list(
        range(head - HISTORY + 1, head + 1))
    for since in range(head - HISTORY - 200, head - HISTORY, 3):
        records = await store.read_since(SESSION, epoch, since)
        assert records is None or seqs(records) == list(range(since + 1, head + 1)), since
    # With a recent snapshot, loading still works after trimming.
    await store.save_snapshot(SESSION, epoch, head - 5, '{"snap":true}')
    loaded = await store.load(SESSION)
    assert loaded.snapshot == '{"snap":true}' and loaded.snapshot_seq == head - 5
    assert seqs(loaded.records) == list(range(head - 4, head + 1)) and loaded.seq == head


async def test_snapshot_is_loaded_with_only_the_records_after_it(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    await store.append(SESSION, epoch, 0, [f"r{n}" for n in range(1, 6)])
    await store.save_snapshot(SESSION, epoch, 3, "S3")
    loaded = await store.load(SESSION)
    assert (loaded.snapshot, loaded.snapshot_seq) == ("S3", 3)
    assert texts(loaded.records) == ["r4", "r5"] and seqs(loaded.records) == [4, 5]
    assert loaded.seq == 5
    assert seqs(await store.read_since(SESSION, epoch, 1)) == [2, 3, 4, 5]  # still in the log

    await store.save_snapshot(SESSION, epoch, 2, "S2")  # older: ignored
    await store.save_snapshot(SESSION, epoch, 3, "S3-again")  # not newer: ignored
    await store.save_snapshot(SESSION, "another-epoch", 5, "foreign")  # not this epoch: ignored
    loaded = await store.load(SESSION)
    assert (loaded.snapshot, loaded.snapshot_seq) == ("S3", 3)

    await store.save_snapshot(SESSION, epoch, 5, "S5")
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
    await asyncio.sleep(0.3)
    assert await store.presence(SESSION) == 5
    assert await store.presence("pleniere-aict") == 0  # per session


async def test_a_short_lived_node_does_not_expire_the_others(store: Store) -> None:
    await store.set_presence(SESSION, "node-a", 3, 10.0)
    await store.set_presence(SESSION, "node-b", 4, 10.0)
    await store.set_presence(SESSION, "node-c", 100, 0.1)  # Redis once let this expire the key
    await asyncio.sleep(1.2)  # (after int(0.1 * 4) + 1 = 1 s), taking every node's count along
    assert await store.presence(SESSION) == 7


async def test_secret_first_proposal_wins(store: Store) -> None:
    first = await store.secret("first-proposal-0123456789")
    assert first == "first-proposal-0123456789"
    assert await store.secret("second-proposal-0123456789") == first


async def test_a_configured_secret_replaces_the_stored_one(store: Store) -> None:
    await store.secret("generated-0123456789")
    assert await store.secret("rotated-by-operator-0123", replace=True) == "rotated-by-operator-0123"
    assert await store.secret("generated-by-another-process") == "rotated-by-operator-0123"


async def test_concurrent_appenders_end_with_a_gapless_log(store: Store) -> None:
    epoch = (await store.load(SESSION)).epoch
    writers, each = 20, 5
    conflicts = 0

    async def appender(w: int) -> None:
        nonlocal conflicts
        for k in range(each):
            while True:
                _, seq = await store.head(SESSION)
                await asyncio.sleep(0)  # let the others move the head meanwhile
                try:
                    await store.append(SESSION, epoch, seq, [f"w{w}-{k}"])
                    break
                except Conflict:
                    conflicts += 1

    await asyncio.gather(*(appender(w) for w in range(writers)))
    records = (await store.load(SESSION)).records
    assert seqs(records) == list(range(1, writers * each + 1))
    data = texts(records)
    assert sorted(data) == sorted(f"w{w}-{k}" for w in range(writers) for k in range(each))
    for w in range(writers):  # each writer's records in its own order
        mine = [d for d in data if d.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{k}" for k in range(each)]
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
    await redis_store.append(SESSION, old, 0, ["a", "b", "c"])
    await redis_store.save_snapshot(SESSION, old, 2, "S2")
    base = f"{key_prefix}:{{{SESSION}}}"
    names = ["epoch"] if lost == "epoch" else ["epoch", "seq", "log", "snap", "presence"]
    await asyncio.to_thread(delete_keys, *(f"{base}:{name}" for name in names))

    with pytest.raises(EpochChanged):  # before anyone reloads
        await redis_store.append(SESSION, old, 3, ["d"])
    loaded = await redis_store.load(SESSION)
    assert loaded.epoch != old
    assert (loaded.snapshot, loaded.snapshot_seq, loaded.records) == (None, 0, [])
    with pytest.raises(EpochChanged):
        await redis_store.append(SESSION, old, 3, ["d"])
    with pytest.raises(EpochChanged):
        await redis_store.append(SESSION, old, 0, ["d"])
    assert await redis_store.read_since(SESSION, old, 0) is None
    assert await redis_store.read_since(SESSION, old, 3) is None
    assert await redis_store.append(SESSION, loaded.epoch, 0, ["new"]) == 1
    assert await redis_store.read_since(SESSION, loaded.epoch, 0) == [Record(1, "new")]


async def test_redis_processes_share_one_log_and_secret(key_prefix: str) -> None:
    a, b = RedisStore(REDIS_URL, prefix=key_prefix), RedisStore(REDIS_URL, prefix=key_prefix)
    other = RedisStore(REDIS_URL, prefix=key_prefix + "-other")
    try:
        epoch = (await a.load(SESSION)).epoch
        assert (await b.load(SESSION)).epoch == epoch
        await a.append(SESSION, epoch, 0, ["from a"])
        with pytest.raises(Conflict):
            await b.append(SESSION, epoch, 0, ["from b"])
        await b.append(SESSION, epoch, 1, ["from b"])
        assert texts(await a.read_since(SESSION, epoch, 0)) == ["from a", "from b"]
        assert await a.secret(f"secret-a-{uuid.uuid4().hex}") == await b.secret("secret-b-xxxxxxxx")
        assert await other.head(SESSION) == (None, 0)  # prefixes do not mix
        assert await other.secret("secret-other-xxxxx") == "secret-other-xxxxx"
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
        await asyncio.sleep(0.1)
        assert await redis_store.presence(SESSION) == 2
        assert await asyncio.to_thread(admin.hkeys, key) == ["node-a"]
        assert 30_000 < await asyncio.to_thread(admin.pttl, key) <= 41_000  # 4 x ttl + 1 s
    finally:
        admin.close()
