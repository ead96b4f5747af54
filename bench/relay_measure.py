"""One measurement window of bench/relay.py: the server's CPU and memory, the machine, the load
generators' CPU, what the publisher sent and what every viewer got of it."""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench.common import ServerProcess, ServerTree
from bench.relay_system import (
    PeerProcess,
    machine_jiffies,
    server_pids,
    udp_counters,
    udp_drops,
    udp_drops_between,
)

Json = dict[str, Any]


async def sleep_until(at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.time()))


def readout(url: str | None, token: str) -> Json:
    """tribune's broadcast readout (viewers, keyframe requests it sent the studio, the studio's
    video rates); {} if none."""
    if url is None:
        return {}
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            data: Json = json.loads(response.read())
            return data
    except (urllib.error.URLError, OSError, ValueError):
        return {}


def generators_cpu_s(loadgen: list[PeerProcess]) -> float:
    """CPU seconds of the publisher and viewer processes, and of this one (the orchestrator)."""
    return sum(p.cpu_s() for p in loadgen) + time.process_time()


@dataclass
class Readings:
    """The counters a window is the difference of, read at its start and at its end."""

    cpu: float  # the server's CPU seconds
    busy: tuple[int, int]  # the machine's busy and total jiffies
    load: list[float]  # each load generator's CPU seconds
    own: float  # this process's
    per_pid: dict[int, float]  # the server's, per process (several workers)
    udp: dict[str, int]
    drops: dict[int, tuple[str, int]]
    readout: Json  # the relay's own readout

    @classmethod
    async def take(cls, server: ServerProcess, loadgen: list[PeerProcess], owners: dict[str, list[int]],
                   readout_url: str | None, token: str) -> Readings:
        return cls(server.cpu_s(), machine_jiffies(), [p.cpu_s() for p in loadgen],
                   time.process_time(),
                   server.cpu_by_pid() if isinstance(server, ServerTree) else {},
                   udp_counters(), udp_drops(owners),
                   await asyncio.to_thread(readout, readout_url, token))


async def measure(args: argparse.Namespace, server: ServerProcess, publisher: PeerProcess,
                  workers: list[PeerProcess], readout_url: str | None = None, token: str = "") -> Json:
    """One window: server CPU and memory, what the publisher sent and every viewer received."""
    loadgen = [publisher, *workers]
    owners = {"server": server_pids(server), "publisher": [publisher.pid],
              "viewers": [w.pid for w in workers]}
    t0 = time.time() + 0.2
    t1 = t0 + args.seconds
    await sleep_until(t0)
    r0 = await Readings.take(server, loadgen, owners, readout_url, token)
    backlogs: list[dict[str, int]] = []  # bytes unread in receive queues, sampled 4 times a second
    while time.time() < t1 - 0.25:
        backlogs.append({})
        udp_drops(owners, backlogs[-1])
        await asyncio.sleep(0.25)
    await sleep_until(t1)
    r1 = await Readings.take(server, loadgen, owners, readout_url, token)
    rss = server.rss_kb() / 1024
    await sleep_until(t1 + args.delay + 0.5)  # the last frames of the window arrive
    sent = await publisher.call("window", t0=t0, t1=t1)
    published = sent.pop("packets")
    res = await asyncio.gather(*(w.call("window", t0=t0, t1=t1, delay=args.delay,
                                        published=published) for w in workers))
    viewers = sorted((v for r in res for v in r["viewers"]), key=lambda v: v["index"])
    delays, key_delays = array.array("f"), array.array("f")
    for r in res:
        delays.frombytes(r["delays"])
        key_delays.frombytes(r["key_delays"])
    span = t1 - t0
    loadgen_cores = (sum(b - a for a, b in zip(r0.load, r1.load, strict=True)) + r1.own - r0.own) / span
    return {"t0": t0, "t1": t1, "server_cores": (r1.cpu - r0.cpu) / span, "server_rss_mb": rss,
            # each process of a multi-worker server, busiest first (the supervisor is about 0)
            "process_cores": sorted(((r1.per_pid[p] - r0.per_pid[p]) / span
                                     for p in r1.per_pid if p in r0.per_pid), reverse=True),
            "machine_busy_pct": 100 * (r1.busy[0] - r0.busy[0]) / max(1, r1.busy[1] - r0.busy[1]),
            "loadgen_cores": loadgen_cores,
            "loadgen_share": loadgen_cores / (os.cpu_count() or 1),
            "publisher_cores": (r1.load[0] - r0.load[0]) / span, "sent": sent,
            "published_frames": len(published), "viewers": viewers,
            "delays": sorted(delays), "key_delays": sorted(key_delays),
            # the viewers' socket path (bench/lean_rtp.py), all workers: None with full viewers
            "lean": {key: sum(r["lean"][key] for r in res if r.get("lean"))
                     for key in ("compared", "mismatched", "fast_packets", "fast_streams")}
            if any(r.get("lean") for r in res) else None,
            "udp": {key: r1.udp[key] - r0.udp[key]
                    for key in ("InDatagrams", "RcvbufErrors", "SndbufErrors")},
            "udp_drops": udp_drops_between(r0.drops, r1.drops),
            "backlog_kb": {owner: max((b.get(owner, 0) for b in backlogs), default=0) / 1024
                           for owner in owners},
            "viewer_plis": sum(r["feedback"]["pli"] for r in res),
            "viewer_nacks": sum(r["feedback"]["nack"] for r in res),
            "relay_keyframe_requests": (r1.readout["keyframe_requests"] - r0.readout["keyframe_requests"]
                                        if "keyframe_requests" in r0.readout
                                        and "keyframe_requests" in r1.readout else None),
            "relay_viewers": r1.readout.get("viewers"),
            # the studio's video as tribune's readout measures it at the window's end
            "relay_video_fps": (r1.readout.get("video") or {}).get("fps"),
            "relay_video_kbps": (r1.readout.get("video") or {}).get("kbps")}
