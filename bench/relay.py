"""Media relay benchmark: one WHIP publisher, N WHEP viewers in other processes, tribune vs MediaRelay.

Run from the repository root, with the project's virtualenv:

    .venv/bin/python -m bench.relay                      # N = 10, 25, 50 (baseline also 2); 3 runs
    .venv/bin/python -m bench.relay --viewers 10,25,50 --runs 3 --baseline-viewers 10,25,50 --seconds 10
    .venv/bin/python -m bench.relay --find-max --baseline-viewers 2,50 --runs 1   # largest N
    .venv/bin/python -m bench.relay --only tribune --viewers 50,100 --join-rate 20 --runs 1 --wait-quiet
    .venv/bin/python -m bench.relay --workers 1,2,3 --runs 3   # run.py --workers W: bench/relay_workers.py

Two servers, each started fresh for every run on a free port of 127.0.0.1:
- tribune: `run.py` with a fixed TRIBUNE_SECRET and TRIBUNE_MEDIA_ADDRESSES=127.0.0.1; the bench
  signs the studio (publisher) and participant (viewer) tokens itself;
- baseline: `bench/relay_baseline.py`, the same WHIP/WHEP endpoints relaying with aiortc's stock
  `MediaRelay` (decode once, encode per viewer, at the publisher's fixed bitrate).

In each pass (one server, one run), every peer connection stays on loopback (host candidates
127.0.0.1 only, no ICE servers), and:
1. one publisher process sends a 640x480 @ 30 fps moving-noise VP8 stream at ~1 Mbps, video only
   unless --audio: the test pattern encoded once into a 10 s clip kept in the cache directory and
   looped, a keyframe at each loop and on the server's PLI (bench/encoded_video.py; --live-encode:
   aiortc encodes TestPatternTrack as it sends, at a fixed bitrate, a fifth of a core); it logs
   each frame (send time, size, keyframe), the keyframe requests (PLI/FIR) it receives, and each
   video RTP packet at its socket's sendto (bench/relay_publisher.py);
2. after --warmup s, a --seconds window with no viewer: the server's CPU with the publisher only;
3. for each N (ascending), viewers are added up to N (--join-rate per second, at most --per-proc
   per process); join time = first video frame - offer sent (split into offer -> answer, answer ->
   connected, connected -> first frame), and whether that frame was a keyframe; the server's CPU
   over this join phase, less what forwarding took at the last step's rate, per viewer joined;
   then after --warmup s, a --seconds window [t0, t1]:
   - server CPU (utime + stime from /proc/<pid>/stat, all threads) and VmRSS;
     CPU per viewer = (cores at N - cores with 0 viewers) / N; CPU per RTP packet forwarded =
     server CPU in the window / video packets all viewers received in it (and over its 0-viewer
     CPU): units that do not depend on the load generators;
   - each viewer's packets matched with the publisher's (bench/relay_match.py: tribune re-packs
     frames with its own SSRC, sequence numbers and timestamp origin, but the same packet sizes):
     frames delivered = of the F frames the publisher sent in [t0, t1], how many the viewer got
     whole (by t1 + d + 0.5 s, d = --delay); frames arrived whole in [t0 + d, t1 + d] (over 100 %:
     a backlog draining); each viewer's longest gap between whole frames (stalls); keyframes
     received; the delay the relay adds to each packet, keyframes' included: the viewer's kernel
     receive time less the publisher's sendto, same clock (CLOCK_REALTIME, one machine), p50, p99
     and max over every packet of every viewer, and keyframes' p99 apart. A stream that does not
     match (the baseline re-encodes) is counted by RTP timestamp from its first frame after t0 + d,
     with no delays nor keyframes;
   - PLIs and NACKs the viewers sent, UDP datagrams dropped because a socket's receive buffer was
     full and the bytes left unread in receive queues (sampled 4 times a second), per process group
     (server, publisher, viewers; /proc/<pid>/fd, /proc/net/udp), tribune's own count of keyframe
     requests and its measure of the studio's video (its readout), the machine's busy share
     (/proc/stat);
   - the load generators' CPU (publisher, viewers and this process) and share of the machine, in
     the window and while viewers joined: past a third (bench/interaction_run.py's
     GENERATOR_SHARE_MAX), the step is marked invalid, as the server then waited for CPU they took.

Targets, checked for tribune at each N: CPU per viewer at most 1/300 core and 1/10 of the
baseline's, every viewer receiving at least 99 % of the frames, join p95 under 1 s, the relay's
added delay p99 under 30 ms, a valid step. The baseline's CPU per viewer is taken where it still
delivers the stream (its worst viewer >= 99 %; by default it is also run at N=2 for that): past
that point the box is saturated and CPU / N only says how the same cores were shared. The ratio at
the same N is printed too. It prints one table per server (medians over runs; every run's figures
are in the JSON), the comparison and the verdict, and what went wrong. `--find-max` adds viewers to
tribune in steps (50, 100, 150, ...) until a target fails and reports the largest N that held them.
Results go to bench/results/relay-<time>.json (gitignored).

The load generators are kept light, so that what fails is the server, not them: the publisher
does not encode; once joined (first frame through aiortc's whole path), a viewer's packets are
logged at the socket and dropped there, the sockets read every --poll-ms (bench/lean_rtp.py), so
nothing is decrypted, parsed, reassembled or decoded; lean viewers therefore send no NACK and no
PLI (their counts are then 0 by construction) and their receiver reports stop counting packets
(--full-viewers: aiortc's receive path, frames counted, never decoded; a packet's arrival is then
when aiortc hands it to the receiver, the viewer's own queueing included). Viewers skip aiortc's
receive-side bandwidth estimator (both servers send at a fixed bitrate whatever REMB says) and get
1 MiB UDP receive buffers (--viewer-rcvbuf; aioice's is 256 KiB): one event loop serving 25
connections can otherwise drop a keyframe burst. tribune sets 4 MiB on its own sockets
(live/media/relay.py); the baseline keeps aioice's 256 KiB.

This module runs the passes; bench/relay_publisher.py and bench/relay_peers.py hold the publisher
and viewer processes, bench/relay_measure.py a window's readings, bench/relay_system.py the /proc
readings and process handles, bench/relay_report.py the figures and the tables, bench/common.py
what bench/interaction.py uses too (the server process).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing as mp
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    ServerProcess,
    ServerTree,
    free_port,
    issue_tokens,
    print_environment,
    raise_fd_limit,
)
from bench.interaction_run import GENERATOR_SHARE_MAX
from bench.relay_measure import generators_cpu_s, measure
from bench.relay_peers import viewer_main
from bench.relay_publisher import publisher_main
from bench.relay_report import (
    KINDS,
    baseline_reference,
    clean,
    holds,
    median_steps,
    print_report,
    split_keyframe_wait,
    step_figures,
)
from bench.relay_system import PeerProcess, kill_all_children, remember_child
from bench.relay_workers import add_worker_arguments, wait_for_quiet

RESULTS = ROOT / "bench" / "results"
SESSION = "pleniere-geopolitique"  # streamed = true in live/data/rencontres-2020.toml
SECRET = "bench-relay-fixed-secret-32chars"  # 32 characters; signs the bench's own tokens

Json = dict[str, Any]


# -- one pass: one server, one run, ascending N ---------------------------------------------------


def tokens() -> tuple[str, str]:
    """The publisher's (studio) and the viewers' (participant) tokens."""
    signed = issue_tokens(SECRET, {"studio": ("studio", SESSION), "viewer": ("participant", "*")})
    return signed["studio"], signed["viewer"]


def start_server(kind: str, args: argparse.Namespace, workers: int | None = None) -> ServerProcess:
    """With `workers`: `run.py --workers W --redis` (one port; its processes measured together)."""
    port = free_port()
    if kind == "tribune":
        cmd = ["run.py", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        env = {"TRIBUNE_SECRET": SECRET, "TRIBUNE_MEDIA_ADDRESSES": "127.0.0.1",
               # Every viewer comes from 127.0.0.1 here: the per-address bound is not measured.
               "TRIBUNE_MAX_VIEWERS_PER_ADDRESS": "100000"}
        if workers is not None:
            cmd += ["--workers", str(workers), "--redis", args.redis]
            env["TRIBUNE_KEY_PREFIX"] = f"bench-relay-{secrets.token_hex(4)}"  # nothing left over
            server: ServerProcess = ServerTree([sys.executable, *cmd], env, port,
                                               unset=["TRIBUNE_ICE_SERVERS", "TRIBUNE_CLOCK"])
            remember_child(server.stop)
            return server
    else:
        cmd = ["-m", "bench.relay_baseline", "--host", "127.0.0.1", "--port", str(port),
               "--bitrate", str(args.bitrate)] + (["--buffered"] if args.buffered else [])
        env = {}
    server = ServerProcess([sys.executable, *cmd], env, port,
                           unset=["TRIBUNE_REDIS_URL", "TRIBUNE_ICE_SERVERS", "TRIBUNE_CLOCK"])
    remember_child(server.stop)
    return server


async def run_pass(kind: str, steps: list[int], args: argparse.Namespace, run: int,
                   reference: Callable[[int], float | None] | None = None,
                   processes: int | None = None) -> Json:
    """Start `kind`'s server and a publisher, measure 0 viewers, then each N in `steps`.

    With `reference` (find-max), stop at the first N that misses a target."""
    ctx = mp.get_context("spawn")
    studio_token, viewer_token = tokens()
    server = start_server(kind, args, processes)
    base_url = f"http://127.0.0.1:{server.port}/sessions/{SESSION}"
    publisher: PeerProcess | None = None
    workers: list[PeerProcess] = []
    out: Json = {"kind": kind, "run": run, "steps": [], "problems": []}
    problems: list[str] = out["problems"]
    kinds = ["video", "audio"] if args.audio else ["video"]
    try:
        await server.wait_healthy()
        publisher = PeerProcess(ctx, publisher_main)
        started = await publisher.call(
            "start", url=f"{base_url}/whip", token=studio_token, width=args.width, height=args.height,
            fps=args.fps, bitrate=args.bitrate, audio=args.audio, timeout=10.0,
            live_encode=args.live_encode, wait=300)  # the clip is encoded once, if not cached
        out["publish_signalling_s"] = started["signalling_s"]
        await asyncio.sleep(args.warmup)
        readout_url = f"{base_url}/broadcast" if kind == "tribune" else None
        base = await measure(args, server, publisher, workers, readout_url, studio_token)
        out["zero"] = {"server_cores": base["server_cores"], "server_rss_mb": base["server_rss_mb"],
                       "publisher_fps": base["sent"]["fps"], "publisher_kbps": base["sent"]["kbps"],
                       "machine_busy_pct": base["machine_busy_pct"]}
        print(f"  {kind} run {run}: 0 viewers: server {base['server_cores']:.3f} cores, "
              f"publisher {base['sent']['fps']:.1f} fps {base['sent']['kbps']:.0f} kbps", flush=True)
        placed, cores_before = 0, base["server_cores"]
        for n in steps:
            # place the new viewers: fill the existing processes, then start new ones
            plan: dict[int, list[int]] = collections.defaultdict(list)
            new = list(range(placed, n))
            for index in new:
                worker = next((i for i, w in enumerate(workers) if w.count < args.per_proc), None)
                if worker is None:
                    workers.append(PeerProcess(ctx, viewer_main, args.viewer_rcvbuf,
                                               not args.full_viewers, args.poll_ms))
                    worker = len(workers) - 1
                workers[worker].count += 1
                plan[worker].append(index)
            await asyncio.gather(*(w.call("ping", wait=60) for w in workers))
            join_cpu0, join_gen0, join_wall0 = (server.cpu_s(), generators_cpu_s([publisher, *workers]),
                                                time.time())
            start = time.time() + 0.3
            at = {index: start + k / args.join_rate for k, index in enumerate(new)}
            res = await asyncio.gather(*(
                workers[i].call("join", wait=len(new) / args.join_rate + 3 * args.join_timeout + 30,
                                url=f"{base_url}/whep", token=viewer_token,
                                plan=[(index, at[index]) for index in indices], kinds=kinds,
                                timeout=args.join_timeout)
                for i, indices in plan.items()))
            joins = [j for r in res for j in r["joined"]]
            join_wall = time.time() - join_wall0
            join_server_s = server.cpu_s() - join_cpu0
            join_gen_share = ((generators_cpu_s([publisher, *workers]) - join_gen0)
                              / join_wall / (os.cpu_count() or 1))
            forced = (await publisher.call("keyframes", since=start - 1))["forced"]
            split_keyframe_wait(joins, forced)
            placed = n
            await asyncio.sleep(args.warmup)
            m = await measure(args, server, publisher, workers, readout_url, studio_token)
            fig = step_figures(m, base, joins, n, args)
            fig["workers"] = len(workers)
            fig["process_cores"] = m["process_cores"]
            # the join phase (first offer to the last viewer's first frame or timeout): the server's
            # CPU less what forwarding to the viewers already there took at the last step's rate
            joined = fig["joined"]
            fig["join_phase_s"] = join_wall
            fig["join_server_ms_per_viewer"] = (1000 * (join_server_s - cores_before * join_wall) / joined
                                                if joined else None)
            fig["join_loadgen_share_pct"] = 100 * join_gen_share
            cores_before = m["server_cores"]
            invalid = [f"the load generators took {100 * share:.0f} % of the machine {when} (over "
                       f"{GENERATOR_SHARE_MAX:.0%}): the server's figures include its wait for CPU"
                       for share, when in ((m["loadgen_share"], "in the window"),
                                           (join_gen_share, "while viewers joined"))
                       if share > GENERATOR_SHARE_MAX]
            fig["invalid"], fig["invalid_count"] = invalid, len(invalid)  # the count survives medians
            problems.extend(f"N={n}: invalid: {reason}" for reason in invalid)
            if fig["other_cores"] > 0.25 * (os.cpu_count() or 1):
                problems.append(f"N={n}: other processes took {fig['other_cores']:.2f} cores of the "
                                "machine in the window: the server had less CPU than it could use")
            out["steps"].append(fig)
            for error in fig["join_errors"]:
                problems.append(f"N={n}: join failed: {error}")
            if m["sent"]["state"] != "connected" or not m["sent"]["frames"]:
                problems.append(f"N={n}: the publisher sent {m['sent']['frames']} frames in the window, "
                                f"its connection {m['sent']['state']}")
            verdict = ""
            if reference is not None:
                missed = fig["targets_missed"] = holds(fig, reference(n), join=not args.workers)
                verdict = f", targets {'missed: ' + '; '.join(missed) if missed else 'held'}"
            print(f"  {kind} run {run}: N={n}: server {fig['server_cores']:.3f} cores "
                  f"({fig['cores_per_viewer']:.4f}/viewer), frames min {fig['delivered_min_pct']:.1f} % "
                  f"median {fig['delivered_median_pct']:.1f} %, join p95 {fig['join_p95_ms']:.0f} ms, "
                  f"added delay p50 {fig['relay_delay_p50_ms']:.1f} p99 {fig['relay_delay_p99_ms']:.1f} ms, "
                  f"box {fig['machine_busy_pct']:.0f} % busy, generators {fig['loadgen_cores']:.2f} cores "
                  f"= {fig['loadgen_share_pct']:.0f} % (joining {fig['join_loadgen_share_pct']:.0f} %)"
                  f"{' INVALID' if invalid else ''}{verdict}", flush=True)
            if reference is not None and fig["targets_missed"]:
                break
    finally:
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        if publisher is not None:
            await publisher.stop()
        await asyncio.to_thread(server.stop)
        for level, count in server.warnings.items():
            problems.append(f"server log lines with {level}: {count}")
        out["server_warnings"] = server.warning_lines
    return out


def parse_counts(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("viewer counts are positive integers, e.g. 10,25,50")
    return values


async def main_async(args: argparse.Namespace) -> Json:
    passes: dict[str, list[Json]] = {"tribune": [], "baseline": []}
    report: Json = {"args": {k: v for k, v in vars(args).items()}, "started": time.time(), "passes": passes}
    kinds = [k for k in KINDS if args.only in (None, k)]
    for run in range(1, args.runs + 1):
        order = kinds if run % 2 else kinds[::-1]  # alternate, to spread the machine's drift
        if args.find_max and "baseline" in kinds:
            order = ["baseline", "tribune"]  # the reference first
        for kind in order:
            if args.wait_quiet:  # a shared machine: another job's load would count against the server
                await wait_for_quiet(args)
            started = time.monotonic()
            if kind == "baseline":
                result = await run_pass(kind, args.baseline_viewers, args, run)
            elif args.find_max:
                reference = (baseline_reference(median_steps(passes["baseline"])) if passes["baseline"]
                             else (lambda n: args.baseline_ref))
                result = await run_pass(kind, args.find_max_steps, args, run, reference)
                held = [s["viewers"] for s in result["steps"] if not s.get("targets_missed")]
                result["largest_n_held"] = max(held, default=0)
            else:
                result = await run_pass(kind, args.viewers, args, run)
            passes[kind].append(result)
            print(f"{kind} run {run}/{args.runs} done in {time.monotonic() - started:.0f} s", flush=True)
    return report


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=parse_counts, default=[10, 25, 50],
                        help="tribune's viewer counts N (default 10,25,50)")
    parser.add_argument("--baseline-viewers", type=parse_counts, default=None,
                        help="the baseline's N (default: 2 and --viewers)")
    parser.add_argument("--runs", "-r", type=int, default=3, help="runs, each with fresh servers (3)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window (10 s)")
    parser.add_argument("--warmup", type=float, default=5.0, help="settling before each window (5 s)")
    parser.add_argument("--only", choices=KINDS, help="measure one server only")
    parser.add_argument("--find-max", action="store_true",
                        help="add tribune viewers in --find-max-steps until a target fails")
    parser.add_argument("--find-max-steps", type=parse_counts,
                        default=list(range(50, 401, 50)), help="(default 50,100,...,400)")
    parser.add_argument("--baseline-ref", type=float, default=None,
                        help="with --find-max --only tribune: the baseline's CPU per viewer (cores)")
    parser.add_argument("--join-rate", type=float, default=10.0, help="viewers joining per second (10)")
    parser.add_argument("--join-timeout", type=float, default=10.0,
                        help="seconds to wait for a viewer's first frame (10)")
    parser.add_argument("--per-proc", type=int, default=25, help="viewers per process (25)")
    parser.add_argument("--delay", type=float, default=0.1,
                        help="pipeline delay: viewers' window lags the publisher's by this (0.1 s)")
    parser.add_argument("--viewer-rcvbuf", type=int, default=2**20,
                        help="SO_RCVBUF of the viewers' sockets, bytes (1 MiB; 0: aioice's 256 KiB)")
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="fixed VP8 bitrate (1000000)")
    parser.add_argument("--live-encode", action="store_true",
                        help="the publisher encodes the test pattern as it sends it (a fifth of a "
                        "core) instead of sending the clip encoded once (bench/encoded_video.py)")
    parser.add_argument("--full-viewers", action="store_true",
                        help="viewers keep aiortc's whole receive path (SRTP, parsing, reassembly, "
                        "NACKs) instead of logging packets at the socket (bench/lean_rtp.py)")
    parser.add_argument("--wait-quiet", action="store_true",
                        help="before each pass, wait for the machine to be under --quiet-pct busy")
    parser.add_argument("--poll-ms", type=float, default=10.0,
                        help="lean viewers read their sockets this often (10 ms; 0: when readable)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--audio", action="store_true", help="publish silence too (and relay it)")
    parser.add_argument("--buffered", action="store_true",
                        help="baseline: MediaRelay's unbounded per-viewer queue (default: newest frame)")
    add_worker_arguments(parser, parse_counts)
    parser.add_argument("--json", metavar="FILE", help="(default bench/results/relay-<time>.json)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.baseline_viewers is None:  # 2: where this 2-core box still serves the baseline
        args.baseline_viewers = sorted({2, *args.viewers})
    raise_fd_limit(4096)
    wall = time.monotonic()

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    if args.workers:
        from bench.relay_workers import main_workers

        try:
            main_workers(args, wall)
        finally:
            kill_all_children()
        return
    measured_with = print_environment()
    try:
        report = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        print("interrupted: servers, publisher and viewers stopped", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        kill_all_children()
    passes = report["passes"]
    medians = {kind: median_steps(passes[kind]) for kind in KINDS}
    print_report(args, passes, medians, SESSION, time.monotonic() - wall)
    report["environment"] = measured_with
    report["medians"] = {kind: {str(n): row for n, row in m.items()} for kind, m in medians.items()}
    path = Path(args.json) if args.json else RESULTS / f"relay-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(report), indent=2))
    print(f"figures of every run: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
