"""Figures for /metrics: what one worker measures, and the Prometheus text of every worker's figures.

Each worker takes a report of its own figures once a second (`Reporter.report`); the monitor
(live/monitor.py) shares the reports through Redis, and whichever worker a scrape lands on renders
all the live workers' reports together (`render`). Gauges of a session are summed over the workers
(connections are spread over them); counters keep one series per worker, so that a restarted
worker's counters starting again from zero read as a reset of its own series, not of a sum.
"""

from __future__ import annotations

import collections
import hmac
import ipaddress
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from live.protocol import CLOSE_SLOW_CLIENT
from live.views import Audience

if TYPE_CHECKING:  # live/web/ws.py imports this module: keep it light
    from live.hub import Hub
    from live.media.relay import Relay
    from live.service import Service

RATE_WINDOW = 10.0  # seconds over which a session's events per second are measured

_closes: collections.Counter[int] = collections.Counter()  # this process's server-side closes


def connection_closing(code: int) -> None:
    """A connection is being closed by the server with `code` (live/web/ws.py calls this)."""
    _closes[code] += 1


def allowed(client_host: str | None, authorization: str | None, token: str | None) -> bool:
    """Loopback may read /metrics (a local Prometheus or agent); others need the Bearer token.

    Behind a reverse proxy on this machine, the proxy must forward the client's address
    (X-Forwarded-For, trusted from 127.0.0.1), or every request would look local.
    """
    if token and authorization and hmac.compare_digest(authorization.encode(),
                                                       f"Bearer {token}".encode()):
        return True
    try:
        return client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        return False


class Reporter:
    """This worker's figures, as a JSON-friendly dict (it travels through Redis)."""

    def __init__(self, worker: int, host: str, service: Service, relay: Relay) -> None:
        self.worker, self.host = worker, host
        self.service, self.relay = service, relay
        self._seqs: dict[str, collections.deque[tuple[float, int]]] = {}

    def report(self) -> dict[str, Any]:
        now = time.monotonic()
        sessions: dict[str, dict[str, float]] = {}
        for hub in self.service.hubs:
            figures = sessions[hub.session_id] = {
                "participants": hub.local_participants(),
                "events_per_second": self._rate(hub, now),
            }
            for audience, subs in hub.audiences.items():
                figures[f"connections_{audience.value}"] = len(subs)
            # Who is connected, by the role of their link (the control room: is a moderator
            # there, the stage screen, the interpreters?).
            for sub in hub.subscribers:
                role = getattr(sub, "role", None)
                if role is not None:
                    figures[f"role_{role}"] = figures.get(f"role_{role}", 0) + 1
        for session_id, broadcast in list(self.relay.broadcasts.items()):
            stats = broadcast.stats()
            inbound = sum(stats[kind]["kbps"] for kind in ("video", "audio") if stats.get(kind))
            figures = sessions.setdefault(session_id, {})
            # The relay forwards what it receives without re-encoding: each viewer gets it all.
            figures.update(viewers=broadcast.viewers, relay_in_kbps=inbound,
                           relay_out_kbps=inbound * broadcast.viewers)
        connections = sum(len(subs) for hub in self.service.hubs for subs in hub.audiences.values())
        recorder = self.relay.recorder
        return {"host": self.host, "worker": self.worker, "at": time.time(),
                "connections": connections, "events_total": self.service.applied_total,
                "slow_clients_total": _closes[CLOSE_SLOW_CLIENT], "sessions": sessions,
                **(recorder.figures() if recorder is not None else {})}

    def _rate(self, hub: Hub, now: float) -> float:
        samples = self._seqs.setdefault(hub.session_id, collections.deque())
        if samples and hub.seq < samples[-1][1]:
            samples.clear()  # the history restarted under a new epoch: numbering starts again
        samples.append((now, hub.seq))
        while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
            samples.popleft()
        (t0, s0), (t1, s1) = samples[0], samples[-1]
        return round((s1 - s0) / (t1 - t0), 2) if t1 > t0 else 0.0


