"""The figures of bench/relay.py: per step from the raw readings, medians over runs, the targets,
the baseline's reference, and the printed tables (the JSON keeps every run)."""

from __future__ import annotations

import argparse
import collections
import math
import os
import statistics
from collections.abc import Callable
from typing import Any

from bench.common import percentile

Json = dict[str, Any]

KINDS = ("tribune", "baseline")
LABEL = {"tribune": "tribune", "baseline": "baseline (aiortc MediaRelay, re-encoding)"}
FRAMES_TARGET_PCT = 99.0
JOIN_TARGET_MS = 1000.0
CPU_TARGET_RATIO = 10.0
CPU_PER_VIEWER_MAX = 1 / 300  # cores: the 300 viewers per core at about 1 Mbps
DELAY_P99_TARGET_MS = 30.0  # the relay's added delay, per packet, keyframes included


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    value = float(value)
    if value != value:
        return "n/a"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def split_keyframe_wait(joins: list[Json], forced: list[float]) -> None:
    """Split each join's connected -> first frame into: until the publisher made the keyframe the
    viewer started on (`request_s`: the relay's keyframe request, its throttle, the PLI's way) and
    from then until it arrived (`delivery_s`: encode, fan-out to every viewer, the viewer's
    process). The keyframe is the last one the publisher was told to make before the frame came."""
    for j in joins:
        j["request_s"] = j["delivery_s"] = None
        if j["first_wall"] is None or j["connected_wall"] is None or not j["first_key"]:
            continue
        made = [t for t in forced if t <= j["first_wall"]]
        if made and made[-1] >= j["connected_wall"] - 1.0:
            j["request_s"] = max(0.0, made[-1] - j["connected_wall"])
            j["delivery_s"] = j["first_wall"] - made[-1]


