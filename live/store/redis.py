"""The Redis store: one stream per session for the log, plus a few keys, all under one hash tag.

Keys for session S (prefix P): `P:{S}:epoch`, `P:{S}:seq`, `P:{S}:version` (guarded appends so
far), `P:{S}:log` (stream, entry ids `seq-0`), `P:{S}:gates` (hash of open gates),
`P:{S}:snap` (hash: epoch, seq, version, data), `P:{S}:presence` (hash: node -> "count:expires"),
`P:{S}:counted` (hash: "gate|voter" -> the address the voter's vote is counted against) and
`P:{S}:per-address` (hash: "gate|address" -> voters counted), for the per-address vote budgets.
Per address A (event-wide): `P:{ip:A}:ids` (its bucket of new identities), `P:{ip:A}:held` (a
ban holds it); per participant U: `P:who:U` (the address U last connected from, expiring).
Attendance samples have keys of their own (live/store/redis_attendance.py).
Records are numbered inside the scripts, so concurrent appenders never race on a number. The `{S}`
hash tag keeps a session's keys in one Redis Cluster slot, so the Lua scripts stay legal there.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import redis.asyncio as aioredis

from live.store.base import (
    HISTORY,
    OVER_LIMIT,
    Admission,
    AttendanceMinute,
    Conflict,
    EpochChanged,
    Loaded,
    Quota,
    RateLimited,
    Record,
    Refusal,
    stamp,
)
from live.store.programme_doc import ProgrammeDocs, RedisProgrammeDocs
from live.store.redis_attendance import RedisAttendance

# Start a session's history under a new epoch unless it has one; clears leftovers of an old one.
_INIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  redis.call('SET', KEYS[1], ARGV[1])
end
return redis.call('GET', KEYS[1])
"""

# Shared by both appends: one record, stamped as `stamp` does, in a log trimmed to ARGV[3].
_PUT = """
local function put(seq, version, body)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'e',
             '{"seq":' .. seq .. ',"v":' .. version .. ',' .. string.sub(body, 2))
end
"""

# Number the records of the bodies ARGV[first…] from the log's head.
_ADD = _PUT + """
local function add(first, version)
  local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
  local from = seq + 1
  for i = first, #ARGV do
    seq = seq + 1
    put(seq, version, ARGV[i])
  end
  redis.call('SET', KEYS[2], seq)
  return {from, version}
end
"""

# Token buckets (hash: tokens, at) KEYS[key0…], with (burst, rate) pairs from ARGV[arg0]: take
# one from each, all or none, on Redis's clock so every process agrees. A key expires once its
# bucket would be full again: a full bucket is the same as none.
_TOKENS = """
local function take(key0, arg0, n)
  if n == 0 then return true end
  local time = redis.call('TIME')
  local now = tonumber(time[1]) + tonumber(time[2]) / 1e6
  local levels = {}
  for i = 0, n - 1 do
    local burst, rate = tonumber(ARGV[arg0 + 2 * i]), tonumber(ARGV[arg0 + 2 * i + 1])
    local state = redis.call('HMGET', KEYS[key0 + i], 'tokens', 'at')
    local tokens = tonumber(state[1]) or burst
    local at = tonumber(state[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
    if tokens < 1 then return false end
    levels[i] = tokens - 1
  end
  for i = 0, n - 1 do
    local burst, rate = tonumber(ARGV[arg0 + 2 * i]), tonumber(ARGV[arg0 + 2 * i + 1])
    redis.call('HSET', KEYS[key0 + i], 'tokens', tostring(levels[i]), 'at', tostring(now))
    redis.call('PEXPIRE', KEYS[key0 + i], math.ceil((burst - levels[i]) / rate * 1000) + 1000)
  end
  return true
end
"""

# A guarded append: the epoch and version checks, the rate limits, the gate changes and the
# records in one atomic step. ARGV: epoch, version, history, gate count, limit count, gate pairs,
# limit pairs (their keys from KEYS[6]), bodies. {-2} wrong epoch, {-1} another guarded append
# came first, {-4} a limit is spent; else {first seq, new version}.
_APPEND = _ADD + _TOKENS + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-2} end
local version = tonumber(redis.call('GET', KEYS[4]) or '0')
if version ~= tonumber(ARGV[2]) then return {-1} end
local gates, limits = tonumber(ARGV[4]), tonumber(ARGV[5])
local limit_args = 6 + 2 * gates
if not take(6, limit_args, limits) then return {-4} end
version = version + 1
redis.call('SET', KEYS[4], version)
for i = 6, limit_args - 1, 2 do
  if ARGV[i + 1] == '1' then redis.call('HSET', KEYS[5], ARGV[i], '1')
  else redis.call('HDEL', KEYS[5], ARGV[i]) end
