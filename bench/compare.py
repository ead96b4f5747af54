"""Compare a new interaction benchmark run with a committed one: each figure's median, side by side.

    .venv/bin/python -m bench.interaction --participants 5000 --redis --runs 3 --json new.json
    .venv/bin/python -m bench.compare bench/results/interaction-uvloop-20261206.json new.json

Prints, per worker count both files have, each figure's median over the runs in the committed file
and in the new one and their ratio (new / committed), with each file's lock and date: a change of
lock or machine shows first. It judges nothing: two-core machines are noisy, and whether a ratio
matters is for the reader (docs/performance.md says how the committed figures were made). Not a
test: nothing here is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

# The figures worth comparing, lower is better for all but those marked.
FIGURES = [
    ("q_moderator_p50_ms", "question -> moderator p50 (ms)"),
    ("q_moderator_p99_ms", "question -> moderator p99 (ms)"),
    ("ballot_ack_p50_ms", "ballot Ack p50 (ms)"),
    ("ballot_ack_p99_ms", "ballot Ack p99 (ms)"),
    ("tally_after_last_vote_ms", "last ballot -> exact stage tally (ms)"),
    ("connect_p99_ms", "handshake p99 (ms)"),
    ("kb_per_conn", "server RSS per idle connection (KB)"),
    ("burst_cpu_s", "server CPU during the burst (s)"),
    ("burst_cores", "server cores busy during the burst"),
    ("burst_client_cpu_s", "client processes CPU, burst (s)"),
]


def medians(document: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per worker count, each figure's median over the runs."""
    out: dict[str, dict[str, float]] = {}
    for workers, runs in document["runs"].items():
        out[workers] = {key: statistics.median(run[key] for run in runs if key in run)
                        for key, _ in FIGURES if any(key in run for run in runs)}
    return out


def shown(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def describe(name: str, document: dict[str, Any]) -> str:
    env, args = document.get("environment", {}), document.get("args", {})
    store = "redis" if args.get("redis") else "memory"
    return (f"{name}: K={args.get('participants')} {store}, {len(next(iter(document['runs'].values())))}"
            f" run(s); {env.get('lock', '?')}, python {env.get('python', '?')}, "
            f"cpus {env.get('cpus', '?')}, {env.get('date', '?')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("committed", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    old_doc, new_doc = (json.loads(p.read_text("utf-8")) for p in (args.committed, args.new))
    print(describe("committed", old_doc))
    print(describe("new      ", new_doc))
    old, new = medians(old_doc), medians(new_doc)
    common = [w for w in old if w in new]
    if not common:
        print("no worker count in common", file=sys.stderr)
        return 2
    for workers in common:
        print(f"\n{workers} worker(s)")
        print(f"{'figure':42} {'committed':>10} {'new':>10} {'new/committed':>14}")
        for key, label in FIGURES:
            if key in old[workers] and key in new[workers]:
                a, b = old[workers][key], new[workers][key]
                ratio = f"{b / a:.2f}" if a else "-"
                print(f"{label:42} {shown(a):>10} {shown(b):>10} {ratio:>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
