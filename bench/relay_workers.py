"""bench/relay.py's multi-process mode: how many viewers `run.py --workers W` holds, for each W.

    .venv/bin/python -m bench.relay --workers 1,2,3 --runs 3            # steps 50,100,...,400
    .venv/bin/python -m bench.relay --workers 2 --find-max-steps 100,150,200 --runs 1

For each run and each W (the order alternates between runs, to spread the machine's drift), a fresh
`run.py --workers W --redis URL --media-address 127.0.0.1` on one port (a fresh key prefix): the
kernel gives the publisher's WHIP and each viewer's WHEP to any worker, so the studio is ingested
by one worker (the origin) and the others relay it from there (live/media/cluster.py), as in
production. Viewers are added in --find-max-steps until the worst viewer gets under 99 % of the
frames (or a join fails); the largest N before that is what W held. Join times are printed too,
not a target here: on this machine the viewers' own processes share the two cores.

Server CPU is the supervisor's and every worker's (utime + stime, /proc), also given per process.
It prints, per W, every run's largest N and the medians at each N, then the best split.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.relay_report import clean, fmt, median_steps
from bench.relay_system import machine_jiffies

Json = dict[str, Any]

SHOWN = [("server_cores", "server CPU, all processes (cores)"),
         ("delivered_min_pct", "frames delivered, worst viewer (%)"),
         ("delivered_median_pct", "frames delivered, median viewer (%)"),
         ("join_p50_ms", "join p50 (ms)"), ("join_p95_ms", "join p95 (ms)"),
         ("first_keyframe_pct", "first frame a keyframe (%)"),
         ("server_rss_mb", "server RSS, all processes (MB)"),
         ("loadgen_cores", "publisher + viewer processes (cores)"),
         ("machine_busy_pct", "machine busy, 2 cores = 100 (%)"),
         ("other_cores", "other processes on the machine (cores)")]


def add_worker_arguments(parser: argparse.ArgumentParser, counts: Callable[[str], list[int]]) -> None:
    parser.add_argument("--workers", type=counts, default=None, metavar="W,...",
                        help="multi-process mode: for each W, `run.py --workers W --redis`, the "
                        "largest N held at >= 99 %% frames (--find-max-steps), tribune only")
    parser.add_argument("--quiet-pct", type=float, default=15.0,
                        help="with --workers: before each pass, wait for the machine to be under this "
                        "busy share (%% of all cores, over 3 s; default 15)")
    parser.add_argument("--quiet-wait", type=float, default=300.0,
                        help="... for at most this many seconds (300)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                        help="with --workers: the Redis the workers share (a fresh key prefix per run)")


async def wait_for_quiet(args: argparse.Namespace) -> float:
    """Wait (up to --quiet-wait s) until the machine is under --quiet-pct busy over 3 s: on a
    shared machine, another job's load would be counted against the relay. Returns the last share."""
    deadline = time.monotonic() + args.quiet_wait
    while True:
        before = machine_jiffies()
        await asyncio.sleep(3)
        after = machine_jiffies()
        busy = 100 * (after[0] - before[0]) / max(1, after[1] - before[1])
        if busy < args.quiet_pct or time.monotonic() > deadline:
            return busy
        print(f"  machine {busy:.0f} % busy: waiting for it to calm down", flush=True)


async def run_all(args: argparse.Namespace) -> dict[int, list[Json]]:
    from bench.relay import run_pass

    passes: dict[int, list[Json]] = {w: [] for w in args.workers}
    for run in range(1, args.runs + 1):
        for workers in (args.workers if run % 2 else args.workers[::-1]):
            idle = await wait_for_quiet(args)
            started = time.monotonic()
            result = await run_pass("tribune", args.find_max_steps, args, run,
                                    reference=lambda n: None, processes=workers)
            for step in result["steps"]:  # what else ran: on a shared machine, the noise
                step["other_cores"] = max(0.0, (os.cpu_count() or 2) * step["machine_busy_pct"] / 100
                                          - step["server_cores"] - step["loadgen_cores"])
            held = [s["viewers"] for s in result["steps"] if not s.get("targets_missed")]
            result["workers"], result["busy_before_pct"] = workers, idle
            result["largest_n_held"] = max(held, default=0)
            passes[workers].append(result)
            print(f"W={workers} run {run}/{args.runs}: largest N held {result['largest_n_held']} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)
    return passes


def process_split(steps: list[Json]) -> str:
    """Median cores of each process, busiest first ("0.41 + 0.38 + 0.00")."""
    rows = [s.get("process_cores") or [] for s in steps]
    width = max((len(r) for r in rows), default=0)
    medians = [statistics.median([r[i] for r in rows if len(r) > i]) for i in range(width)]
    return " + ".join(f"{c:.2f}" for c in medians)


def summarise(passes: dict[int, list[Json]]) -> dict[int, Json]:
    summary: dict[int, Json] = {}
    for workers, runs in passes.items():
        largest = [r["largest_n_held"] for r in runs]
        medians = median_steps(runs)
        summary[workers] = {"largest": largest, "median_largest": statistics.median(largest),
                            "medians": medians,
                            "split": {n: process_split([s for r in runs for s in r["steps"]
                                                        if s["viewers"] == n]) for n in medians}}
    return summary


def print_summary(args: argparse.Namespace, passes: dict[int, list[Json]], summary: dict[int, Json],
                  elapsed: float) -> None:
    print(f"\nmulti-process relay: one publisher ({args.width}x{args.height} @ {args.fps} fps VP8, "
          f"{args.bitrate // 1000} kbps), viewers added in steps {args.find_max_steps}, "
          f"{args.runs} run(s), {elapsed / 60:.0f} min")
    for workers, row in summary.items():
        print(f"\nW={workers}: largest N at >= 99 % frames, per run {row['largest']}, "
              f"median {row['median_largest']:g}")
        ns = list(row["medians"])
        width = max(len(label) for _, label in SHOWN)
        print(" " * (width + 2) + "".join(f"{'N=' + str(n):>12}" for n in ns))
        for key, label in SHOWN:
            print(f"  {label:<{width}}" + "".join(f"{fmt(row['medians'][n].get(key)):>12}" for n in ns))
        print(f"  {'runs that reached N':<{width}}" + "".join(f"{row['medians'][n]['runs']:>12}" for n in ns))
        print("  per process (cores, busiest first):")
        for n in ns:
            print(f"    N={n}: {row['split'][n]}")
        for result in passes[workers]:
            for problem in result["problems"]:
                print(f"  run {result['run']}: {problem}")
    best = max(summary, key=lambda w: (summary[w]["median_largest"], -w))
    print(f"\nbest split: W={best} worker process(es), {summary[best]['median_largest']:g} viewers "
          f"at >= 99 % frames (median of {args.runs} run(s))")


def main_workers(args: argparse.Namespace, wall: float) -> None:
    passes = asyncio.run(run_all(args))
    summary = summarise(passes)
    print_summary(args, passes, summary, time.monotonic() - wall)
    report = {"args": vars(args), "passes": {str(w): p for w, p in passes.items()},
              "summary": {str(w): {**row, "medians": {str(n): m for n, m in row["medians"].items()},
                                   "split": {str(n): s for n, s in row["split"].items()}}
                          for w, row in summary.items()}}
    path = (Path(args.json) if args.json else
            ROOT / "bench" / "results" / f"relay-workers-{time.strftime('%Y%m%d-%H%M%S')}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(report), indent=2))
    print(f"figures of every run: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
