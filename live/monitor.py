"""Heartbeats and shared figures, for /healthz and /metrics.

Once a second, from its event loop, each worker writes a heartbeat and its figures to the registry
(live/registry: with Redis, shared by every worker; in memory, this process's): the host's beats
expire a minute after the last, a report a few seconds after it was written. A stuck loop stops
beating, so /healthz on any worker of the same supervisor (the same host and port) fails while one
worker's heartbeat is stale; a restarted worker overwrites its own. `host` is this machine and
port: machines sharing a Redis each answer for their own workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from typing import Any

from live.attendance import AttendanceRecorder
from live.config import Settings
from live.media.relay import Relay
from live.metrics import Reporter
from live.registry import Registry
from live.service import Service

log = logging.getLogger(__name__)

BEAT_EVERY = 1.0
STALE_AFTER = 5.0  # a heartbeat older than this means a stuck (or dead) worker
CHECK_TIMEOUT = 2.0  # for each Redis call made while answering /healthz or /metrics
HEARTBEAT_TTL = 60  # seconds: the hash of a host whose workers are all gone goes away
REPORT_TTL = 5  # seconds: a worker that stopped reporting drops out of /metrics


class Monitor:
    def __init__(self, settings: Settings, service: Service, relay: Relay,
                 registry: Registry) -> None:
        self.settings = settings
        self.service = service
        self.registry = registry  # the app's: it opens and closes it
        self.host = f"{socket.gethostname()}:{settings.port}"
        self.reporter = Reporter(settings.worker, self.host, service, relay)
        # Participants and viewers per minute, for the reports: this worker's share.
        self.attendance = AttendanceRecorder(service.store, f"{self.host}:{settings.worker}")
        self.last_beat = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat_forever(), name="monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.attendance.stop()
        with contextlib.suppress(Exception):  # out of /metrics at once, not in a few seconds
            await self.registry.forget_report(self.host, self.settings.worker)

    async def _beat_forever(self) -> None:
        failing = False
        while True:
            self.last_beat = time.monotonic()
            try:
                report: dict[str, Any] | None = self.reporter.report()
            except Exception:  # a bug in the figures must not stop the heartbeat
                log.exception("metrics report failed")
                report = None
            if report is not None:
                self.attendance.note(report, time.time())
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
        text = json.dumps(report, separators=(",", ":")) if report is not None else None
        async with asyncio.timeout(CHECK_TIMEOUT):
            await self.registry.beat(self.host, self.settings.worker, time.time(), text,
                                     beat_ttl=HEARTBEAT_TTL, report_ttl=REPORT_TTL)

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
        if self.settings.redis_url is not None:  # other workers may share this host and port
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
        async with asyncio.timeout(CHECK_TIMEOUT):
            beats = await self.registry.beats(self.host)
        now = time.time()
        ages: dict[str, float | None] = {}
        for index in range(self.settings.workers):  # a larger index is left from a bigger setup
            beat = beats.get(index)
            ages[str(index)] = round(max(0.0, now - beat), 3) if beat is not None else None
        return ages

    # -- /metrics -----------------------------------------------------------------------------

    async def reports(self) -> list[dict[str, Any]]:
        """Every live worker's latest report (from the registry), this worker's made now."""
        async with asyncio.timeout(CHECK_TIMEOUT):
            texts = await self.registry.reports()
        reports = [r for r in map(json.loads, texts)
                   if not (r["host"] == self.host and r["worker"] == self.settings.worker)]
        reports.append(self.reporter.report())  # this worker's own, fresh: not a second old
        return reports