def step_figures(m: Json, base: Json, joins: list[Json], n: int, args: argparse.Namespace) -> Json:
    sent = m["sent"]
    frames = max(1, m["published_frames"])
    span = m["t1"] - m["t0"]
    # matched with the publisher's packets: whole frames (bench/relay_match.py); else by timestamp
    delivered = [100 * v["delivered"] / frames for v in m["viewers"]]
    arrived = [100 * v["frames"] / frames for v in m["viewers"]]
    lost = n - len(m["viewers"])  # viewers whose process went away: nothing delivered
    delivered += [0.0] * lost
    arrived += [0.0] * lost
    ok_joins = [j for j in joins if j["join_s"] is not None]
    join_ms = [1000 * j["join_s"] for j in ok_joins]
    # a viewer who never got a frame counts as a join of --join-timeout in the percentiles
    join_ms_all = join_ms + [1000 * args.join_timeout] * (len(joins) - len(ok_joins))
    gaps = [1000 * v["max_gap_s"] for v in m["viewers"]]
    keys = [v["keyframes"] for v in m["viewers"] if v["keyframes"] is not None]
    delays, key_delays = m["delays"], m["key_delays"]  # s, sorted, every packet of every viewer
    packets = sum(v["packets"] for v in m["viewers"])
    kbps = [8 * v["bytes"] / (m["t1"] - m["t0"]) / 1000 for v in m["viewers"]]
    out = {
        "viewers": n, "viewers_measured": len(m["viewers"]),
        "server_cores": m["server_cores"], "server_cores_0": base["server_cores"],
        "cores_per_viewer": (m["server_cores"] - base["server_cores"]) / n,
        "server_rss_mb": m["server_rss_mb"],
        "rss_per_viewer_kb": (m["server_rss_mb"] - base["server_rss_mb"]) * 1024 / n,
        "frames_sent": sent["frames"], "publisher_fps": sent["fps"], "publisher_kbps": sent["kbps"],
        "publisher_plis": sent["plis"], "publisher_keyframes": sent["forced_keyframes"],
        "delivered_min_pct": min(delivered, default=0.0),
        "delivered_median_pct": statistics.median(delivered) if delivered else 0.0,
        "viewers_below_target": sum(1 for d in delivered if d < FRAMES_TARGET_PCT),
        "arrived_min_pct": min(arrived, default=0.0),
        "arrived_median_pct": statistics.median(arrived) if arrived else 0.0,
        "viewers_unmatched": sum(1 for v in m["viewers"] if not v["matched"]),
        "viewer_kbps_median": statistics.median(kbps) if kbps else 0.0,
        "stall_max_ms": max(gaps, default=float("nan")),
        "stall_median_ms": statistics.median(gaps) if gaps else float("nan"),
        "viewer_keyframes_median": statistics.median(keys) if keys else 0,
        "viewer_keyframes_max": max(keys, default=0),
        "frames_missing_total": sum(frames - v["delivered"] for v in m["viewers"]),
        "frames_incomplete_total": sum(v["incomplete"] for v in m["viewers"]),
        "not_connected": sum(1 for v in m["viewers"] if v["state"] != "connected"),
        "joined": len(ok_joins), "join_attempts": len(joins),
        "join_failures": len(joins) - len(ok_joins),
        "join_p50_ms": percentile(join_ms_all, 50), "join_p95_ms": percentile(join_ms_all, 95),
        "join_max_ms": max(join_ms_all, default=float("nan")),
        **{f"join_{phase}_p{q}_ms": percentile([1000 * j[f"{phase}_s"] for j in ok_joins
                                                if j.get(f"{phase}_s") is not None], q)
           for phase in ("answer", "connect", "first", "request", "delivery") for q in (50, 95)},
        "first_keyframe": sum(1 for j in ok_joins if j["first_key"]),
        "first_keyframe_pct": 100 * sum(1 for j in ok_joins if j["first_key"]) / max(1, len(ok_joins)),
        "machine_busy_pct": m["machine_busy_pct"], "loadgen_cores": m["loadgen_cores"],
        "loadgen_share_pct": 100 * m["loadgen_share"],
        # the machine is shared: what neither the server nor the generators took
        "other_cores": max(0.0, m["machine_busy_pct"] / 100 * (os.cpu_count() or 1) - m["server_cores"]
                           - m["loadgen_cores"]),
        "publisher_cores": m["publisher_cores"],
        "udp_rcvbuf_errors": m["udp"]["RcvbufErrors"],
        "viewer_plis": m["viewer_plis"], "viewer_nacks": m["viewer_nacks"],
        "relay_keyframe_requests": m["relay_keyframe_requests"], "relay_viewers": m["relay_viewers"],
        "relay_video_fps": m["relay_video_fps"], "relay_video_kbps": m["relay_video_kbps"],
        "udp_drops_server": m["udp_drops"].get("server", 0),
        "udp_drops_server_max_socket": m["udp_drops"].get("server_max_socket", 0),
        "udp_drops_publisher": m["udp_drops"].get("publisher", 0),
        "udp_drops_viewers": m["udp_drops"].get("viewers", 0),
        "backlog_server_kb": m["backlog_kb"]["server"], "backlog_viewers_kb": m["backlog_kb"]["viewers"],
        # publisher's sendto -> viewer's socket (kernel time), per packet, keyframes included
        "relay_delay_packets": len(delays),
        "relay_delay_p50_ms": 1000 * percentile(delays, 50),
        "relay_delay_p99_ms": 1000 * percentile(delays, 99),
        "relay_delay_max_ms": 1000 * delays[-1] if delays else float("nan"),
        "relay_key_delay_p99_ms": 1000 * percentile(key_delays, 99),
        # the server's CPU in units that do not depend on the load generators
        "packets_forwarded": packets,
        "server_us_per_packet": 1e6 * m["server_cores"] * span / packets if packets else float("nan"),
        "server_us_per_packet_net": (1e6 * (m["server_cores"] - base["server_cores"]) * span / packets
                                     if packets else float("nan")),
        "lean_mismatched": (m["lean"] or {}).get("mismatched"),
    }
    out["join_errors"] = sorted({j["error"] for j in joins if j["error"]})[:5]
    # per viewer, for the JSON: [viewer, delivered %, longest gap ms, keyframes, connection state]
    out["per_viewer"] = [[v["index"], round(d, 2), round(1000 * v["max_gap_s"]), v["keyframes"],
                          v["state"]]
                         for v, d in zip(m["viewers"], delivered, strict=True)]
    # per viewer added at this step: [viewer, join ms, answer, connect, first frame, request,
    # delivery, first frame a keyframe]
    out["per_join"] = [[j["index"], *(round(1000 * j[k]) if j.get(k) is not None else None
                                      for k in ("join_s", "answer_s", "connect_s", "first_s",
                                                "request_s", "delivery_s")),
                        j["first_key"]] for j in joins]
    return out


