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


async def measure(args: argparse.Namespace, server: ServerProcess, publisher: PeerProcess,
                  workers: list[PeerProcess], readout_url: str | None = None, token: str = "") -> Json:
    """One window: server CPU and memory, what the publisher sent and every viewer received."""
    loadgen = [publisher, *workers]
    owners = {"server": server_pids(server), "publisher": [publisher.pid],
              "viewers": [w.pid for w in workers]}
    t0 = time.time() + 0.2
    t1 = t0 + args.seconds
    await sleep_until(t0)
    cpu0, busy0, load0 = server.cpu_s(), machine_jiffies(), [p.cpu_s() for p in loadgen]
    own0 = time.process_time()
    per0 = server.cpu_by_pid() if isinstance(server, ServerTree) else {}
    udp0, drops0 = udp_counters(), udp_drops(owners)
    readout0 = await asyncio.to_thread(readout, readout_url, token)
    backlogs: list[dict[str, int]] = []  # bytes unread in receive queues, sampled 4 times a second
    while time.time() < t1 - 0.25:
        backlogs.append({})
        udp_drops(owners, backlogs[-1])
        await asyncio.sleep(0.25)
    await sleep_until(t1)
    cpu1, busy1, load1 = server.cpu_s(), machine_jiffies(), [p.cpu_s() for p in loadgen]
    own1 = time.process_time()
    per1 = server.cpu_by_pid() if isinstance(server, ServerTree) else {}
    udp1, drops1 = udp_counters(), udp_drops(owners)
    readout1 = await asyncio.to_thread(readout, readout_url, token)
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
    loadgen_cores = (sum(b - a for a, b in zip(load0, load1, strict=True)) + own1 - own0) / span
    return {"t0": t0, "t1": t1, "server_cores": (cpu1 - cpu0) / span, "server_rss_mb": rss,
            # each process of a multi-worker server, busiest first (the supervisor is about 0)
            "process_cores": sorted(((per1[p] - per0[p]) / span for p in per1 if p in per0),
                                    reverse=True),
            "machine_busy_pct": 100 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
            "loadgen_cores": loadgen_cores,
            "loadgen_share": loadgen_cores / (os.cpu_count() or 1),
            "publisher_cores": (load1[0] - load0[0]) / span, "sent": sent,
            "published_frames": len(published), "viewers": viewers,
            "delays": sorted(delays), "key_delays": sorted(key_delays),
            # the viewers' socket path (bench/lean_rtp.py), all workers: None with full viewers
            "lean": {key: sum(r["lean"][key] for r in res if r.get("lean"))
                     for key in ("compared", "mismatched", "fast_packets", "fast_streams")}
            if any(r.get("lean") for r in res) else None,
            "udp": {key: udp1[key] - udp0[key] for key in ("InDatagrams", "RcvbufErrors", "SndbufErrors")},
            "udp_drops": udp_drops_between(drops0, drops1),
            "backlog_kb": {owner: max((b.get(owner, 0) for b in backlogs), default=0) / 1024
                           for owner in owners},
            "viewer_plis": sum(r["feedback"]["pli"] for r in res),
            "viewer_nacks": sum(r["feedback"]["nack"] for r in res),
            "relay_keyframe_requests": (readout1["keyframe_requests"] - readout0["keyframe_requests"]
                                        if "keyframe_requests" in readout0 and "keyframe_requests"
                                        in readout1 else None),
            "relay_viewers": readout1.get("viewers"),
            # the studio's video as tribune's readout measures it at the window's end
            "relay_video_fps": (readout1.get("video") or {}).get("fps"),
            "relay_video_kbps": (readout1.get("video") or {}).get("kbps")}
