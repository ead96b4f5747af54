"""Interaction benchmark: K real WebSocket participants, moderators and a stage against the service.

Run from the repository root, with the project's virtualenv:

    .venv/bin/python -m bench.interaction                                  # K=1000, in memory, 3 runs
    .venv/bin/python -m bench.interaction --participants 5000 --redis --workers 1,2 --runs 3
    .venv/bin/python -m bench.interaction --participants 10000 --sessions 6 --redis --workers 2

Each run starts a fresh server (`run.py --workers N` as a subprocess, on a free port of 127.0.0.1,
with a random TRIBUNE_SECRET and, with Redis, a random TRIBUNE_KEY_PREFIX whose keys are deleted
afterwards), spreads the K participants over client processes (`--client-procs`; by default one per
2,500 participants, at least 2), and keeps the moderators and the stage in this process. The
participants spread over `--sessions` S interactive sessions of the demo programme (default 1): half
of them in `pleniere-geopolitique`, where the burst happens and the stage watches, the rest evenly
over the others; each session has its moderator. The scenario:

1. connect: all K participants connect (Hello, Welcome, Snapshot): wall time and handshake p99;
   with several workers, the sockets each worker holds (the kernel hands each connection to
   whichever worker accepts it first, so they should be about even);
2. idle: the server's RSS (all its processes together: the supervisor and every worker) before the
   participants and with K idle connections: KB per connection, which is also MB per 1,000;
3. burst: the moderator creates, opens and reveals a 3-option poll in the burst session; every
   participant of that session casts one ballot at a random moment of a 2 s window while
   `--questions` questions from distinct participants arrive evenly over the same window, round
   the sessions (premoderation on, as a session starts: they go to its moderator; `--fanout` turns
   it off and also times the fan-out to every participant of the session). The send time rides in
   each question's text, so its latency to the moderator uses one clock (`time.time()`, same
   machine). Then: question -> moderator p50/p99 over all sessions, ballot Ack p50/p99, and the
   time from the last ballot (sent, and acknowledged) to the first stage Tally showing every
   acknowledged ballot with the exact per-option counts;
4. cost during the burst, from /proc: the server's CPU (utime + stime of all its processes) per
   1,000 connections, the cores it kept busy, and per WebSocket message it delivered (every text
   frame the participants, moderators and stage received: a unit that does not depend on the load
   generators); the load generators' CPU (client processes and this one) and their share of the
   machine; the machine's busy share, all processes included (other work on it shows there). A run
   whose generators took more than a third of the machine is marked invalid.

The participants use a lean WebSocket client (bench/lean_ws.py: an asyncio.Protocol on uvloop that
decodes JSON only for the frames the bench reads); the moderators and the stage use `websockets`.

With several `--workers` counts (`--workers 1,2`, which needs `--redis`), every count gets its runs,
then a table of the medians side by side with their ratio. For each count it prints the median of
each figure over the runs and its spread (min-max), anything that went wrong (errors by code, closed
connections, missing deliveries, late tallies, a client process that was CPU-bound), and whether the
issue's targets hold: K participants; question -> moderator p99 < 250 ms during the burst; the exact
tally on the stage within 1 s of the last vote; at most 20 KB of server memory per idle connection.
`--json FILE` also writes every run's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections.abc import Iterable
from pathlib import Path

from bench.common import print_environment, raise_fd_limit
from bench.interaction_peer import Json
from bench.interaction_plan import interactive_sessions
from bench.interaction_report import PROGRESS, fmt, print_runs, print_scaling, print_targets
from bench.interaction_run import run_once

# Participants per client process by default: a lean client process (bench/lean_ws.py) keeps 2,500
# busy for about a tenth of a core in the burst, far from the one core it can have.
PER_CLIENT_PROC = 2500


def parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", "-k", type=int, default=1000, help="K (default 1000)")
    parser.add_argument("--client-procs", "-w", type=int, default=0,
                        help=f"client processes (default: one per {PER_CLIENT_PROC:,}, at least 2)")
    parser.add_argument("--workers", default="1", help="server worker counts, e.g. 1,2 (default 1)")
    parser.add_argument("--redis", action="store_true", help="use the Redis store and bus")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--runs", "-r", type=int, default=3, help="runs per worker count (3)")
    parser.add_argument("--sessions", "-s", type=int, default=1,
                        help="interactive sessions of the demo programme the participants spread over "
                        "(default 1: all in the burst session)")
    parser.add_argument("--questions", type=int, default=100, help="questions during the burst (100)")
    parser.add_argument("--window", type=float, default=2.0, help="seconds every ballot falls in (2)")
    parser.add_argument("--fanout", action="store_true",
                        help="premoderation off: also time each question's fan-out to everyone")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before the RSS read")
    parser.add_argument("--json", metavar="FILE", help="also write every run's figures here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        args.worker_counts = [int(n) for n in args.workers.split(",")]
    except ValueError:
        parser.error("--workers takes counts separated by commas, e.g. 1,2")
    if min(args.worker_counts) < 1:
        parser.error("--workers: at least 1")
    if max(args.worker_counts) > 1 and not args.redis:
        parser.error("several workers share their state through Redis: add --redis")
    if args.participants < args.questions:
        parser.error("--participants must be at least --questions (one question each)")
    try:
        args.session_ids = interactive_sessions(args.sessions)
    except ValueError as exc:
        parser.error(f"--sessions: {exc}")
    if args.client_procs <= 0:
        args.client_procs = max(2, math.ceil(args.participants / PER_CLIENT_PROC))
    return args


def main(argv: Iterable[str] | None = None) -> None:
    args = parse_args(argv)
    measured_with = print_environment()
    raise_fd_limit(args.participants + 1024)  # the server inherits it
    results: dict[int, list[Json]] = {}
    for workers in args.worker_counts:
        runs = results.setdefault(workers, [])
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            result = asyncio.run(run_once(args, run, workers))
            runs.append(result)
            print(f"{workers} worker(s), run {run}/{args.runs} done in "
                  f"{time.monotonic() - started:.0f} s: "
                  + ", ".join(f"{key}={fmt(float(result[key]))}" for key in PROGRESS if key in result),
                  flush=True)
    for workers, runs in results.items():
        print_runs(args, workers, runs)
    print_scaling(results)
    print_targets(args, results)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": {k: v for k, v in vars(args).items()}, "environment": measured_with,
             "runs": results}, indent=2))


if __name__ == "__main__":
    main()
