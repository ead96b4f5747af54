"""The interaction bench's printed figures: medians of the runs with their spread, for each worker
count, the ratio between worker counts, and whether the issue's targets hold."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

from bench.interaction_peer import SESSION, Json

FIGURES: list[tuple[str, str]] = [
    ("connected", "participants connected"),
    ("burst_session_connected", "of them in the burst session"),
    ("connect_s", "connect all K: wall time (s)"),
    ("connect_rate", "connect rate (conn/s)"),
    ("connect_p99_ms", "handshake p99 (ms)"),
    ("connect_server_ms_per_conn", "server CPU per connection, connect all K (ms)"),
    ("rss_before_mb", "server RSS before the participants (MB)"),
    ("rss_idle_mb", "server RSS with K idle (MB)"),
    ("kb_per_conn", "server RSS per idle connection (KB)"),
    ("questions_acked", "questions asked during the burst"),
    ("q_moderator_p50_ms", "burst: question -> moderator p50 (ms)"),
    ("q_moderator_p99_ms", "burst: question -> moderator p99 (ms)"),
    ("q_fanout_p50_ms", "burst: question -> participants p50 (ms)"),
    ("q_fanout_p99_ms", "burst: question -> participants p99 (ms)"),
    ("ballots_acked", "ballots acknowledged"),
    ("ballot_ack_p50_ms", "burst: ballot Ack p50 (ms)"),
    ("ballot_ack_p99_ms", "burst: ballot Ack p99 (ms)"),
    ("tally_after_last_vote_ms", "last ballot sent -> exact stage tally (ms)"),
    ("tally_after_last_ack_ms", "last ballot Ack -> exact stage tally (ms)"),
    ("burst_cpu_s", "server CPU during the burst (s)"),
    ("burst_cores", "server cores busy during the burst"),
    ("burst_cpu_per_1k_s", "server CPU, burst, per 1,000 conn (s)"),
    ("burst_messages", "messages delivered during the burst"),
    ("burst_us_per_message", "server CPU per delivered message, burst (µs)"),
    ("rss_end_mb", "server RSS at the end (MB)"),
    ("connect_client_cpu_s", "client processes CPU, connect all K (s)"),
    ("burst_client_cpu_s", "client processes CPU, burst (s)"),
    ("burst_generators_pct", "load generators' share of the machine, burst (%)"),
    ("burst_machine_pct", "machine busy, burst, all processes (%)"),
]

PROGRESS = ("connected", "kb_per_conn", "q_moderator_p99_ms", "ballot_ack_p99_ms",
            "tally_after_last_vote_ms", "burst_cpu_s")

# The targets, on the medians: (figure, label, test).
TARGETS: list[tuple[str, str, Callable[[float, argparse.Namespace], bool]]] = [
    ("connected", "all K participants connected", lambda v, a: v >= a.participants),
    ("q_moderator_p99_ms", "question -> moderator p99 < 250 ms during the burst", lambda v, a: v < 250),
    ("tally_after_last_vote_ms", "exact tally on stage within 1 s of the last vote",
     lambda v, a: v <= 1000),
    ("kb_per_conn", "server memory per idle connection <= 20 KB", lambda v, a: v <= 20),
]


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def median_of(runs: list[Json], key: str) -> float | None:
    values = [float(r[key]) for r in runs if key in r]
    return statistics.median(values) if values else None


def print_runs(args: argparse.Namespace, workers: int, runs: list[Json]) -> None:
    store = "redis" if args.redis else "memory"
    print(f"\ntribune interaction bench: K={args.participants} participants, {workers} worker(s), "
          f"{store} store, {args.client_procs} client procs, {len(runs)} run(s), "
          f"{len(args.session_ids)} session(s) ({', '.join(args.session_ids)}; burst in {SESSION}), "
          f"{args.questions} questions across them and every ballot within {args.window:g} s")
    width = max(len(label) for _, label in FIGURES)
    print(f"{'figure':<{width}}  {'median':>10}  {'spread (min-max)':>22}")
    print("-" * (width + 36))
    for key, label in FIGURES:
        values = [float(r[key]) for r in runs if key in r]
        if values:
            spread = f"{fmt(min(values))} - {fmt(max(values))}"
            print(f"{label:<{width}}  {fmt(statistics.median(values)):>10}  {spread:>22}")
    for r in runs:
        if "worker_sockets" in r:
            print(f"run {r['run']}: sockets open in each server worker after connecting: "
                  + ", ".join(f"{n:,}" for n in r["worker_sockets"]))
        for problem in r.get("problems", []):
            print(f"run {r['run']}: {problem}")
        for line in r.get("server_tail", []):
            print(f"run {r['run']} server: {line}")
    if not any(r.get("problems") for r in runs):
        print("no errors, closed connections, missing deliveries or late tallies")


def print_targets(args: argparse.Namespace, results: dict[int, list[Json]]) -> bool:
    """Whether each target holds (on the medians), for each worker count; True if all do."""
    print(f"\ntargets (medians of {args.runs} run(s), K={args.participants}):")
    all_hold = True
    for key, label, test in TARGETS:
        cells = []
        for workers, runs in results.items():
            value = median_of(runs, key)
            holds = value is not None and value == value and test(value, args)
            all_hold &= holds
            cells.append(f"{workers} worker(s): {fmt(value) if value is not None else 'n/a'} "
                         f"{'holds' if holds else 'FAILS'}")
        print(f"  {label:<52} " + "; ".join(cells))
    return all_hold


def print_scaling(results: dict[int, list[Json]]) -> None:
    """Each figure's median for each worker count, and the ratio to the first count."""
    counts = sorted(results)
    if len(counts) < 2:
        return
    base = counts[0]
    width = max(len(label) for _, label in FIGURES)
    header = "  ".join(f"{f'{n} worker(s)':>12}" for n in counts)
    ratios = "  ".join(f"{f'{n}w/{base}w':>8}" for n in counts[1:])
    print(f"\nscaling (medians): {'':<{width - 18}}  {header}  {ratios}")
    for key, label in FIGURES:
        values = [median_of(results[n], key) for n in counts]
        if any(v is None for v in values):
            continue
        first = values[0]
        cells = "  ".join(f"{fmt(v):>12}" for v in values if v is not None)
        rest = "  ".join(f"{(v / first if first else float('nan')):>8.2f}"
                         for v in values[1:] if v is not None)
        print(f"{label:<{width}}  {cells}  {rest}")