# -- the Prometheus text format -----------------------------------------------------------------

# (report field, metric name, how workers' figures combine, help); one series per session.
# Connections are spread over the workers: summed. Every worker holding a session applies all of
# its events, and every worker relaying it receives the same stream: for those, the highest.
GAUGES: list[tuple[str, str, Callable[[list[float]], float], str]] = [
    ("participants", "tribune_participants", sum,
     "Participants connected to the session (people; all workers together)."),
    (f"connections_{Audience.PARTICIPANT.value}", "tribune_participant_connections", sum,
     "Participant WebSocket connections to the session (a person's second tab counts)."),
    (f"connections_{Audience.MODERATOR.value}", "tribune_moderator_connections", sum,
     "Moderator WebSocket connections to the session."),
    (f"connections_{Audience.STAGE.value}", "tribune_stage_connections", sum,
     "Stage (and studio) WebSocket connections to the session."),
    ("events_per_second", "tribune_session_events_per_second", max,
     f"Events appended to the session per second, over the last {RATE_WINDOW:.0f} s."),
    ("viewers", "tribune_viewers", sum, "Video viewers (WHEP) of the session."),
    ("relay_in_kbps", "tribune_relay_in_kbps", max,
     "Bitrate of the session's studio stream as the relay receives it, kilobits per second."),
    ("relay_out_kbps", "tribune_relay_out_kbps", sum,
     "Bitrate the relay sends to the session's viewers, kilobits per second (what it receives "
     "times the viewers: frames are forwarded, never re-encoded)."),
]
COUNTERS = [  # (report field, metric name, help); one series per worker
    ("events_total", "tribune_events_total",
     "Records the worker applied (its own commands' and, through the bus, the other workers')."),
    ("slow_clients_total", "tribune_slow_clients_dropped_total",
     "Clients the worker closed for being slow (4008: queue overflow or write deadline)."),
]

# Per worker, from the workers that record (--recordings): (report field, metric, type, help).
RECORDING = [
    ("recording_alarm", "tribune_recording_alarm", "gauge",
     "1 while recording is stopped for lack of disk space (live/media/recording.py), else 0."),
    ("recording_bytes_total", "tribune_recording_bytes_total", "counter",
     "Bytes of encoded frames the worker wrote to recordings."),
    ("recording_dropped_total", "tribune_recording_dropped_frames_total", "counter",
     "Frames left out of recordings because the disk did not keep up."),
]


def _label(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(reports: list[dict[str, Any]]) -> str:
    """The Prometheus text exposition (version 0.0.4) of the live workers' reports."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    session_ids = sorted({s for r in reports for s in r["sessions"]})
    for field, name, combine, help_text in GAUGES:
        samples = []
        for s in session_ids:
            values = [r["sessions"][s][field] for r in reports if field in r["sessions"].get(s, {})]
            if values:  # a session without video has no viewer series, and so on
                samples.append((f"{{session={_label(s)}}}", combine(values)))
        family(name, "gauge", help_text, samples)
    ordered = sorted(reports, key=lambda r: (r["host"], r["worker"]))
    for field, name, help_text in COUNTERS:
        family(name, "counter", help_text,
               [(f"{{host={_label(r['host'])},worker={_label(r['worker'])}}}", r[field])
                for r in ordered])
    for field, name, kind, help_text in RECORDING:
        recording = [r for r in ordered if field in r]
        if recording:
            family(name, kind, help_text,
                   [(f"{{host={_label(r['host'])},worker={_label(r['worker'])}}}", r[field])
                    for r in recording])
    family("tribune_worker_connections", "gauge", "WebSocket connections the worker holds.",
           [(f"{{host={_label(r['host'])},worker={_label(r['worker'])}}}", r["connections"])
            for r in ordered])
    family("tribune_workers", "gauge", "Workers that reported in the last few seconds.",
           [("", len(reports))])
    return "\n".join(lines) + "\n"