def holds(fig: Json, reference: float | None, join: bool = True) -> list[str]:
    """The targets this step missed (empty: all held); `join=False`: frames (and CPU) only."""
    missed = []
    if reference is not None and fig["cores_per_viewer"] > reference / CPU_TARGET_RATIO:
        missed.append(f"CPU/viewer {fig['cores_per_viewer']:.4f} > {reference / CPU_TARGET_RATIO:.4f}")
    if fig["cores_per_viewer"] > CPU_PER_VIEWER_MAX:
        missed.append(f"CPU/viewer {fig['cores_per_viewer']:.4f} > {CPU_PER_VIEWER_MAX:.4f}")
    if fig.get("relay_delay_p99_ms", 0) >= DELAY_P99_TARGET_MS:
        missed.append(f"added delay p99 {fig['relay_delay_p99_ms']:.1f} ms >= {DELAY_P99_TARGET_MS:.0f} ms")
    if fig.get("invalid_count"):
        missed.append("invalid: the load generators took over a third of the machine")
    if fig["delivered_min_pct"] < FRAMES_TARGET_PCT or fig["join_failures"]:
        missed.append(f"frames min {fig['delivered_min_pct']:.2f} % < {FRAMES_TARGET_PCT:.0f} %"
                      + (f" ({fig['join_failures']} joins failed)" if fig["join_failures"] else ""))
    if join and not fig["join_p95_ms"] < JOIN_TARGET_MS:
        missed.append(f"join p95 {fig['join_p95_ms']:.0f} ms >= {JOIN_TARGET_MS:.0f} ms")
    return missed


FIGURES: list[tuple[str, str]] = [
    ("server_cores", "server CPU (cores)"),
    ("cores_per_viewer", "server CPU per viewer (cores)"),
    ("server_rss_mb", "server RSS (MB)"),
    ("rss_per_viewer_kb", "server RSS per viewer (KB)"),
    ("delivered_min_pct", "frames delivered, worst viewer (%)"),
    ("delivered_median_pct", "frames delivered, median viewer (%)"),
    ("viewers_below_target", "viewers under 99 % of frames"),
    ("arrived_min_pct", "frames arrived in window, worst viewer (%)"),
    ("stall_max_ms", "longest gap between whole frames, any viewer (ms)"),
    ("relay_delay_p50_ms", "added delay, studio sendto -> viewer socket, p50 (ms)"),
    ("relay_delay_p99_ms", "  p99, every packet incl. keyframes' (ms)"),
    ("relay_delay_max_ms", "  max (ms)"),
    ("relay_key_delay_p99_ms", "  p99, keyframes' packets only (ms)"),
    ("relay_delay_packets", "  packets matched (all viewers)"),
    ("viewers_unmatched", "viewers not matched with the publisher"),
    ("server_us_per_packet", "server CPU per packet forwarded (us)"),
    ("server_us_per_packet_net", "  over its 0-viewer CPU (us)"),
    ("join_server_ms_per_viewer", "server CPU per viewer joining (ms, net)"),
    ("viewer_kbps_median", "video received per viewer (kbps)"),
    ("viewer_keyframes_median", "keyframes received per viewer in window"),
    ("frames_missing_total", "frames not delivered whole (all viewers)"),
    ("frames_incomplete_total", "  of which some packets arrived"),
    ("join_p50_ms", "join p50, offer -> 1st frame (ms, added viewers)"),
    ("join_p95_ms", "join p95 (ms)"),
    ("join_max_ms", "join max (ms)"),
    ("join_answer_p95_ms", "  p95 offer -> answer (HTTP, negotiation)"),
    ("join_connect_p95_ms", "  p95 answer -> connected (ICE, DTLS)"),
    ("join_first_p50_ms", "  p50 connected -> 1st frame (keyframe wait)"),
    ("join_first_p95_ms", "  p95 connected -> 1st frame"),
    ("join_request_p95_ms", "    p95 connected -> publisher makes keyframe"),
    ("join_delivery_p50_ms", "    p50 keyframe made -> arrived"),
    ("join_delivery_p95_ms", "    p95 keyframe made -> arrived"),
    ("join_attempts", "viewers added at this step"),
    ("first_keyframe_pct", "first frame a keyframe (% of them)"),
    ("join_failures", "joins without a frame"),
    ("publisher_fps", "publisher frames/s in window"),
    ("publisher_kbps", "publisher video, encoded (kbps)"),
    ("publisher_plis", "keyframe requests to the publisher in window"),
    ("publisher_keyframes", "keyframes the publisher made in window"),
    ("relay_keyframe_requests", "keyframe requests tribune's broadcast sent (readout)"),
    ("relay_video_fps", "studio video frames/s, tribune's readout"),
    ("relay_video_kbps", "studio video (kbps), tribune's readout"),
    ("viewer_plis", "PLIs sent by viewers in window (all)"),
    ("viewer_nacks", "NACKs sent by viewers in window (all)"),
    ("udp_drops_server", "UDP datagrams dropped: server sockets"),
    ("udp_drops_server_max_socket", "  of which its worst socket"),
    ("udp_drops_viewers", "UDP datagrams dropped: viewer sockets"),
    ("udp_drops_publisher", "UDP datagrams dropped: publisher sockets"),
    ("udp_rcvbuf_errors", "UDP receive-buffer errors, whole machine"),
    ("backlog_server_kb", "unread in server's UDP queues, max (KB)"),
    ("backlog_viewers_kb", "unread in viewers' UDP queues, max (KB)"),
    ("machine_busy_pct", "machine busy, 2 cores = 100 (%)"),
    ("loadgen_cores", "load generators: publisher, viewers, bench (cores)"),
    ("loadgen_share_pct", "  their share of the machine in window (%)"),
    ("join_loadgen_share_pct", "  ... while viewers joined (%)"),
    ("other_cores", "other processes on the machine (cores)"),
    ("lean_mismatched", "lean viewers: sizes unlike aiortc's"),
]