end
return add(limit_args + 2 * limits, version)
"""

# Free appends, ARGV from 4 in sixes: gate, body, and the item's quota (live.store.base.Quota):
# kind ('' none, 'c' count the voter, 'u' uncount), voter, address, limit. A voter is counted
# once per gate (KEYS[6]: "gate|voter" -> address) and an address's count (KEYS[7]) is kept
# beside it: a few hash operations per vote, no extra round trip. {-2} wrong epoch; else the
# version, then each item's seq, -3 where its gate is closed, -5 where its quota is spent.
_APPEND_FREE = _PUT + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-2} end
local version = tonumber(redis.call('GET', KEYS[4]) or '0')
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local out = {version}
for i = 4, #ARGV, 6 do
  local gate, kind = ARGV[i], ARGV[i + 2]
  local result = -3
  if redis.call('HEXISTS', KEYS[5], gate) == 1 then
    result = 0
    if kind ~= '' then
      local voter = gate .. '|' .. ARGV[i + 3]
      local counted = redis.call('HGET', KEYS[6], voter)
      if kind == 'u' then
        if counted then
          redis.call('HDEL', KEYS[6], voter)
          redis.call('HINCRBY', KEYS[7], gate .. '|' .. counted, -1)
        end
      elseif not counted then
        local slot = gate .. '|' .. ARGV[i + 4]
        if tonumber(redis.call('HGET', KEYS[7], slot) or '0') >= tonumber(ARGV[i + 5]) then
          result = -5
        else
          redis.call('HSET', KEYS[6], voter, ARGV[i + 4])
          redis.call('HINCRBY', KEYS[7], slot, 1)
        end
      end
    end
    if result == 0 then
      seq = seq + 1
      put(seq, version, ARGV[i + 1])
      result = seq
    end
  end
  out[#out + 1] = result
end
redis.call('SET', KEYS[2], seq)
return out
"""

