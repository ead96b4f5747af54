"""One run of bench/interpretation.py: a fresh server, the studio and interpreters, the listener
workers; the three phases (mouth -> ear, language switch, load) and their raw figures."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT, ServerProcess, free_port, percentile
from bench.interpretation_peers import listener_main, publisher_main
from bench.interpretation_report import PATHS, delivery, load_figures, match_bursts, spread
from bench.relay_measure import readout, sleep_until
from bench.relay_report import fmt
from bench.relay_system import (
    PeerProcess,
    machine_jiffies,
    remember_child,
    udp_drops,
    udp_drops_between,
)

SESSION = "pleniere-interpretee"  # bench/interpretation_programme.toml
LANGUAGES = ("en", "es", "de")  # the programme's interpretation languages
SECRET = "bench-interpretation-secret-32ch"  # signs the bench's own tokens
FREQUENCY = {"floor": 1000.0, "en": 440.0, "es": 550.0, "de": 660.0}  # Hz of each one's tone

Json = dict[str, Any]
# wall clock, server CPU s, machine (busy, total) jiffies, load generators' CPU s, server waiting s,
# the publishers' share of the generators' CPU s
Snapshot = tuple[float, float, tuple[int, int], float, float, float]


def runqueue_wait_s(pid: int) -> float:
    """Seconds the process's main thread (the server's event loop) has spent ready to run but
    waiting for a core (/proc/<pid>/schedstat): high when the machine, not the server, is short."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def tokens() -> Json:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from live.domain import Role
    from live.web.auth import Signer

    signer, expires = Signer(SECRET), int(time.time()) + 86_400
    return {"studio": signer.issue(Role.STUDIO, SESSION, expires),
            "participant": signer.issue(Role.PARTICIPANT, "*", expires),
            **{lang: signer.issue(Role.INTERPRETER, SESSION, expires, language=lang)
               for lang in LANGUAGES}}


