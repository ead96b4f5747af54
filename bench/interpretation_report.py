"""The figures of bench/interpretation.py: bursts matched to their arrival, switch times, what each
listener got of its channel, whether a step's load generators left it valid, medians over runs,
and the printout (the JSON keeps every run)."""

from __future__ import annotations

import collections
import statistics
from typing import Any

from bench.common import percentile
from bench.interpretation_peers import SAMPLES, STAMPS
from bench.relay_report import fmt

Json = dict[str, Any]

LATENCY_TARGET_MS = 400.0
SWITCH_TARGET_MS = 500.0
DELIVERED_TARGET_PCT = 99.0
LOADGEN_SHARE = 1 / 3  # a step whose load generators took more of the machine says little
SATURATED_PCT = 90.0  # the machine's busy share from which a step is flagged as saturated
PATHS = (("interpreter_to_listener", "interpreter's mouth -> listener's ear"),
         ("floor_to_interpreter", "floor -> interpreter's ear"),
         ("floor_to_listener", "floor -> listener's ear (the floor under; for reference)"))


# -- figure 1: bursts ----------------------------------------------------------------------------


def burst_starts(packets: list[tuple[float, int]], gap: int = 3 * SAMPLES) -> list[tuple[float, int]]:
    """(arrival, RTP timestamp) of each burst's first loud packet: a loud packet more than `gap`
    after the previous loud one (by timestamp) starts a burst (a burst's tail, the encoder's
    lookahead, makes 2 loud packets more)."""
    ordered = sorted(packets, key=lambda p: (p[1] - packets[0][1]) % STAMPS) if packets else []
    starts: list[tuple[float, int]] = []
    last: int | None = None
    for arrival, stamp in ordered:
        if last is None or (stamp - last) % STAMPS > gap:
            starts.append((arrival, stamp))
        last = stamp
    return starts


def match_bursts(sent: list[tuple[float, int]], packets: list[tuple[float, int]]) -> Json:
    """Delay of each burst: arrival of its first loud packet - when its first frame left the track.

    The listener's timestamps are the sender's plus one constant (the publisher's RTP origin,
    the relay's timeline offset, the listener's sender's origin), found as the difference most
    bursts agree on. The gaps between bursts vary (`ClickTrack`), so only the true constant
    lines up most of them, whatever the delay. A burst matches within 2 frames of it."""
    starts = burst_starts(packets)
    out: Json = {"sent": len(sent), "arrived_bursts": len(starts), "delays_ms": []}
    if not sent or not starts:
        return out
    votes = collections.Counter((s - p) % STAMPS for _, s in starts for _, p in sent)
    offset, agreeing = votes.most_common(1)[0]
    out["agreeing"] = agreeing
    if agreeing < max(3, min(len(sent), len(starts)) // 2):
        out["error"] = f"no timestamp offset lines up the bursts (best: {agreeing} of {len(sent)})"
        return out
    by_stamp = {(s - offset) % STAMPS: arrival for arrival, s in starts}
    for sent_at, pts in sent:
        arrival = next((by_stamp[(pts + d) % STAMPS] for d in range(-2 * SAMPLES, 3 * SAMPLES,
                                                                      SAMPLES)
                        if (pts + d) % STAMPS in by_stamp), None)
        if arrival is not None:
            out["delays_ms"].append(1000 * (arrival - sent_at))
    return out


def spread(values: list[float]) -> Json:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values, default=float("nan"))}


# -- figure 3: what each listener got --------------------------------------------------------------


def load_figures(server_cores: float, busy_pct: float, loadgen_cores: float, cpus: int) -> Json:
    """The machine during a window, and whether it is valid: the load generators (publishers,
    listeners) share the cores with the server; when they take more than a third of them, what
    the step measures is the generators as much as the server."""
    other = max(0.0, cpus * busy_pct / 100 - server_cores - loadgen_cores)
    out: Json = {"server_cores": server_cores, "machine_busy_pct": busy_pct, "loadgen_cores": loadgen_cores,
           "other_cores": other, "valid": loadgen_cores <= cpus * LOADGEN_SHARE}
    if not out["valid"]:
        out["why_invalid"] = (f"load generators {loadgen_cores:.2f} cores > a third of {cpus} "
                              f"({cpus * LOADGEN_SHARE:.2f})")
    # Valid or not, a machine kept busy by other jobs delays the server's work and the
    # generators': its delays and delivery are those of a shared machine.
    out["saturated"] = busy_pct >= SATURATED_PCT
    return out


