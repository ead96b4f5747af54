"""The Redis store's attendance samples (live/store/base.py `record_attendance`), apart from the
log's scripts.

Keys for session S (prefix P), under the session's hash tag like its log: `P:{S}:attendance`, a
sorted set of "minute|node" scored by the minute (the order in which the oldest go), and
`P:{S}:attendance-counts`, a hash from the same "minute|node" to the node's counts as JSON. One
script writes both, trims the oldest past the cap and extends both keys' lifetime, so the two never
disagree for long and a finished event's samples go away on their own.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from live.store.base import ATTENDANCE_SAMPLES, ATTENDANCE_TTL, AttendanceMinute, sum_attendance

# KEYS: the sorted set, the hash. ARGV: minute, member, counts (JSON), cap, lifetime (ms).
_RECORD = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
  redis.call('HDEL', KEYS[2], unpack(oldest))
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
"""


class RedisAttendance:
    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis, self._prefix = redis, prefix
        self._record = redis.register_script(_RECORD)

    def _keys(self, session_id: str) -> list[str]:
        base = f"{self._prefix}:{{{session_id}}}"
        return [f"{base}:attendance", f"{base}:attendance-counts"]

    async def record(self, session_id: str, node: str, minute: int, counts: dict[str, int]) -> None:
        text = json.dumps({str(k): int(v) for k, v in counts.items()}, separators=(",", ":"))
        await self._record(keys=self._keys(session_id), args=[
            minute, f"{minute}|{node}", text, ATTENDANCE_SAMPLES, ATTENDANCE_TTL * 1000])

    async def read(self, session_id: str) -> list[AttendanceMinute]:
        entries: Any = await self._redis.hgetall(self._keys(session_id)[1])
        samples: list[tuple[int, dict[str, int]]] = []
        for member, text in entries.items():
            minute, _, _node = str(member).partition("|")
            try:
                counts = json.loads(text)
                samples.append((int(minute), {str(k): int(v) for k, v in counts.items()}))
            except (ValueError, TypeError, AttributeError):
                continue  # not written by `record`: left out rather than failing the report
        return sum_attendance(samples)
