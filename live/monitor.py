"""Heartbeats and shared figures, for /healthz and /metrics.

Once a second, from its event loop, each worker writes a heartbeat and its figures: with Redis,
`{prefix}:workers:{host}` (a hash: worker index -> time, refreshed with a TTL) and
`{prefix}:metrics:{host}:{index}` (its report, expiring after a few seconds); in memory, in this
process. A stuck loop stops beating, so /healthz on any worker of the same supervisor (the same
host and port) fails while one worker's heartbeat is stale; a restarted worker overwrites its own.
`host` is this machine and port: machines sharing a Redis each answer for their own workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time
from typing import Any

import redis.asyncio as aioredis

from live.config import Settings
from live.media.relay import Relay
from live.metrics import Reporter
from live.service import Service

log = logging.getLogger(__name__)

BEAT_EVERY = 1.0
STALE_AFTER = 5.0  # a heartbeat older than this means a stuck (or dead) worker
CHECK_TIMEOUT = 2.0  # for each Redis call made while answering /healthz or /metrics
HEARTBEAT_TTL = 60  # seconds: the hash of a host whose workers are all gone goes away
REPORT_TTL = 5  # seconds: a worker that stopped reporting drops out of /metrics


class Monitor:
    def __init__(self, settings: Settings, service: Service, relay: Relay) -> None:
        self.settings = settings
        self.service = service
        self.host = f"{socket.gethostname()}:{settings.port}"
        self.reporter = Reporter(settings.worker, self.host, service, relay)
        self._redis: aioredis.Redis | None = None
        if settings.redis_url is not None:
            self._redis = aioredis.from_url(
                settings.redis_url, decode_responses=True, socket_connect_timeout=CHECK_TIMEOUT,
                socket_timeout=CHECK_TIMEOUT)
        prefix = settings.key_prefix
        self._beats_key = f"{prefix}:workers:{self.host}"
        self._report_key = f"{prefix}:metrics:{self.host}:{settings.worker}"
        self._reports_pattern = _glob_escape(f"{prefix}:metrics:") + "*"
        self.last_beat = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat_forever(), name="monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._redis is not None:
            with contextlib.suppress(Exception):  # out of /metrics at once, not in a few seconds
                await self._redis.delete(self._report_key)
            await self._redis.aclose()

    async def _beat_forever(self) -> None:
        failing = False
        while True:
            self.last_beat = time.monotonic()
            try:
                report: dict[str, Any] | None = self.reporter.report()
            except Exception:  # a bug in the figures must not stop the heartbeat
                log.exception("metrics report failed")
                report = None
            try:
                await self._publish(report)
                if failing:
                    log.info("heartbeat written again")
                failing = False
            except Exception as exc:  # Redis away: /healthz says so; keep beating
                if not failing:
                    log.warning("heartbeat not written: %r", exc)
                failing = True
            await asyncio.sleep(BEAT_EVERY)

    async def _publish(self, report: dict[str, Any] | None) -> None:
        if self._redis is None:
            return
        async with asyncio.timeout(CHECK_TIMEOUT):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(self._beats_key, str(self.settings.worker), f"{time.time():.3f}")
                pipe.expire(self._beats_key, HEARTBEAT_TTL)
                if report is not None:
                    pipe.set(self._report_key, json.dumps(report, separators=(",", ":")),
                             ex=REPORT_TTL)
                await pipe.execute()

    # -- /healthz -----------------------------------------------------------------------------

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether this service (every worker of this host and port) is fit to serve, and why."""
        own_age = time.monotonic() - self.last_beat
        checks: dict[str, bool] = {
            "loop": own_age < STALE_AFTER and time.monotonic() - self.service.last_tick < STALE_AFTER,
            "bus": self.service.bus.healthy,
        }
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self.service.store.ping()
            checks["store"] = True
        except Exception:
            checks["store"] = False
        ages: dict[str, float | None] = {str(self.settings.worker): round(own_age, 3)}
        if self._redis is not None:
            try:
                ages = await self._worker_ages()
                checks["workers"] = all(a is not None and a < STALE_AFTER for a in ages.values())
            except Exception:
                checks["workers"] = False
        ok = all(checks.values())
        body: dict[str, Any] = {"ok": ok, "worker": self.settings.worker, **checks,
                                "failed": [name for name, good in checks.items() if not good],
                                "heartbeat_age": ages}
        return ok, body

    async def _worker_ages(self) -> dict[str, float | None]:
        """Seconds since each worker's last heartbeat (None: none yet, or lost with Redis)."""
        assert self._redis is not None
        async with asyncio.timeout(CHECK_TIMEOUT):
            beats: dict[str, str] = await self._redis.hgetall(self._beats_key)  # type: ignore[assignment]
        now = time.time()
        ages: dict[str, float | None] = {}
        for index in range(self.settings.workers):  # a larger index is left from a bigger setup
            beat = beats.get(str(index))
            ages[str(index)] = round(max(0.0, now - float(beat)), 3) if beat else None
        return ages

    # -- /metrics -----------------------------------------------------------------------------

    async def reports(self) -> list[dict[str, Any]]:
        """Every live worker's latest report (this worker's alone without Redis)."""
        if self._redis is None:
            return [self.reporter.report()]
        async with asyncio.timeout(CHECK_TIMEOUT):
            keys = [key async for key in self._redis.scan_iter(match=self._reports_pattern,
                                                               count=1000)]
            texts = await self._redis.mget(keys) if keys else []
        reports = [json.loads(text) for text in texts if text]
        if not any(r["host"] == self.host and r["worker"] == self.settings.worker
                   for r in reports):
            reports.append(self.reporter.report())  # not yet published, or Redis lost it
        return reports


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