def delivery(listeners: list[Json], sent: dict[str, int], expected: int) -> Json:
    """Per channel and overall: each listener's share of its channel's packets (and of the video
    frames, for viewers). A listener that never joined, or whose process died, counts 0 %."""
    audio: dict[str, list[float]] = collections.defaultdict(list)
    video: list[float] = []
    for row in listeners:
        got = row.get("audio", {}).get("in_span", 0)
        audio[row["channel"]].append(100 * got / max(1, sent[row["channel"]]))
        if "video" in row:
            video.append(100 * row["video"]["in_span"] / max(1, sent["video"]))
    everyone = [p for values in audio.values() for p in values]
    everyone += [0.0] * max(0, expected - len(everyone))
    return {"delivered_min_pct": min(everyone, default=None),
            "delivered_median_pct": statistics.median(everyone) if everyone else None,
            "below_target": sum(1 for p in everyone if p < DELIVERED_TARGET_PCT),
            "video_min_pct": min(video) if video else None,
            "channels": {channel: {"listeners": len(values), "sent": sent[channel],
                                   "min_pct": min(values), "median_pct": statistics.median(values)}
                         for channel, values in sorted(audio.items())},
            "not_connected": sum(1 for row in listeners if row["state"] != "connected")}


# -- medians over runs ---------------------------------------------------------------------------


def median_of(values: list[Any]) -> float | None:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)
               and v == v]
    return statistics.median(numbers) if numbers else None


def summarise(runs: list[Json]) -> Json:
    """Each figure's median over the runs (and the per-run values beside it)."""
    out: Json = {"latency": {}, "switch": {}, "steps": {}}
    for key, _ in PATHS:
        rows = [r["latency"][key] for r in runs if key in r.get("latency", {})]
        out["latency"][key] = {
            "p50": median_of([r["p50"] for r in rows]), "p95": median_of([r["p95"] for r in rows]),
            "p95_runs": [r["p95"] for r in rows], "matched": sum(r["n"] for r in rows),
            "sent": sum(r["sent"] for r in rows)}
    for key in ("to_channel", "to_floor"):
        rows = [r["switch"][key] for r in runs if key in r.get("switch", {})]
        out["switch"][key] = {
            "p50": median_of([r["p50"] for r in rows]), "p95": median_of([r["p95"] for r in rows]),
            "p95_runs": [r["p95"] for r in rows], "put_p50": median_of([r["put_p50"] for r in rows]),
            "switches": sum(r["n"] for r in rows), "failed": sum(r["failed"] for r in rows)}
    for phase in ("latency", "switch"):
        loads = [r[phase]["load"] for r in runs if "load" in r.get(phase, {})]
        out[phase]["load"] = {k: median_of([x[k] for x in loads]) for k in
                              ("server_cores", "loadgen_cores", "machine_busy_pct", "other_cores",
                               "server_waiting_pct")}
        out[phase]["load"]["valid_runs"] = sum(1 for x in loads if x["valid"])
        out[phase]["load"]["saturated_runs"] = sum(1 for x in loads if x["saturated"])
    steps: dict[str, list[Json]] = collections.defaultdict(list)
    for r in runs:
        for step in r.get("steps", []):
            steps[step["name"]].append(step)
    for name, rows in steps.items():
        summary: Json = {key: median_of([row.get(key) for row in rows]) for key in rows[0]
                         if key not in ("name", "channels", "per_listener", "publishers_lost")}
        summary["runs"], summary["valid_runs"] = len(rows), sum(1 for row in rows if row["valid"])
        summary["saturated_runs"] = sum(1 for row in rows if row["saturated"])
        summary["publisher_lost_runs"] = sum(1 for row in rows if row["publishers_lost"])
        summary["channels"] = {ch: median_of([row["channels"].get(ch, {}).get("min_pct")
                                              for row in rows]) for ch in rows[0]["channels"]}
        out["steps"][name] = summary
    return out


# -- the printout --------------------------------------------------------------------------------


def verdict(value: float | None, target: float, below: bool = True) -> str:
    if value is None:
        return "not measured"
    held = value < target if below else value >= target
    return "held" if held else "MISSED"


def load_line(load: Json, runs: int) -> str:
    return (f"server {fmt(load['server_cores'])} cores, load generators {fmt(load['loadgen_cores'])} "
            f"cores, machine {fmt(load['machine_busy_pct'])} % busy (other processes "
            f"{fmt(load['other_cores'])} cores), the server's event loop waiting for a core "
            f"{fmt(load.get('server_waiting_pct'))} % of the time; valid in {load['valid_runs']} of "
            f"{runs} runs, "
            f"the machine saturated (>= {SATURATED_PCT:.0f} % busy) in {load['saturated_runs']}")