def start_server(programme: Path, log_level: str) -> ServerProcess:
    port = free_port()
    cmd = [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", log_level, "--programme", str(programme)]
    env = {"TRIBUNE_SECRET": SECRET, "TRIBUNE_MEDIA_ADDRESSES": "127.0.0.1",
           # every listener comes from 127.0.0.1 here: the per-address and per-process bounds
           # are not what is measured
           "TRIBUNE_MAX_VIEWERS_PER_ADDRESS": "100000", "TRIBUNE_MAX_VIEWERS": "100000"}
    server = ServerProcess(cmd, env, port, unset=["TRIBUNE_REDIS_URL", "TRIBUNE_ICE_SERVERS",
                                                  "TRIBUNE_CLOCK", "TRIBUNE_PROGRAMME"])
    remember_child(server.stop)
    return server


class Run:
    """One run's server, peers and readings."""

    def __init__(self, args: argparse.Namespace, number: int) -> None:
        self.args, self.number = args, number
        self.ctx = mp.get_context("spawn")
        self.tokens = tokens()
        self.server = start_server(args.programme, args.server_log_level)
        self.base = f"http://127.0.0.1:{self.server.port}/sessions/{SESSION}"
        self.publishers: dict[str, PeerProcess] = {}  # "floor" (the studio), or a language
        self.workers: list[PeerProcess] = []
        self.placed: dict[PeerProcess, list[int]] = {}  # listener numbers in each worker
        self.probe: PeerProcess | None = None
        self.out: Json = {"run": number, "problems": [], "latency": {}, "switch": {}, "steps": []}
        self.cpus = os.cpu_count() or 1

    def loadgen(self) -> list[PeerProcess]:
        return [*self.publishers.values(), *self.workers, *([self.probe] if self.probe else [])]

    def snapshot(self) -> Snapshot:
        return (time.time(), self.server.cpu_s(), machine_jiffies(),
                sum(p.cpu_s() for p in self.loadgen()), runqueue_wait_s(self.server.pid),
                sum(p.cpu_s() for p in self.publishers.values()))

    def load_since(self, before: Snapshot) -> Json:
        now = self.snapshot()
        span = max(1e-6, now[0] - before[0])
        busy = 100 * (now[2][0] - before[2][0]) / max(1, now[2][1] - before[2][1])
        load = load_figures((now[1] - before[1]) / span, busy, (now[3] - before[3]) / span, self.cpus)
        load["server_waiting_pct"] = 100 * (now[4] - before[4]) / span
        load["publishers_cores"] = (now[5] - before[5]) / span
        return load

    async def on_air(self, key: str, mode: str) -> None:
        """The studio (key "floor") or a language's interpreter publishes, until it is on air."""
        publisher = self.publishers[key] = PeerProcess(self.ctx, publisher_main)
        url = f"{self.base}/whip" if key == "floor" else f"{self.base}@{key}/whip"
        await publisher.call("start", url=url, token=self.tokens["studio" if key == "floor" else key],
                             video=self.args.video_source if key == "floor" else "",
                             bitrate=self.args.bitrate,
                             frequency=FREQUENCY[key], burst_frames=self.args.burst_ms // 20,
                             seed=1000 * self.number + len(self.publishers), mode=mode, timeout=10.0)
        readout_url = f"{self.base}/broadcast" if key == "floor" else f"{self.base}@{key}/broadcast"
        deadline = time.monotonic() + 15
        while not (await asyncio.to_thread(readout, readout_url, self.tokens["participant"])).get("live"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{key} not on air within 15 s")
            await asyncio.sleep(0.1)

    async def join(self, worker: PeerProcess, plan: list[list[Any]], token: str) -> list[Json]:
        args = self.args
        result = await worker.call("join", wait=len(plan) / args.join_rate + 3 * args.join_timeout + 30,
                                   url=f"{self.base}/whep", token=token, plan=plan,
                                   timeout=args.join_timeout)
        joined: list[Json] = result["joined"]
        for j in joined:
            if j["error"]:
                self.out["problems"].append(f"listener {j['index']}: {j['error']}")
        return joined

    # -- 1. mouth -> ear ---------------------------------------------------------------------------

    def listener_process(self, poll_ms: float = 0.0) -> PeerProcess:
        """poll_ms: read the sockets that often (bench/lean_rtp.py, `Poller`), not on each datagram."""
        lean = self.args.listener_path == "socket"
        return PeerProcess(self.ctx, listener_main, self.args.listener_rcvbuf, lean,
                           poll_ms if lean else 0.0)

    async def start_probe(self) -> PeerProcess:
        """The player of the floor on the English channel (0) and the English interpreter's ear (1)."""
        self.probe = probe = self.listener_process()
        now = time.time()
        await self.join(probe, [[0, now, "en", True, ["video", "audio", "audio"]]],
                        self.tokens["participant"])
        await self.join(probe, [[1, now, None, False, ["audio"]]], self.tokens["en"])
        await asyncio.sleep(1.0)
        return probe

    async def latency(self) -> None:
        self.probe = await self.start_probe()
        before = self.snapshot()
        t0 = time.time()
        for key in ("floor", "en"):
            await self.publishers[key].call("mode", mode="bursts")
        await asyncio.sleep(self.args.bursts * 0.5)
        for key in ("floor", "en"):
            await self.publishers[key].call("mode", mode="silence")
        t1 = time.time()
        self.out["latency"]["load"] = self.load_since(before)
        await asyncio.sleep(1.5)  # the last bursts arrive
        sent = {key: (await self.publishers[key].call("bursts", t0=t0, t1=t1))["bursts"]
                for key in ("floor", "en")}
        heard = {"interpreter_to_listener": ("en", 0, "audio"),
                 "floor_to_interpreter": ("floor", 1, "audio"),
                 "floor_to_listener": ("floor", 0, "audio#2")}
        for key, (source, index, section) in heard.items():
            packets = (await self.probe.call("loud", index=index, section=section, t0=t0,
                                             t1=t1 + 1.5))["packets"]
            matched = match_bursts([tuple(b) for b in sent[source]], [tuple(p) for p in packets])
            self.out["latency"][key] = {**spread(matched["delays_ms"]), "sent": matched["sent"],
                                        "delays_ms": [round(d, 1) for d in matched["delays_ms"]]}
            if "error" in matched:
                self.out["problems"].append(f"{key}: {matched['error']}")
        figures = self.out["latency"]
        print(f"  run {self.number}: mouth -> ear p50/p95 (ms): " + "; ".join(
            f"{key} {figures[key]['p50']:.0f}/{figures[key]['p95']:.0f} ({figures[key]['n']} of "
            f"{figures[key]['sent']})" for key, _ in PATHS), flush=True)

    # -- 2. language switch --------------------------------------------------------------------------

    async def switch(self) -> None:
        assert self.probe is not None
        await self.publishers["en"].call("mode", mode="tone")
        await asyncio.sleep(0.5)
        before = self.snapshot()
        result = await self.probe.call("switch", wait=self.args.switches * 5 + 30, index=0,
                                       language="en", count=self.args.switches, pause=[0.3, 0.6],
                                       timeout=3.0, seed=self.number)
        self.out["switch"]["load"] = self.load_since(before)
        switches = result["switches"]
        self.out["switch"]["raw"] = switches
        for key, to in (("to_channel", "en"), ("to_floor", "floor")):
            rows = [s for s in switches if s["to"] == to]
            times = [s["switch_ms"] for s in rows if s["switch_ms"] is not None and s["status"] == 204]
            self.out["switch"][key] = {**spread(times), "failed": len(rows) - len(times),
                                       "put_p50": percentile([s["put_ms"] for s in rows], 50)}
        figures = self.out["switch"]
        print(f"  run {self.number}: switch p50/p95 (ms): to the channel "
              f"{figures['to_channel']['p50']:.0f}/{figures['to_channel']['p95']:.0f}, to the floor "
              f"{figures['to_floor']['p50']:.0f}/{figures['to_floor']['p95']:.0f}", flush=True)

    # -- 3. load -----------------------------------------------------------------------------------

    async def window(self, name: str, expected: int, joins: list[Json]) -> Json:
        args = self.args
        t0 = time.time() + 0.2
        t1 = t0 + args.seconds
        await sleep_until(t0)
        before = self.snapshot()
        owners = {"server": [self.server.pid], "publishers": [p.pid for p in self.publishers.values()],
                  "listeners": [w.pid for w in self.workers]}
        drops_before = udp_drops(owners)
        responses = asyncio.create_task(self.response_times(t1))
        await sleep_until(t1)
        load = self.load_since(before)
        drops = udp_drops_between(drops_before, udp_drops(owners))
        answered = await responses
        rss_mb = self.server.rss_kb() / 1024
        await sleep_until(t1 + args.delay + 0.5)  # the window's last packets arrive
        sent: dict[str, int] = {}
        lost: list[str] = []  # publishers whose connection ended: the step measured nothing
        keyframe_requests = None  # the studio's clip's, since it started
        for key, publisher in self.publishers.items():
            made = await publisher.call("window", t0=t0, t1=t1)
            sent["floor" if key == "floor" else key] = made["audio"]
            if key == "floor":
                sent["video"] = made["video"]
                keyframe_requests = made["keyframe_requests"]
            if made["state"] != "connected":
                lost.append(key)
                self.out["problems"].append(f"{name}: the {key} publisher's connection {made['state']}")
        rows = await asyncio.gather(*(w.call("window", t0=t0 + args.delay, t1=t1 + args.delay,
                                             sent=sent) for w in self.workers))
        listeners = [row for r in rows for row in r["listeners"]]
        lean = [r["lean"] for r in rows if r.get("lean")]  # the socket path's own check
        compared, mismatched = (sum(figures[k] for figures in lean) for k in ("compared", "mismatched"))
        if mismatched:
            self.out["problems"].append(f"{name}: {mismatched} of {compared} packets' sizes at the "
                                        f"socket differ from aiortc's: {lean[0]['examples'][:2]}")
        join_ms = [1000 * j["join_s"] for j in joins if j["join_s"] is not None]
        step = {"name": name, "server_rss_mb": rss_mb, **load, **delivery(listeners, sent, expected),
                "join_p50_ms": percentile(join_ms, 50), "join_p95_ms": percentile(join_ms, 95),
                "join_failures": sum(1 for j in joins if j["error"]), "publishers_lost": lost,
                "studio_keyframe_requests": keyframe_requests,
                "socket_path": {"compared": compared, "mismatched": mismatched,
                                "packets": sum(figures["fast_packets"] for figures in lean)},
                **{f"udp_drops_{owner}": drops.get(owner, 0) for owner in owners},
                "server_response_p95_ms": percentile(answered, 95),
                "server_response_max_ms": max(answered, default=float("nan")),
                "per_listener": [[row["index"], row["channel"], row.get("audio", {}).get("in_span"),
                                  row.get("video", {}).get("in_span"), row["state"]]
                                 for row in listeners]}
        print(f"  run {self.number}: {name}: server {step['server_cores']:.3f} cores, worst "
              f"listener {fmt(step['delivered_min_pct'])} %, generators {step['loadgen_cores']:.2f} "
              f"cores ({step['publishers_cores']:.2f} the publishers'), "
              f"machine {step['machine_busy_pct']:.0f} % busy"
              + ("" if step["valid"] else f" (invalid: {step['why_invalid']})")
              + f"; UDP dropped: server {step['udp_drops_server']}, listeners "
              f"{step['udp_drops_listeners']}; /healthz answered in {fmt(step['server_response_max_ms'])}"
              f" ms at most, the server waiting for a core {fmt(step['server_waiting_pct'])} % of the time",
              flush=True)
        return step

    async def response_times(self, until: float) -> list[float]:
        """How long the server takes to answer /healthz, 4 times a second until `until` (ms): its
        event loop's lag, which a busy machine or a busy server makes long."""
        times: list[float] = []
        url = f"http://127.0.0.1:{self.server.port}/healthz"

        def get() -> None:
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
                response.read()

        while time.time() < until - 0.25:
            started = time.monotonic()
            await asyncio.to_thread(get)
            times.append(1000 * (time.monotonic() - started))
            await asyncio.sleep(max(0.0, 0.25 - (time.monotonic() - started)))
        return times

    async def place(self, entries: list[list[Any]], per_proc: int, token: str) -> list[Json]:
        """Join these listeners (--join-rate a second), in new worker processes of `per_proc`."""
        start = time.time() + 1.0
        groups = [entries[i:i + per_proc] for i in range(0, len(entries), per_proc)]
        workers = [self.listener_process(self.args.listener_poll_ms) for _ in groups]
        self.workers += workers
        await asyncio.gather(*(w.call("ping", wait=60) for w in workers))
        start = max(start, time.time() + 0.3)
        for k, entry in enumerate(entries):
            entry[1] = start + k / self.args.join_rate
        results = await asyncio.gather(*(self.join(w, group, token)
                                         for w, group in zip(workers, groups, strict=True)))
        for worker, group in zip(workers, groups, strict=True):
            self.placed[worker] = [entry[0] for entry in group]
        return [j for r in results for j in r]

    async def load(self) -> None:
        args, steps = self.args, self.out["steps"]
        await asyncio.sleep(args.warmup)
        zero = await self.window("no listener, en on air", 0, [])
        steps.append(zero)
        n = args.listeners
        if n:
            joins = await self.place([[i, 0.0, "en", False, ["audio"]] for i in range(n)],
                                     args.per_proc_audio, self.tokens["participant"])
            await asyncio.sleep(args.warmup)
            step = await self.window(f"{n} audio-only listeners, en", n, joins)
            step["cores_per_listener"] = (step["server_cores"] - zero["server_cores"]) / n
            steps.append(step)
        v = args.video_viewers
        if v or n:
            for lang in LANGUAGES[1:]:
                await self.on_air(lang, "tone")
            # the audio-only listeners spread over the three channels, as players would choose
            for worker, indices in list(self.placed.items()):
                result = await worker.call("choose", choices=[[i, LANGUAGES[i % 3], False]
                                                              for i in indices])
                refused = [s for s in result["statuses"] if s != 204]
                if refused:
                    self.out["problems"].append(f"language choices refused: {refused[:5]}")
            choices: list[str | None] = [None, *LANGUAGES]
            joins = await self.place([[n + i, 0.0, choices[i % 4], True, ["video", "audio", "audio"]]
                                      for i in range(v)], args.per_proc_video,
                                     self.tokens["participant"]) if v else []
            await asyncio.sleep(args.warmup)
            steps.append(await self.window(
                f"{v} video viewers + {n} audio-only, 3 channels", n + v, joins))

    async def execute(self) -> Json:
        try:
            await self.server.wait_healthy()
            await self.on_air("floor", "silence")
            await self.on_air("en", "silence")
            if "latency" in self.args.phases:
                await self.latency()
            if "switch" in self.args.phases:
                if self.probe is None:
                    self.probe = await self.start_probe()
                await self.switch()
            if self.probe is not None:
                await self.probe.stop()  # not a load generator of the load steps
                self.probe = None
            if "load" in self.args.phases:
                await self.load()
        except Exception as exc:
            self.out["problems"].append(f"run stopped: {exc!r}"[:400])
        finally:
            peers = self.loadgen()
            await asyncio.gather(*(p.stop() for p in peers), return_exceptions=True)
            await asyncio.to_thread(self.server.stop)
            for level, count in self.server.warnings.items():
                self.out["problems"].append(f"server log lines with {level}: {count}")
            self.out["server_warnings"] = self.server.warning_lines
        return self.out
