"""The programme as the organiser edits it live: one TOML text per event, with a version and a
bounded history of who changed it, when and what.

A save names the version it was based on; if another editor saved since, it is refused with
`StaleProgramme` naming them, so two editors never overwrite each other silently. Redis keeps it in
`P:programme` (hash: version, text, by, at) and `P:programme-history` (list of JSON entries, newest
first, trimmed to HISTORY_ENTRIES); one script checks and writes both.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis

HISTORY_ENTRIES = 50  # changes shown in the editor, newest first


@dataclass(frozen=True, slots=True)
class ProgrammeDoc:
    version: int  # 0: nothing stored yet
    text: str
    by: str
    at: float


class StaleProgramme(Exception):
    """The save was based on an older version: someone else saved since."""

    def __init__(self, current: ProgrammeDoc) -> None:
        super().__init__(f"version {current.version} saved by {current.by}")
        self.current = current


class ProgrammeDocs(Protocol):
    async def get(self) -> ProgrammeDoc | None: ...

    async def save(self, text: str, base: int, by: str, what: str) -> ProgrammeDoc:
        """Store `text` as version base + 1 if `base` is the current version (0: none stored)."""
        ...

    async def history(self) -> list[dict[str, Any]]: ...


def _entry(doc: ProgrammeDoc, what: str) -> dict[str, Any]:
    return {"version": doc.version, "by": doc.by, "at": doc.at, "what": what}


class MemoryProgrammeDocs:
    def __init__(self) -> None:
        self._doc: ProgrammeDoc | None = None
        self._history: list[dict[str, Any]] = []

    async def get(self) -> ProgrammeDoc | None:
        return self._doc

    async def save(self, text: str, base: int, by: str, what: str) -> ProgrammeDoc:
        current = self._doc.version if self._doc else 0
        if base != current:
            assert self._doc is not None
            raise StaleProgramme(self._doc)
        self._doc = ProgrammeDoc(current + 1, text, by, time.time())
        self._history.insert(0, _entry(self._doc, what))
        del self._history[HISTORY_ENTRIES:]
        return self._doc

    async def history(self) -> list[dict[str, Any]]:
        return list(self._history)


# KEYS: the hash, the history list. ARGV: base, text, by, at, what (JSON entry without version), cap.
_SAVE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return {0, current, redis.call('HGET', KEYS[1], 'by') or '', redis.call('HGET', KEYS[1], 'at') or '0'}
end
local version = current + 1
redis.call('HSET', KEYS[1], 'version', version, 'text', ARGV[2], 'by', ARGV[3], 'at', ARGV[4])
redis.call('LPUSH', KEYS[2], '{"version":' .. version .. ',' .. string.sub(ARGV[5], 2))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
return {1, version, ARGV[3], ARGV[4]}
"""


class RedisProgrammeDocs:
    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._key, self._history_key = f"{prefix}:programme", f"{prefix}:programme-history"
        self._save = redis.register_script(_SAVE)

    async def get(self) -> ProgrammeDoc | None:
        raw: Any = await self._redis.hgetall(self._key)
        if not raw:
            return None
        values = {_text(k): _text(v) for k, v in raw.items()}
        return ProgrammeDoc(int(values["version"]), values["text"], values["by"],
                            float(values["at"]))

    async def save(self, text: str, base: int, by: str, what: str) -> ProgrammeDoc:
        at = time.time()
        entry = json.dumps({"by": by, "at": at, "what": what})
        saved, version, who, when = await self._save(
            keys=[self._key, self._history_key],
            args=[base, text, by, repr(at), entry, HISTORY_ENTRIES])
        if not int(saved):
            current = await self.get()
            raise StaleProgramme(current or ProgrammeDoc(int(version), "", _text(who),
                                                         float(_text(when))))
        return ProgrammeDoc(int(version), text, by, at)

    async def history(self) -> list[dict[str, Any]]:
        raw: Any = await self._redis.lrange(self._history_key, 0, HISTORY_ENTRIES - 1)
        return [json.loads(_text(item)) for item in raw]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