# A new identity for an address: KEYS[1] its hold, KEYS[2] its bucket, ARGV burst and rate.
_ADMIT = _TOKENS + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'held' end
if take(2, 1, 1) then return 'ok' end
return 'limited'
"""

# Keep a snapshot only if it belongs to the current epoch and is newer than the one stored.
_SNAPSHOT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if redis.call('HGET', KEYS[2], 'epoch') == ARGV[1] and current >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'seq', ARGV[2], 'version', ARGV[3], 'data', ARGV[4])
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


POOL_SIZE = 32  # connections per process; Redis runs one command at a time anyway


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "tribune") -> None:
        # A bounded pool whose callers wait for a connection: a vote burst makes thousands of
        # concurrent calls, and redis-py's default pool refuses them past 100 connections.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=10, decode_responses=True,
            health_check_interval=10, socket_connect_timeout=5, socket_timeout=10,
            retry_on_timeout=True)
        self._redis: aioredis.Redis = aioredis.Redis.from_pool(pool)  # closes the pool with it
        self._prefix = prefix
        self._init = self._redis.register_script(_INIT)
        self._append = self._redis.register_script(_APPEND)
        self._append_free = self._redis.register_script(_APPEND_FREE)
        self._snapshot = self._redis.register_script(_SNAPSHOT)
        self._set_presence = self._redis.register_script(_SET_PRESENCE)
        self._presence = self._redis.register_script(_PRESENCE)
        self._admit = self._redis.register_script(_ADMIT)
        self._attendance = RedisAttendance(self._redis, prefix)
        self.programme_docs: ProgrammeDocs = RedisProgrammeDocs(self._redis, prefix)

    def _keys(self, session_id: str) -> dict[str, str]:
        base = f"{self._prefix}:{{{session_id}}}"
        return {name: f"{base}:{name}" for name in
                ("epoch", "seq", "log", "snap", "version", "gates", "presence", "counted",
                 "per-address")}

    async def load(self, session_id: str) -> Loaded:
        k = self._keys(session_id)
        epoch = await self._init(
            keys=[k["epoch"], k["seq"], k["log"], k["snap"], k["version"], k["gates"],
                  k["counted"], k["per-address"]],
            args=[secrets.token_hex(8)])
        snap: Any = await self._redis.hgetall(k["snap"])
        snapshot, snapshot_seq, snapshot_version = None, 0, 0
        if snap.get("epoch") == epoch:
            snapshot, snapshot_seq = snap["data"], int(snap["seq"])
            snapshot_version = int(snap.get("version", 0))
        records = _records(await self._redis.xrange(k["log"], min=f"{snapshot_seq + 1}-0"))
        if records and records[0].seq != snapshot_seq + 1:
            raise RuntimeError(f"session {session_id}: log trimmed past its last snapshot")
        return Loaded(epoch, snapshot, snapshot_seq, snapshot_version, records)

    def _append_keys(self, session_id: str) -> list[str]:
        k = self._keys(session_id)
        return [k["epoch"], k["seq"], k["log"], k["version"], k["gates"]]

    async def append(self, session_id: str, epoch: str, version: int, bodies: list[str],
                     gates: list[tuple[str, bool]] | None = None,
                     limits: list[tuple[str, float, float]] | None = None) -> list[Record]:
        changes = [item for gate, is_open in gates or () for item in (gate, "1" if is_open else "0")]
        limits = limits or []
        # Under the session's hash tag, like every key the script touches (Redis Cluster).
        limit_keys = [f"{self._prefix}:{{{session_id}}}:rate:{key}" for key, _, _ in limits]
        rates = [value for _, burst, rate in limits for value in (burst, rate)]
        result = await self._append(
            keys=[*self._append_keys(session_id), *limit_keys],
            args=[epoch, version, HISTORY, len(changes) // 2, len(limits), *changes, *rates,
                  *bodies])
        first = int(result[0])
        if first == -2:
            raise EpochChanged(session_id)
        if first == -1:
            raise Conflict(session_id)
        if first == -4:
            raise RateLimited(session_id)
        return [Record(first + i, stamp(first + i, int(result[1]), body))
                for i, body in enumerate(bodies)]

    async def append_free(self, session_id: str, epoch: str, items: list[tuple[str, str]],
                          quotas: list[Quota | None] | None = None
                          ) -> list[Record | Refusal | None]:
        args: list[str | int] = [epoch, "", HISTORY]
        for i, (body, gate) in enumerate(items):
            quota = quotas[i] if quotas else None
            if quota is None:
                args += [gate, body, "", "", "", 0]
            else:
                args += [gate, body, "c" if quota.limit else "u", quota.voter, quota.address,
                         quota.limit]
        k = self._keys(session_id)
        result = await self._append_free(
            keys=[*self._append_keys(session_id), k["counted"], k["per-address"]], args=args)
        if int(result[0]) == -2:
            raise EpochChanged(session_id)
        version = int(result[0])
        out: list[Record | Refusal | None] = []
        for seq, (body, _) in zip(result[1:], items, strict=True):
            n = int(seq)
            out.append(Record(n, stamp(n, version, body)) if n > 0
                       else OVER_LIMIT if n == -5 else None)
        return out

    async def gates(self, session_id: str) -> set[str]:
        return {str(gate) for gate in await self._redis.hkeys(self._keys(session_id)["gates"])}

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

    async def save_snapshot(self, session_id: str, epoch: str, seq: int, version: int,
                            data: str) -> None:
        k = self._keys(session_id)
        await self._snapshot(keys=[k["epoch"], k["snap"]], args=[epoch, seq, version, data])

    async def set_presence(self, session_id: str, node: str, count: int, ttl: float) -> None:
        key = self._keys(session_id)["presence"]
        await self._set_presence(keys=[key], args=[
            node, f"{count}:{time.time() + ttl:.3f}", int(ttl * 4000) + 1000])

    async def presence(self, session_id: str) -> int:
        key = self._keys(session_id)["presence"]
        return int(await self._presence(keys=[key], args=[f"{time.time():.3f}"]))

    async def record_attendance(self, session_id: str, node: str, minute: int,
                                counts: dict[str, int]) -> None:
        await self._attendance.record(session_id, node, minute, counts)

    async def attendance(self, session_id: str) -> list[AttendanceMinute]:
        return await self._attendance.read(session_id)

    def _address_keys(self, address: str) -> list[str]:
        base = f"{self._prefix}:{{ip:{address}}}"  # one slot per address (Redis Cluster)
        return [f"{base}:held", f"{base}:ids"]

    async def admit_identity(self, address: str, burst: float, per_second: float) -> Admission:
        result = str(await self._admit(keys=self._address_keys(address), args=[burst, per_second]))
        assert result in ("ok", "held", "limited"), result
        return "ok" if result == "ok" else "held" if result == "held" else "limited"

    async def note_address(self, participant_id: str, address: str, ttl: float) -> None:
        await self._redis.set(f"{self._prefix}:who:{participant_id}", address,
                              px=max(1, int(ttl * 1000)))

    async def hold_address_of(self, participant_id: str, seconds: float) -> bool:
        address = await self._redis.get(f"{self._prefix}:who:{participant_id}")
        if address is None:
            return False
        held = self._address_keys(str(address))[0]
        # Never shortened: a second ban through the same address keeps the longer hold.
        ms = max(1, int(seconds * 1000))
        if int(await self._redis.pttl(held)) < ms:
            await self._redis.set(held, "1", px=ms)
        return True

    # Link generations: one hash for the whole event, `P:generations` ("role:scope" -> count),
    # read by every process every second (live/web/revocation.py): it stays a few entries small.
    async def generations(self) -> dict[str, int]:
        entries: Any = await self._redis.hgetall(f"{self._prefix}:generations")
        return {str(key): int(value) for key, value in entries.items()}

    async def bump_generation(self, key: str) -> int:
        return int(await self._redis.hincrby(f"{self._prefix}:generations", key, 1))

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
