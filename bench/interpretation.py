"""Interpretation channels benchmark: delay mouth -> ear, language switch time, CPU per listener.

Run from the repository root, with the project's virtualenv:

    .venv/bin/python -m bench.interpretation                  # 3 runs, 100 listeners, 100 viewers
    .venv/bin/python -m bench.interpretation --runs 1 --listeners 20 --video-viewers 0   # quick
    .venv/bin/python -m bench.interpretation --quiet-wait 600 --quiet-pct 40   # shared machine:
                                        # each run waits (up to 10 min) for it to be under 40 % busy
    .venv/bin/python -m bench.interpretation --phases load   # the load steps only

Each run starts `run.py` afresh on a free port of 127.0.0.1 with this directory's programme
(bench/interpretation_programme.toml, passed with --programme: session pleniere-interpretee, floor
fr, channels en, es, de), a fixed TRIBUNE_SECRET and TRIBUNE_MEDIA_ADDRESSES=127.0.0.1; the bench
signs every token itself (the interpreters': `Role.INTERPRETER` with their language). Every peer
is a process of its own (bench/interpretation_peers.py), on loopback, with no ICE servers:
the studio (640x480 VP8 at ~1 Mbps, encoded once before the runs: bench/encoded_video.py; and
`ClickTrack` audio), one interpreter per channel (`ClickTrack` at /sessions/S@lang/whip), and
listener workers (`live.media.client.watch`, Opus packets logged as they arrive, never decoded;
once a player has joined, at the socket, without aiortc's DTLS, SRTP and RTP work per packet:
bench/lean_rtp.py, which checks its sizes against aiortc's on each stream's first packets and
reports any difference as a problem). Then, in each run:

1. mouth -> ear: the studio and the English interpreter send silence with a 40 ms loud burst
   every 400-600 ms (--bursts of them); a player of the floor (video, English, the floor under it)
   and the interpreter's own ear (WHEP on the floor, audio only, the interpreter's link) log the
   arrival of each loud Opus packet. Delay = the first loud packet's arrival - when the burst's
   first frame left the publisher's track (one wall clock: same machine), matched per burst by
   RTP timestamp (bench/interpretation_report.py). Target p95 < 400 ms each.
2. language switch: the floor silent, the interpreter a steady tone; the player sends
   `PUT {resource}/audio` --switches times, floor and English in turn, 300-600 ms apart: the time
   from sending the PUT to the first packet of the other kind (tone-size or silence-size) on its
   first audio section. Target p95 < 500 ms.
3. load: a --seconds window after --warmup s at each step, the server's CPU (utime + stime from
   /proc/<pid>/stat) and what every listener got of its channel (of the packets the channel's
   track made in the window, how many distinct ones arrived, by RTP timestamp; target >= 99 %):
   - no listener (the studio and the English interpreter on air);
   - --listeners audio-only listeners (WHEP offer with one audio section, `?language=en&floor=0`):
     CPU per listener = (cores - cores with no listener) / listeners;
   - the three channels on air, the audio-only listeners spread over them by PUT, and
     --video-viewers players (video and two audio sections) spread over the original and the
     three languages, the floor under each interpretation.

The load generators share the machine with the server: each phase reports their CPU, the machine's
busy share (/proc/stat) and what other processes used; a phase whose generators took more than a
third of the machine is marked invalid. Results: bench/results/interpretation-<time>.json (every
run's figures, the medians, the lock digest).

This module parses the options and prints; bench/interpretation_run.py runs the phases,
bench/interpretation_peers.py holds the peer processes, bench/interpretation_report.py the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from bench.interpretation_report import print_problems, print_summary, summarise
from bench.interpretation_run import LANGUAGES, SESSION, Json, Run
from bench.relay_report import clean
from bench.relay_system import kill_all_children
from bench.relay_workers import wait_for_quiet

RESULTS = ROOT / "bench" / "results"
PHASES = ("latency", "switch", "load")
PROGRAMME = ROOT / "bench" / "interpretation_programme.toml"


async def main_async(args: argparse.Namespace) -> list[Json]:
    runs = []
    for number in range(1, args.runs + 1):
        busy = await wait_for_quiet(args)
        print(f"run {number}/{args.runs} (machine {busy:.0f} % busy before it)", flush=True)
        started = time.monotonic()
        result = await Run(args, number).execute()
        result["busy_before_pct"] = busy
        runs.append(result)
        print(f"run {number}/{args.runs} done in {time.monotonic() - started:.0f} s", flush=True)
    return runs


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", "-r", type=int, default=3, help="runs, each with a fresh server (3)")
    parser.add_argument("--programme", type=Path, default=PROGRAMME,
                        help="programme file: session pleniere-interpretee with channels en, es, de")
    parser.add_argument("--bursts", type=int, default=60, help="bursts per publisher, 2 a second (60)")
    parser.add_argument("--burst-ms", type=int, default=40, help="a burst's length, 20 ms steps (40)")
    parser.add_argument("--switches", type=int, default=40, help="language switches, half each way (40)")
    parser.add_argument("--listeners", type=int, default=100, help="audio-only listeners (100)")
    parser.add_argument("--video-viewers", type=int, default=100, help="video viewers (100; 0: none)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window (10 s)")
    parser.add_argument("--warmup", type=float, default=5.0, help="settling before each window (5 s)")
    parser.add_argument("--delay", type=float, default=0.1,
                        help="pipeline delay: listeners' window lags the publishers' by this (0.1 s)")
    parser.add_argument("--join-rate", type=float, default=10.0, help="listeners joining per second")
    parser.add_argument("--join-timeout", type=float, default=10.0, help="seconds to a first frame")
    parser.add_argument("--per-proc-audio", type=int, default=50, help="audio-only listeners a process")
    parser.add_argument("--per-proc-video", type=int, default=25, help="video viewers a process")
    parser.add_argument("--listener-rcvbuf", type=int, default=2**20,
                        help="SO_RCVBUF of the listeners' sockets (1 MiB, as bench/relay.py's viewers)")
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="the studio's VP8 bitrate")
    parser.add_argument("--phases", type=lambda text: text.split(","), default=list(PHASES),
                        help="which phases each run has, of latency,switch,load (all)")
    parser.add_argument("--video-source", choices=("file", "encoder"), default="file",
                        help="the studio's video: the test pattern encoded once (bench/"
                             "encoded_video.py), or encoded as it is sent (a core's fifth)")
    parser.add_argument("--listener-path", choices=("socket", "aiortc"), default="socket",
                        help="where listeners log packets once joined: at the socket (bench/"
                             "lean_rtp.py), or after aiortc's DTLS, SRTP and RTP parsing")
    parser.add_argument("--listener-poll-ms", type=float, default=10.0,
                        help="socket path: the load steps' listeners read their sockets this often "
                             "(10 ms; 0: as each datagram comes), the latency probe as they come")
    parser.add_argument("--quiet-wait", type=float, default=0.0,
                        help="wait up to this many s for the machine to be under --quiet-pct busy")
    parser.add_argument("--quiet-pct", type=float, default=15.0)
    parser.add_argument("--server-log-level", default="warning",
                        help="run.py --log-level (warning; info says when a publisher goes off air)")
    parser.add_argument("--json", metavar="FILE",
                        help="(default bench/results/interpretation-<time>.json)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    args.programme = args.programme.resolve()
    if set(args.phases) - set(PHASES):
        parser.error(f"--phases: of {','.join(PHASES)}")
    if args.video_source == "file":  # encoded here, once, not by a publisher during a run
        load_clip(640, 480, 30, args.bitrate)
    raise_fd_limit(4096)

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    measured_with = print_environment()
    wall = time.monotonic()
    try:
        runs = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        print("interrupted: server, publishers and listeners stopped", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        kill_all_children()
    summary = summarise(runs)
    busy = statistics.median(r["busy_before_pct"] for r in runs)
    header = (f"interpretation bench: session {SESSION} (floor fr; channels {', '.join(LANGUAGES)}), "
              f"{args.runs} run(s), {os.cpu_count()} cores, machine {busy:.0f} % busy before the "
              f"runs (median), {time.monotonic() - wall:.0f} s")
    print_summary(summary, args.runs, header)
    print_problems(runs)
    report = {"environment": measured_with, "args": {k: str(v) if isinstance(v, Path) else v
                                                     for k, v in vars(args).items()},
              "command": " ".join(["python -m bench.interpretation", *(argv or sys.argv[1:])]),
              "summary": summary, "runs": runs}
    path = Path(args.json) if args.json else \
        RESULTS / f"interpretation-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(report), indent=2))
    print(f"figures of every run: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