def print_summary(summary: Json, runs: int, header: str) -> None:
    print(f"\n{header}")
    print(f"\n1. mouth -> ear on loopback: first loud packet's arrival - the burst's first frame "
          f"leaving the track (ms; medians over runs of each run's p50/p95; target p95 < "
          f"{LATENCY_TARGET_MS:.0f} ms)")
    for key, label in PATHS:
        row = summary["latency"][key]
        print(f"  {label:<58} p50 {fmt(row['p50']):>6}  p95 {fmt(row['p95']):>6}  (runs' p95: "
              f"{', '.join(fmt(v) for v in row['p95_runs'])}); bursts matched {row['matched']} of "
              f"{row['sent']}" + ("" if key == "floor_to_listener"
                                  else f"  {verdict(row['p95'], LATENCY_TARGET_MS)}"))
    print(f"  during it: {load_line(summary['latency']['load'], runs)}")
    print(f"\n2. language switch: PUT sent -> first packet of the other channel (ms; target p95 < "
          f"{SWITCH_TARGET_MS:.0f} ms)")
    for key, label in (("to_channel", "floor (silence) -> interpretation (tone)"),
                       ("to_floor", "interpretation -> floor")):
        row = summary["switch"][key]
        print(f"  {label:<42} p50 {fmt(row['p50']):>6}  p95 {fmt(row['p95']):>6}  (runs' p95: "
              f"{', '.join(fmt(v) for v in row['p95_runs'])}); {row['switches']} switches, "
              f"{row['failed']} without the other channel in time; PUT answered p50 "
              f"{fmt(row['put_p50'])} ms  {verdict(row['p95'], SWITCH_TARGET_MS)}")
    print(f"  during it: {load_line(summary['switch']['load'], runs)}")
    print(f"\n3. server CPU and delivery (medians over runs; every listener >= "
          f"{DELIVERED_TARGET_PCT:.0f} % of its channel's audio packets)")
    columns = [("server_cores", "server cores"), ("cores_per_listener", "per listener"),
               ("delivered_min_pct", "worst %"), ("delivered_median_pct", "median %"),
               ("below_target", "< 99 %"), ("video_min_pct", "video worst %"),
               ("join_p95_ms", "join p95 ms"), ("loadgen_cores", "generators"),
               ("machine_busy_pct", "machine %"), ("other_cores", "others")]
    width = max((len(name) for name in summary["steps"]), default=10)
    print(f"  {'step':<{width}}  " + "  ".join(f"{label:>13}" for _, label in columns)
          + "  valid, saturated (runs)")
    for name, row in summary["steps"].items():
        print(f"  {name:<{width}}  " + "  ".join(f"{fmt(row.get(key)):>13}" for key, _ in columns)
              + f"  {row['valid_runs']}, {row['saturated_runs']} of {row['runs']}")
        print(f"  {'':<{width}}  UDP datagrams dropped: server {fmt(row.get('udp_drops_server'))}, "
              f"listeners {fmt(row.get('udp_drops_listeners'))}, publishers "
              f"{fmt(row.get('udp_drops_publishers'))}; /healthz answered in p95 "
              f"{fmt(row.get('server_response_p95_ms'))} ms, max {fmt(row.get('server_response_max_ms'))};"
              f" the server's event loop waited for a core {fmt(row.get('server_waiting_pct'))} % "
              "of the time")
        if row["publisher_lost_runs"]:
            print(f"  {'':<{width}}  a publisher's connection ended during the step in "
                  f"{row['publisher_lost_runs']} run(s): its listeners got nothing (see below)")
        if len(row["channels"]) > 1:
            print(f"  {'':<{width}}  worst listener per channel (%): " + ", ".join(
                f"{ch} {fmt(pct)}" for ch, pct in row["channels"].items()))
    print("  per listener: (server cores at the step - with no listener) / listeners; valid: the "
          "load generators took at most a third of the machine")


def print_problems(runs: list[Json]) -> None:
    printed = False
    for r in runs:
        for problem in r["problems"]:
            print(f"run {r['run']}: {problem}")
            printed = True
        for line in r.get("server_warnings", [])[:8]:
            print(f"run {r['run']} server: {line}")
            printed = True
    if not printed:
        print("no failed joins, unmatched phases, dropped connections or server warnings")