def median_steps(passes: list[Json]) -> dict[int, Json]:
    """N -> each figure's median (and min/max under key + '_range') over the passes that reached N."""
    by_n: dict[int, list[Json]] = collections.defaultdict(list)
    for p in passes:
        for step in p["steps"]:
            by_n[step["viewers"]].append(step)
    out: dict[int, Json] = {}
    for n, steps in sorted(by_n.items()):
        row: Json = {"runs": len(steps)}
        for key in steps[0]:
            values = [s[key] for s in steps if isinstance(s.get(key), int | float)
                      and not isinstance(s.get(key), bool)]
            if values:
                row[key] = statistics.median(values)
                row[key + "_range"] = (min(values), max(values))
        out[n] = row
    return out


def zero_median(passes: list[Json], key: str) -> float:
    values = [p["zero"][key] for p in passes if "zero" in p]
    return statistics.median(values) if values else float("nan")


def baseline_same_n(baseline: dict[int, Json], n: int) -> tuple[int, float] | None:
    """The baseline's CPU per viewer at N (else at the largest N measured below it)."""
    below = [m for m in baseline if m <= n] or list(baseline)
    if not below:
        return None
    m = n if n in baseline else max(below)
    return m, float(baseline[m]["cores_per_viewer"])


def baseline_unsaturated(baseline: dict[int, Json]) -> tuple[int, float] | None:
    """The baseline's CPU per viewer at the largest N where it still delivered the stream (its
    worst viewer got >= 99 % of the frames, medians over runs): what a viewer really costs it.
    Beyond, the box is saturated and CPU / N only says how the same cores were shared."""
    held = [n for n, row in baseline.items() if row["delivered_min_pct"] >= FRAMES_TARGET_PCT]
    if not held:
        return None
    n = max(held)
    return n, float(baseline[n]["cores_per_viewer"])


def baseline_reference(baseline: dict[int, Json]) -> Callable[[int], float | None]:
    """The bar for tribune's CPU target at N: the unsaturated baseline, else the same N."""
    unsaturated = baseline_unsaturated(baseline)

    def ref(n: int) -> float | None:
        if unsaturated is not None:
            return unsaturated[1]
        same = baseline_same_n(baseline, n)
        return same[1] if same else None

    return ref


def print_kind(kind: str, passes: list[Json], medians: dict[int, Json]) -> None:
    if not medians:
        return
    ns = list(medians)
    width = max(len(label) for _, label in FIGURES)
    zero_cores, zero_rss = zero_median(passes, "server_cores"), zero_median(passes, "server_rss_mb")
    print(f"\n{LABEL[kind]}: medians over {len(passes)} run(s); 0 viewers: server "
          f"{fmt(zero_cores)} cores, RSS {fmt(zero_rss)} MB")
    print(f"{'figure':<{width}}  " + "  ".join(f"{'N=' + str(n):>10}" for n in ns))
    print("-" * (width + 12 * len(ns)))
    for key, label in FIGURES:
        print(f"{label:<{width}}  " + "  ".join(f"{fmt(medians[n].get(key)):>10}" for n in ns))


