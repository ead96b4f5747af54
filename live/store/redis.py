"""The Redis store: one stream per session for the log, plus a few keys, all under one hash tag.

Keys for session S (prefix P): `P:{S}:epoch`, `P:{S}:seq`, `P:{S}:log` (stream, entry ids `seq-0`),
`P:{S}:snap` (hash: epoch, seq, data), `P:{S}:presence` (hash: node -> "count:expires"). The `{S}`
hash tag keeps a session's keys in one Redis Cluster slot, so the Lua scripts stay legal there.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import redis.asyncio as aioredis

from live.store.base import HISTORY, Conflict, EpochChanged, Loaded, Record

# Start a session's history under a new epoch unless it has one; clears leftovers of an old one.
_INIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('SET', KEYS[1], ARGV[1])
end
return redis.call('GET', KEYS[1])
"""

# The guard, the append and the counter in one atomic step: -2 wrong epoch, -1 wrong seq.
_APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -2 end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq ~= tonumber(ARGV[2]) then return -1 end
for i = 4, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'e', ARGV[i])
end
redis.call('SET', KEYS[2], seq)
return seq
"""

# Keep a snapshot only if it belongs to the current epoch and is newer than the one stored.
_SNAPSHOT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if redis.call('HGET', KEYS[2], 'epoch') == ARGV[1] and current >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'seq', ARGV[2], 'data', ARGV[3])
return 1
"""

# A node's count and the time it is valid until. The key's own expiry is only ever extended: a node
# reporting with a short ttl must not make the key (every node's entry) expire early.
_SET_PRESENCE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

# Sum the fresh counts and drop the stale entries in one atomic step, so that a node refreshing its
# entry between the read and the delete cannot lose its fresh entry.
_PRESENCE = """
local now, total = tonumber(ARGV[1]), 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local count, expires = string.match(entries[i + 1], '^(%d+):([%d.]+)$')
  if count and tonumber(expires) > now then
    total = total + tonumber(count)
  else
    redis.call('HDEL', KEYS[1], entries[i])
  end
end
return total
"""


def _records(entries: Any) -> list[Record]:
    """Stream entries (`seq-0`, {"e": text}) as records."""
    return [Record(int(str(eid).split("-")[0]), str(fields["e"])) for eid, fields in entries or []]


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "tribune") -> None:
        self._redis: aioredis.Redis = aioredis.from_url(
            url, decode_responses=True, health_check_interval=10, socket_connect_timeout=5,
            socket_timeout=10, retry_on_timeout=True)
        self._prefix = prefix
        self._init = self._redis.register_script(_INIT)
        self._append = self._redis.register_script(_APPEND)
        self._snapshot = self._redis.register_script(_SNAPSHOT)
        self._set_presence = self._redis.register_script(_SET_PRESENCE)
        self._presence = self._redis.register_script(_PRESENCE)

    def _keys(self, session_id: str) -> dict[str, str]:
        base = f"{self._prefix}:{{{session_id}}}"
        return {name: f"{base}:{name}" for name in ("epoch", "seq", "log", "snap", "presence")}

    async def load(self, session_id: str) -> Loaded:
        k = self._keys(session_id)
        epoch = await self._init(
            keys=[k["epoch"], k["seq"], k["log"], k["snap"]], args=[secrets.token_hex(8)])
        snap: Any = await self._redis.hgetall(k["snap"])
        snapshot, snapshot_seq = None, 0
        if snap.get("epoch") == epoch:
            snapshot, snapshot_seq = snap["data"], int(snap["seq"])
        records = _records(await self._redis.xrange(k["log"], min=f"{snapshot_seq + 1}-0"))
        if records and records[0].seq != snapshot_seq + 1:
            raise RuntimeError(f"session {session_id}: log trimmed past its last snapshot")
        return Loaded(epoch, snapshot, snapshot_seq, records)

    async def append(self, session_id: str, epoch: str, expected_seq: int, data: list[str]) -> int:
        k = self._keys(session_id)
        result = int(await self._append(
            keys=[k["epoch"], k["seq"], k["log"]],
            args=[epoch, expected_seq, HISTORY, *data]))
        if result == -2:
            raise EpochChanged(session_id)
        if result == -1:
            raise Conflict(session_id)
        return result

    async def read_since(self, session_id: str, epoch: str, seq: int) -> list[Record] | None:
        k = self._keys(session_id)
        current_epoch, head = await self.head(session_id)
        if current_epoch != epoch or seq > head:
            return None
        if seq == head:
            return []
        # Up to the head just read, with no `count`: MAXLEN ~ may keep somewhat more than HISTORY
        # records, and a count would silently cut the newest ones off.
        records = _records(
            await self._redis.xrange(k["log"], min=f"{seq + 1}-0", max=f"{head}-0"))
        if len(records) != head - seq or records[0].seq != seq + 1:
            return None
        return records

    async def head(self, session_id: str) -> tuple[str | None, int]:
        k = self._keys(session_id)
        epoch, seq = await self._redis.mget([k["epoch"], k["seq"]])
        return (str(epoch) if epoch is not None else None), int(seq or 0)

    async def save_snapshot(self, session_id: str, epoch: str, seq: int, data: str) -> None:
        k = self._keys(session_id)
        await self._snapshot(keys=[k["epoch"], k["snap"]], args=[epoch, seq, data])

    async def set_presence(self, session_id: str, node: str, count: int, ttl: float) -> None:
        key = self._keys(session_id)["presence"]
        await self._set_presence(keys=[key], args=[
            node, f"{count}:{time.time() + ttl:.3f}", int(ttl * 4000) + 1000])

    async def presence(self, session_id: str) -> int:
        key = self._keys(session_id)["presence"]
        return int(await self._presence(keys=[key], args=[f"{time.time():.3f}"]))

    async def secret(self, proposal: str, *, replace: bool = False) -> str:
        key = f"{self._prefix}:secret"
        await self._redis.set(key, proposal, nx=not replace)
        return str(await self._redis.get(key))

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
