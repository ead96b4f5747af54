"""Remote guest benchmark: the delay guest -> room and room -> guest through the relay.

Run from the repository root, with the project's virtualenv:

    .venv/bin/python -m bench.guests                      # 5 runs, 60 bursts each way, 50 viewers
    .venv/bin/python -m bench.guests --runs 1 --viewers 0 # quick

Each run starts `run.py` afresh on a free port of 127.0.0.1 (the demo programme, session
pleniere-geopolitique), with a fixed TRIBUNE_SECRET and TRIBUNE_MEDIA_ADDRESSES=127.0.0.1; the
bench signs the tokens itself (the guest's: `Role.GUEST` naming a guest). Every peer is a process
of its own, on loopback, with no ICE servers (bench/interpretation_peers.py):
- the guest: 640x480 VP8 at ~1 Mbps (encoded once before the runs, bench/encoded_video.py) and a
  microphone that is silent but for a 40 ms loud burst every 400-600 ms, to
  /sessions/S/guests/G/whip;
- the room: the studio page's return feed, a microphone with its own bursts, to
  /sessions/S/return/whip;
- the probe: the studio's player of the guest's feed (WHEP, video and audio, the studio's link)
  and the guest's player of the return feed (WHEP, audio, the guest's link), each logging the
  arrival of every loud Opus packet as aiortc receives it;
- with --viewers N, also the programme on air (the studio: video and audio) and N players of it
  (bench/lean_rtp.py's socket path), so the relay forwards the conversation while it serves an
  audience.
Delay = the first loud packet's arrival - when the burst's first frame left the publisher's track
(one wall clock: same machine), matched per burst (bench/interpretation_report.py). It is the
relay's share of the delay: each browser adds its capture, encoding, jitter buffer and playout
(tens of ms each, not measured here). Target p95 < 400 ms each way. The load generators' CPU is
reported beside the server's. Results: bench/results/guests-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import ROOT, print_environment, raise_fd_limit
from bench.encoded_video import load_clip
from bench.interpretation_peers import listener_main, publisher_main
from bench.interpretation_report import match_bursts, spread
from bench.interpretation_run import SECRET, start_server
from bench.relay_report import clean
from bench.relay_system import PeerProcess, kill_all_children, machine_jiffies

Json = dict[str, Any]
RESULTS = ROOT / "bench" / "results"
PROGRAMME = ROOT / "live" / "data" / "rencontres-2020.toml"
SESSION = "pleniere-geopolitique"
GUEST = "gBench001"
PATHS = ("guest_to_room", "room_to_guest")
TARGET_P95_MS = 400.0


def tokens() -> Json:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from live.domain import Role
    from live.web.auth import Signer

    signer, expires = Signer(SECRET), int(time.time()) + 86_400
    return {"studio": signer.issue(Role.STUDIO, SESSION, expires),
            "participant": signer.issue(Role.PARTICIPANT, "*", expires),
            "guest": signer.issue(Role.GUEST, SESSION, expires, guest=(GUEST, "Bench Guest"))}


async def run_once(args: argparse.Namespace, number: int) -> Json:
    ctx = mp.get_context("spawn")
    secrets = tokens()
    server = start_server(PROGRAMME, "warning")
    base = f"http://127.0.0.1:{server.port}/sessions/{SESSION}"
    peers: list[PeerProcess] = []
    out: Json = {"run": number, "problems": []}
    try:
        await server.wait_healthy()
        guest, room = PeerProcess(ctx, publisher_main), PeerProcess(ctx, publisher_main)
        probe = PeerProcess(ctx, listener_main, 0, False, 0.0)  # aiortc's own path: as a browser
        peers += [guest, room, probe]
        common = {"bitrate": args.bitrate, "burst_frames": args.burst_ms // 20, "mode": "silence",
                  "timeout": 10.0}
        await guest.call("start", url=f"{base}/guests/{GUEST}/whip", token=secrets["guest"],
                         video="file", frequency=1000.0, seed=100 * number, **common)
        await room.call("start", url=f"{base}/return/whip", token=secrets["studio"], video="",
                        frequency=600.0, seed=100 * number + 1, **common)
        if args.viewers:
            studio = PeerProcess(ctx, publisher_main)
            viewers = PeerProcess(ctx, listener_main, 2**20, True, 10.0)
            peers += [studio, viewers]
            await studio.call("start", url=f"{base}/whip", token=secrets["studio"], video="file",
                              frequency=800.0, seed=100 * number + 2, **common)
            await asyncio.sleep(1.0)
            now = time.time()
            plan = [[i, now + i / 20, None, False, ["video", "audio"]] for i in range(args.viewers)]
            joined = (await viewers.call("join", wait=args.viewers / 20 + 60, url=f"{base}/whep",
                                         token=secrets["participant"], plan=plan,
                                         timeout=10.0))["joined"]
            out["viewers_joined"] = sum(1 for j in joined if not j["error"])
        now = time.time()
        await probe.call("join", url=f"{base}/guests/{GUEST}/whep", token=secrets["studio"],
                         plan=[[0, now, None, False, ["video", "audio"]]], timeout=10.0)
        await probe.call("join", url=f"{base}/return/whep", token=secrets["guest"],
                         plan=[[1, now, None, False, ["audio"]]], timeout=10.0)
        await asyncio.sleep(1.0)

        before = (time.time(), server.cpu_s(), machine_jiffies(), sum(p.cpu_s() for p in peers))
        t0 = time.time()
        for publisher in (guest, room):
            await publisher.call("mode", mode="bursts")
        await asyncio.sleep(args.bursts * 0.5)
        for publisher in (guest, room):
            await publisher.call("mode", mode="silence")
        t1 = time.time()
        after = (time.time(), server.cpu_s(), machine_jiffies(), sum(p.cpu_s() for p in peers))
        span = after[0] - before[0]
        out["load"] = {
            "server_cores": (after[1] - before[1]) / span,
            "loadgen_cores": (after[3] - before[3]) / span,
            "machine_busy_pct": 100 * (after[2][0] - before[2][0]) / max(1, after[2][1] - before[2][1]),
        }
        await asyncio.sleep(1.5)  # the last bursts arrive
        for key, publisher, index in (("guest_to_room", guest, 0), ("room_to_guest", room, 1)):
            sent = (await publisher.call("bursts", t0=t0, t1=t1))["bursts"]
            packets = (await probe.call("loud", index=index, section="audio", t0=t0,
                                        t1=t1 + 1.5))["packets"]
            matched = match_bursts([tuple(b) for b in sent], [tuple(p) for p in packets])
            out[key] = {**spread(matched["delays_ms"]), "sent": matched["sent"],
                        "delays_ms": [round(d, 1) for d in matched["delays_ms"]]}
            if "error" in matched:
                out["problems"].append(f"{key}: {matched['error']}")
        print(f"  run {number}: p50/p95 (ms) " + "; ".join(
            f"{key} {out[key]['p50']:.0f}/{out[key]['p95']:.0f} ({out[key]['n']} of "
            f"{out[key]['sent']})" for key in PATHS)
            + f"; server {out['load']['server_cores']:.2f} cores, load generators "
              f"{out['load']['loadgen_cores']:.2f}", flush=True)
    finally:
        for peer in peers:
            await peer.stop()
        server.stop()
    return out


def summarise(runs: list[Json]) -> Json:
    summary: Json = {}
    for key in PATHS:
        rows = [r[key] for r in runs if r.get(key, {}).get("n")]
        summary[key] = {stat: statistics.median(row[stat] for row in rows) if rows else None
                        for stat in ("p50", "p95", "max")}
        summary[key]["runs"] = len(rows)
    for stat in ("server_cores", "loadgen_cores", "machine_busy_pct"):
        summary[stat] = statistics.median(r["load"][stat] for r in runs if "load" in r)
    return summary


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", "-r", type=int, default=5, help="runs, each with a fresh server (5)")
    parser.add_argument("--bursts", type=int, default=60, help="bursts each way, 2 a second (60)")
    parser.add_argument("--burst-ms", type=int, default=40, help="a burst's length, 20 ms steps (40)")
    parser.add_argument("--viewers", type=int, default=50,
                        help="players of the programme meanwhile (50; 0: the conversation alone)")
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="the guest's VP8 bitrate")
    parser.add_argument("--json", metavar="FILE", help="(default bench/results/guests-<time>.json)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    load_clip(640, 480, 30, args.bitrate)  # encoded here, once, not by a publisher during a run
    raise_fd_limit(4096)

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    measured_with = print_environment()
    runs = []
    try:
        for number in range(1, args.runs + 1):
            runs.append(asyncio.run(run_once(args, number)))
    except KeyboardInterrupt:
        print("interrupted: server and peers stopped", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        kill_all_children()
    summary = summarise(runs)
    print(f"guests bench: {args.runs} run(s), {args.viewers} viewers of the programme meanwhile, "
          f"{os.cpu_count()} cores; medians of the runs:")
    for key in PATHS:
        row = summary[key]
        verdict = "meets" if row["p95"] is not None and row["p95"] < TARGET_P95_MS else "MISSES"
        if row["p95"] is None:
            print(f"  {key.replace('_', ' ')}: no burst arrived ({verdict} p95 < {TARGET_P95_MS:.0f} ms)")
            continue
        print(f"  {key.replace('_', ' ')}: p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms, max "
              f"{row['max']:.0f} ms ({verdict} p95 < {TARGET_P95_MS:.0f} ms)")
    print(f"  server {summary['server_cores']:.2f} cores, load generators "
          f"{summary['loadgen_cores']:.2f} cores, machine {summary['machine_busy_pct']:.0f} % busy")
    for run in runs:
        for problem in run["problems"]:
            print(f"  problem, run {run['run']}: {problem}")
    report = {"environment": measured_with, "args": vars(args), "summary": summary, "runs": runs,
              "command": " ".join(["python -m bench.guests", *(argv or sys.argv[1:])])}
    path = Path(args.json) if args.json else RESULTS / f"guests-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(report), indent=2))
    print(f"figures of every run: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