def print_comparison(tribune: dict[int, Json], baseline: dict[int, Json],
                     given: float | None = None) -> None:
    if not tribune:
        return
    unsaturated = baseline_unsaturated(baseline)
    ref = baseline_reference(baseline) if baseline or given is None else (lambda n: given)
    print("\ntribune vs baseline: server CPU per viewer (cores; median, min-max over runs), the ratio "
          "baseline/tribune, and the targets")
    print(f"(CPU/viewer <= 1/{CPU_TARGET_RATIO:.0f} of the baseline's, every viewer >= "
          f"{FRAMES_TARGET_PCT:.0f} % of the frames, join p95 < {JOIN_TARGET_MS / 1000:.0f} s); "
          + (f"the CPU bar is the baseline where it still delivers the stream, N={unsaturated[0]}: "
             f"{fmt(unsaturated[1])} core/viewer" if unsaturated else
             "the baseline never delivered the stream here: the CPU bar is its same-N figure, a floor"
             if baseline else f"the CPU bar is --baseline-ref {given}" if given
             else "no baseline measured"))
    print(f"{'N':>5}  {'tribune':>22}  {'baseline, same N':>24}  {'ratio':>7}  {'ratio*':>7}  verdict")
    for n, t in tribune.items():
        low, high = t["cores_per_viewer_range"]
        tri = f"{fmt(t['cores_per_viewer'])} ({fmt(low)}-{fmt(high)})"
        same = baseline_same_n(baseline, n)
        bas, ratio = "-", float("nan")
        if same is not None:
            blow, bhigh = baseline[same[0]]["cores_per_viewer_range"]
            bas = (f"{fmt(same[1])} ({fmt(blow)}-{fmt(bhigh)})" if same[0] == n
                   else f"{fmt(same[1])} at N={same[0]}")
            ratio = same[1] / t["cores_per_viewer"] if t["cores_per_viewer"] > 0 else float("inf")
        reference = ref(n)
        ratio_ref = (reference / t["cores_per_viewer"] if reference and t["cores_per_viewer"] > 0
                     else float("nan"))
        missed = holds(t, reference)
        verdict = "targets held" if not missed else "missed: " + "; ".join(missed)
        if reference is None:
            verdict += " (no baseline measured: CPU target not checked)"
        print(f"{n:>5}  {tri:>22}  {bas:>24}  {fmt(ratio):>7}  {fmt(ratio_ref):>7}  {verdict}")
    print("ratio: the baseline at the same N over tribune; ratio*: the CPU bar over tribune (>= "
          f"{CPU_TARGET_RATIO:.0f} holds the target)")
    for n, b in baseline.items():
        if b["delivered_min_pct"] < FRAMES_TARGET_PCT or b["machine_busy_pct"] > 90:
            print(f"baseline at N={n}: saturated (worst viewer {fmt(b['delivered_min_pct'])} %, median "
                  f"{fmt(b['delivered_median_pct'])} % of the frames, machine {fmt(b['machine_busy_pct'])} % "
                  "busy): its CPU per viewer there is a floor, not its cost")


def print_problems(passes: list[Json]) -> None:
    printed = False
    for p in passes:
        for problem in p["problems"]:
            print(f"{p['kind']} run {p['run']}: {problem}")
            printed = True
        for line in p.get("server_warnings", [])[:8]:
            print(f"{p['kind']} run {p['run']} server: {line}")
        for step in p["steps"]:
            if step["not_connected"]:
                print(f"{p['kind']} run {p['run']} N={step['viewers']}: {step['not_connected']} viewers "
                      "not connected at the end of the window")
                printed = True
    if not printed:
        print("no failed joins, dropped connections or server warnings")


def clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities as null, tuples as lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value




def print_report(args: argparse.Namespace, passes: dict[str, list[Json]], medians: dict[str, dict[int, Json]],
                 session: str, elapsed_s: float) -> None:
    """The whole printout: the setting, a table per server, the comparison, find-max, problems."""
    stream = f"{args.width}x{args.height} @ {args.fps} fps VP8, {args.bitrate // 1000} kbps" + \
             (", with audio" if args.audio else ", video only")
    print(f"\nrelay bench: 1 publisher ({stream}), session {session}, {args.runs} run(s), "
          f"{args.seconds:.0f} s window after {args.warmup:.0f} s warm-up, joins at {args.join_rate:.0f}/s, "
          f"{args.per_proc} viewers per process, {os.cpu_count()} cores, {elapsed_s:.0f} s")
    for kind in KINDS:
        print_kind(kind, passes[kind], medians[kind])
    print_comparison(medians["tribune"], medians["baseline"], args.baseline_ref)
    if args.find_max:
        largest = [p["largest_n_held"] for p in passes["tribune"]]
        if largest:
            print(f"\nlargest N holding the targets (tribune, steps {args.find_max_steps}): per run "
                  f"{largest}, median {statistics.median(largest):.0f}"
                  + (" (the last step held: try larger steps)"
                     if max(largest) >= max(args.find_max_steps) else ""))
    print_problems(passes["tribune"] + passes["baseline"])
