"""Interaction benchmark: K real WebSocket participants, a moderator and a stage against one server.

Run from the repository root, with the project's virtualenv:

    .venv/bin/python -m bench.interaction                       # K=1000, in-memory store, 3 runs
    .venv/bin/python -m bench.interaction --redis               # same, Redis store and bus
    .venv/bin/python -m bench.interaction --participants 3000 --client-procs 2 --runs 3 --json out.json

Each run starts a fresh server (`run.py` as a subprocess, on a free port of 127.0.0.1, with a random
TRIBUNE_SECRET and, for Redis, a random TRIBUNE_KEY_PREFIX whose keys are deleted afterwards), spreads
the K participants over W client processes, and keeps the moderator and the stage in this process, all
on session `pleniere-geopolitique`. The scenario:

1. connect: all K participants connect (Hello, Welcome, Snapshot): wall time and handshake p50/p99;
2. idle: server VmRSS before any client and after K idle connections: KB per connection;
3. question flood (premoderation off): 50 questions from 50 distinct participants over ~2 s; the
   send time rides in the question text, so the latency to the moderator and the fan-out latency to
   every participant (the author included) use one clock (`time.time()`, same machine);
4. vote burst: the moderator creates, opens and reveals a 3-option poll; each participant casts one
   ballot at a random moment within 2 s; ballot Ack latency p50/p99, and the time from the last Ack
   to the first stage Tally showing every acknowledged ballot with the exact per-option counts;
5. server CPU (utime + stime from /proc/<pid>/stat) during the flood and the burst, and per 1,000
   connections.

It prints one table at the end: the median of each figure over the runs and its spread (min-max),
then anything that went wrong (errors by code, closed connections by close code, missing deliveries,
late tallies). `--json FILE` also writes every run's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import secrets
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.common import PipeProcess, ServerProcess, free_port, issue_tokens, percentile, raise_fd_limit

SESSION = "pleniere-geopolitique"
QUESTIONS = 50
FLOOD_SECONDS = 2.0
VOTE_WINDOW = 2.0
POLL_OPTIONS = ["Oui", "Non", "Sans avis"]
CONNECT_CONCURRENCY = 64  # handshakes in flight per client process
TAG = re.compile(r"^bench-q(\d+) sent=(\d+\.\d+)$")

Json = dict[str, Any]


# -- small helpers ------------------------------------------------------------------------------


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


def question_text(qi: int) -> str:
    return f"bench-q{qi} sent={time.time():.6f}"


def parse_tag(text: object) -> tuple[int, float] | None:
    match = TAG.match(text) if isinstance(text, str) else None
    return (int(match[1]), float(match[2])) if match else None


# -- one client connection (participants in the workers; moderator and stage in the main process) --


@dataclass
class Peer:
    url: str
    token: str
    ws: ClientConnection | None = None
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    pending: dict[str, asyncio.Future[tuple[float, Json]]] = field(default_factory=dict)
    questions: dict[int, float] = field(default_factory=dict)  # question -> latency (s)
    close_code: int | None = None
    on_message: Callable[[float, Json], None] | None = None
    on_question: Callable[[int], None] | None = None
    reader: asyncio.Task[None] | None = None
    refs: int = 0

    async def open(self, timeout: float) -> None:
        self.ws = await connect(self.url, compression=None, ping_interval=None, max_size=2**20,
                                open_timeout=timeout, close_timeout=2)
        await self.ws.send(json.dumps({"type": "Hello", "v": 1, "token": self.token}))
        self.reader = asyncio.create_task(self._read())
        async with asyncio.timeout(timeout):
            await self.synced.wait()
        if self.close_code is not None:
            raise ConnectionError(f"closed during the handshake: {self.close_code}")

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                now = time.time()
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "QuestionAsked":
                    tag = parse_tag((msg.get("question") or {}).get("text"))
                    if tag is not None and tag[0] not in self.questions:
                        self.questions[tag[0]] = now - tag[1]
                        if self.on_question is not None:
                            self.on_question(tag[0])
                elif kind in ("Ack", "Error"):
                    future = self.pending.pop(str(msg.get("ref")), None)
                    if future is not None and not future.done():
                        future.set_result((now, msg))
                elif kind == "Snapshot":
                    self.synced.set()
                if self.on_message is not None:
                    self.on_message(now, msg)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code if self.ws.close_code is not None else -1
            self.synced.set()
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"closed: {self.close_code}"))

    async def command(self, type_: str, timeout: float = 30.0, **fields: Any) -> tuple[float, Json]:
        """Send a command; return (the time its Ack or Error arrived, that reply)."""
        assert self.ws is not None
        self.refs += 1
        ref = f"r{self.refs}"
        future: asyncio.Future[tuple[float, Json]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = future
        await self.ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
        async with asyncio.timeout(timeout):
            return await future

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(BaseException):
                await self.reader


# -- the client worker process ---------------------------------------------------------------------


class Worker:
    """K/W participants in one process; answers the orchestrator's commands over a pipe."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.peers: list[Peer] = []
        self.received = 0
        self.all_received = asyncio.Event()
        self.target = 0

    def _count(self, _qi: int) -> None:
        self.received += 1
        if self.target and self.received >= self.target:
            self.all_received.set()

    async def handle(self, cmd: str, arg: Json) -> Json:
        cpu = self_cpu_s()
        result = await getattr(self, f"do_{cmd}")(**arg)
        result["client_cpu_s"] = self_cpu_s() - cpu
        return dict(result)

    async def do_connect(self, count: int, timeout: float) -> Json:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        durations: list[float] = []
        failures: collections.Counter[str] = collections.Counter()

        async def one() -> None:
            peer = Peer(self.url, self.token, on_question=self._count)
            async with gate:
                start = time.perf_counter()
                try:
                    await peer.open(timeout)
                except Exception as exc:
                    failures[type(exc).__name__ + (f" {peer.close_code}" if peer.close_code else "")] += 1
                    await peer.close()
                    return
                durations.append(time.perf_counter() - start)
                self.peers.append(peer)

        start = time.time()
        await asyncio.gather(*(one() for _ in range(count)))
        return {"connected": len(self.peers), "durations": durations, "failures": dict(failures),
                "start": start, "end": time.time()}

    async def do_ask(self, plan: list[tuple[int, int, float]]) -> Json:
        """plan: (local peer index, question number, absolute send time)."""
        latencies: list[float] = []
        errors: collections.Counter[str] = collections.Counter()

        async def one(index: int, qi: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.time()))
            peer = self.peers[index]
            sent = time.time()
            try:
                received, reply = await peer.command(
                    "AskQuestion", text=question_text(qi), anonymous=True, client_key=f"bench-{qi}")
            except Exception as exc:
                errors[type(exc).__name__] += 1
                return
            if reply["type"] == "Ack":
                latencies.append(received - sent)
            else:
                errors[reply.get("code", "?")] += 1

        await asyncio.gather(*(one(*p) for p in plan))
        return {"ack_latencies": latencies, "errors": dict(errors)}

    async def do_collect_questions(self, questions: int, timeout: float) -> Json:
        alive = [p for p in self.peers if p.close_code is None]
        self.target = len(alive) * questions
        if self.received < self.target:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.all_received.wait()
        latencies = [lat for p in self.peers for lat in p.questions.values()]
        return {"latencies": latencies, "expected": len(alive) * questions,
                "missing_peers": sum(1 for p in alive if len(p.questions) < questions)}

    async def do_vote(self, poll_id: str, start_at: float, window: float, seed: int,
                      timeout: float) -> Json:
        rng = random.Random(seed)
        counts = [0] * len(POLL_OPTIONS)
        latencies: list[float] = []
        errors: collections.Counter[str] = collections.Counter()
        last_ack = 0.0

        async def one(peer: Peer, delay: float, choice: int) -> None:
            nonlocal last_ack
            await asyncio.sleep(max(0.0, start_at + delay - time.time()))
            sent = time.time()
            try:
                received, reply = await peer.command("CastBallot", timeout=timeout, poll_id=poll_id,
                                                     choices=[choice])
            except Exception as exc:
                errors[type(exc).__name__] += 1
                return
            if reply["type"] != "Ack":
                errors[reply.get("code", "?")] += 1
                return
            counts[choice] += 1
            latencies.append(received - sent)
            last_ack = max(last_ack, received)

        plan = [(p, rng.random() * window, rng.randrange(len(POLL_OPTIONS)))
                for p in self.peers if p.close_code is None]
        await asyncio.gather(*(one(*item) for item in plan))
        return {"counts": counts, "ack_latencies": latencies, "errors": dict(errors),
                "last_ack": last_ack, "voters": len(plan)}

    async def do_status(self) -> Json:
        codes = collections.Counter(str(p.close_code) for p in self.peers if p.close_code is not None)
        return {"closed": dict(codes), "open": sum(1 for p in self.peers if p.close_code is None)}

    async def do_close(self) -> Json:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(p.close() for p in self.peers))
        return {}


def worker_main(conn: Connection, url: str, token: str, fds: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    raise_fd_limit(fds)
    asyncio.run(_worker_loop(conn, url, token))


async def _worker_loop(conn: Connection, url: str, token: str) -> None:
    worker = Worker(url, token)
    while True:
        try:
            cmd, arg = await asyncio.to_thread(conn.recv)
        except EOFError:
            cmd, arg = "close", {}
        try:
            result = await worker.handle(cmd, arg)
        except Exception as exc:
            result = {"error": f"{cmd}: {exc!r}"}
        if cmd == "close":
            with contextlib.suppress(OSError):
                conn.send(result)
            return
        conn.send(result)


class WorkerHandle(PipeProcess):
    """A client worker process (`worker_main`)."""

    def __init__(self, ctx: Any, url: str, token: str, fds: int) -> None:
        super().__init__(ctx, worker_main, url, token, fds)

    async def call(self, cmd: str, **arg: Any) -> Json:
        return await asyncio.to_thread(self.request, cmd, arg)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


async def call_all(workers: list[WorkerHandle], cmd: str, args: list[Json] | None = None) -> list[Json]:
    args = args or [{} for _ in workers]
    return list(await asyncio.gather(*(w.call(cmd, **a) for w, a in zip(workers, args, strict=True))))


# -- the server ------------------------------------------------------------------------------------


def start_server(port: int, redis_url: str | None, secret: str, prefix: str) -> ServerProcess:
    """run.py on 127.0.0.1:`port`; with `redis_url`, on the Redis store and bus."""
    cmd = [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if redis_url:
        cmd += ["--redis", redis_url]
    return ServerProcess(cmd, {"TRIBUNE_SECRET": secret, "TRIBUNE_KEY_PREFIX": prefix}, port,
                         unset=["TRIBUNE_REDIS_URL"])


def delete_redis_keys(url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


# -- one run ---------------------------------------------------------------------------------------


@dataclass
class Observed:
    """What the moderator and the stage saw, timed on arrival."""

    polls: dict[str, str] = field(default_factory=dict)  # poll question -> poll id
    watch_poll: str | None = None
    tallies: list[tuple[float, int, list[int] | None]] = field(default_factory=list)

    def moderator_message(self, now: float, msg: Json) -> None:
        if msg.get("type") == "PollCreated" and msg.get("poll"):
            self.polls[msg["poll"]["question"]] = msg["poll"]["id"]

    def stage_message(self, now: float, msg: Json) -> None:
        if msg.get("type") == "Tally" and self.watch_poll is not None:
            poll = msg.get("polls", {}).get(self.watch_poll)
            if poll is not None:
                self.tallies.append((now, poll["ballots"], poll["counts"]))


async def ok(peer: Peer, type_: str, **fields: Any) -> Json:
    _, reply = await peer.command(type_, **fields)
    if reply["type"] != "Ack":
        raise RuntimeError(f"{type_} refused: {reply}")
    return reply


async def run_once(args: argparse.Namespace, run: int) -> Json:
    k, w = args.participants, args.client_procs
    port, secret = free_port(), secrets.token_urlsafe(24)
    prefix = f"bench-{secrets.token_hex(6)}"
    redis_url = args.redis_url if args.redis else None
    tokens = issue_tokens(secret, {"participant": ("participant", "*"), "moderator": ("moderator", SESSION),
                                   "stage": ("stage", SESSION)})
    url = f"ws://127.0.0.1:{port}/ws/sessions/{SESSION}"
    fds = k // w + 256
    ctx = mp.get_context("spawn")
    workers = [WorkerHandle(ctx, url, tokens["participant"], fds) for _ in range(w)]
    share = [k // w + (1 if i < k % w else 0) for i in range(w)]
    problems: list[str] = []
    out: Json = {"run": run, "participants": k, "client_procs": w, "store": "redis" if redis_url
                 else "memory"}
    seen = Observed()
    moderator = Peer(url, tokens["moderator"], on_message=seen.moderator_message)
    stage = Peer(url, tokens["stage"], on_message=seen.stage_message)
    server = start_server(port, redis_url, secret, prefix)
    try:
        await server.wait_healthy()
        await asyncio.sleep(0.5)
        out["rss_before_mb"] = server.rss_kb() / 1024
        await moderator.open(10)
        await stage.open(10)
        out["rss_hub_mb"] = server.rss_kb() / 1024

        # (1) connect all K
        res = await call_all(workers, "connect", [{"count": n, "timeout": 60.0} for n in share])
        connected = sum(r["connected"] for r in res)
        durations = [d for r in res for d in r["durations"]]
        wall = max(r["end"] for r in res) - min(r["start"] for r in res)
        out.update(connected=connected, connect_s=wall, connect_rate=connected / wall,
                   connect_p50_ms=percentile(durations, 50) * 1000,
                   connect_p99_ms=percentile(durations, 99) * 1000,
                   connect_client_cpu_s=sum(r["client_cpu_s"] for r in res))
        for r in res:
            for what, n in r["failures"].items():
                problems.append(f"connect failed ({what}): {n}")

        # (2) idle memory
        await asyncio.sleep(args.settle)
        out["rss_idle_mb"] = server.rss_kb() / 1024
        out["kb_per_conn"] = (out["rss_idle_mb"] - out["rss_before_mb"]) * 1024 / max(connected, 1)
        out["kb_per_conn_after_hub"] = (out["rss_idle_mb"] - out["rss_hub_mb"]) * 1024 / max(connected, 1)

        # (3) question flood, premoderation off
        await ok(moderator, "SetPremoderation", enabled=False)
        picks = [i * connected // QUESTIONS for i in range(QUESTIONS)]
        bounds = [0]
        for r in res:
            bounds.append(bounds[-1] + r["connected"])
        start = time.time() + 0.3
        plans: list[list[tuple[int, int, float]]] = [[] for _ in workers]
        for qi, g in enumerate(picks):
            wi = next(i for i in range(w) if bounds[i] <= g < bounds[i + 1])
            plans[wi].append((g - bounds[wi], qi, start + qi * FLOOD_SECONDS / QUESTIONS))
        cpu0 = server.cpu_s()
        res = await call_all(workers, "ask", [{"plan": p} for p in plans])
        flood_client_cpu = sum(r["client_cpu_s"] for r in res)
        for r in res:
            for code, n in r["errors"].items():
                problems.append(f"question refused ({code}): {n}")
        asked = sum(len(r["ack_latencies"]) for r in res)
        await wait_until(lambda: len(moderator.questions) >= asked, 30)
        mod_lat = list(moderator.questions.values())
        res = await call_all(workers, "collect_questions",
                             [{"questions": asked, "timeout": 30.0} for _ in workers])
        out["q_flood_cpu_s"] = server.cpu_s() - cpu0
        fan = [lat for r in res for lat in r["latencies"]]
        expected = sum(r["expected"] for r in res)
        out.update(questions_acked=asked, q_moderator_p50_ms=percentile(mod_lat, 50) * 1000,
                   q_moderator_p99_ms=percentile(mod_lat, 99) * 1000,
                   q_fanout_p50_ms=percentile(fan, 50) * 1000, q_fanout_p99_ms=percentile(fan, 99) * 1000,
                   q_fanout_max_ms=max(fan, default=float("nan")) * 1000,
                   q_fanout_delivered_pct=100 * len(fan) / max(expected, 1),
                   q_flood_client_cpu_s=flood_client_cpu + sum(r["client_cpu_s"] for r in res))
        if len(mod_lat) < asked:
            problems.append(f"moderator saw {len(mod_lat)}/{asked} questions")
        if len(fan) < expected:
            problems.append(f"fan-out delivered {len(fan)}/{expected} "
                            f"({sum(r['missing_peers'] for r in res)} participants incomplete)")

        # (4) vote burst
        question = f"Bench poll {run}"
        await ok(moderator, "CreatePoll", question=question, options=POLL_OPTIONS, multiple=False)
        poll_id = seen.polls[question]
        await ok(moderator, "OpenPoll", poll_id=poll_id)
        await ok(moderator, "RevealResults", poll_id=poll_id)
        seen.watch_poll = poll_id
        await asyncio.sleep(1.0)  # let PollOpened / ResultsRevealed reach everyone
        cpu0 = server.cpu_s()
        start = time.time() + 0.3
        res = await call_all(workers, "vote", [
            {"poll_id": poll_id, "start_at": start, "window": VOTE_WINDOW, "seed": run * 1000 + i,
             "timeout": 30.0} for i in range(w)])
        counts = [sum(r["counts"][i] for r in res) for i in range(len(POLL_OPTIONS))]
        acked = sum(counts)
        last_ack = max(r["last_ack"] for r in res)
        acks = [lat for r in res for lat in r["ack_latencies"]]
        for r in res:
            for code, n in r["errors"].items():
                problems.append(f"ballot refused ({code}): {n}")
        if acked != k:
            problems.append(f"ballots acknowledged: {acked}/{k}")

        def final_tally() -> tuple[float, int, list[int] | None] | None:
            return next((t for t in seen.tallies if t[1] == acked and t[2] == counts), None)

        await wait_until(lambda: final_tally() is not None, 15)
        cpu1 = server.cpu_s()
        tally = final_tally()
        out.update(ballots_acked=acked, ballot_ack_p50_ms=percentile(acks, 50) * 1000,
                   ballot_ack_p99_ms=percentile(acks, 99) * 1000,
                   ballot_ack_max_ms=max(acks, default=float("nan")) * 1000,
                   burst_s=(tally[0] if tally else time.time()) - start,
                   burst_cpu_s=cpu1 - cpu0, burst_cpu_per_1k_s=(cpu1 - cpu0) * 1000 / max(connected, 1),
                   burst_client_cpu_s=sum(r["client_cpu_s"] for r in res),
                   tally_after_last_ack_ms=(tally[0] - last_ack) * 1000 if tally else float("nan"),
                   stage_tallies=len(seen.tallies))
        if tally is None:
            last = seen.tallies[-1] if seen.tallies else None
            problems.append(f"stage never showed {acked} ballots {counts} within 15 s "
                            f"(last tally: {last[1:] if last else None})")
        out["rss_end_mb"] = server.rss_kb() / 1024

        # (5) closes and server warnings
        res = await call_all(workers, "status")
        closed: collections.Counter[str] = collections.Counter()
        for r in res:
            closed.update(r["closed"])
        out["closed"] = dict(closed)
        for code, n in closed.items():
            problems.append(f"participants closed by the server (code {code}): {n}")
        for who, peer in (("moderator", moderator), ("stage", stage)):
            if peer.close_code is not None:
                problems.append(f"{who} closed (code {peer.close_code})")
    finally:
        with contextlib.suppress(Exception):
            await call_all(workers, "close")
        await moderator.close()
        await stage.close()
        for handle in workers:
            handle.stop()
        server.stop()
        for level, n in server.warnings.items():
            problems.append(f"server log lines with {level}: {n}")
        if server.warnings:
            out["server_tail"] = list(server.tail)[-15:]
        if redis_url:
            out["redis_keys_deleted"] = await asyncio.to_thread(delete_redis_keys, redis_url, prefix)
    out["problems"] = problems
    return out


# -- reporting -------------------------------------------------------------------------------------

FIGURES: list[tuple[str, str]] = [
    ("connected", "participants connected"),
    ("connect_s", "connect all K: wall time (s)"),
    ("connect_rate", "connect rate (conn/s)"),
    ("connect_p50_ms", "handshake p50 (ms)"),
    ("connect_p99_ms", "handshake p99 (ms)"),
    ("rss_before_mb", "server RSS before any client (MB)"),
    ("rss_idle_mb", "server RSS with K idle (MB)"),
    ("kb_per_conn", "RSS per idle connection (KB)"),
    ("q_moderator_p50_ms", "question -> moderator p50 (ms)"),
    ("q_moderator_p99_ms", "question -> moderator p99 (ms)"),
    ("q_fanout_p50_ms", "question -> participants p50 (ms)"),
    ("q_fanout_p99_ms", "question -> participants p99 (ms)"),
    ("q_fanout_max_ms", "question -> participants max (ms)"),
    ("q_fanout_delivered_pct", "fan-out delivered (%)"),
    ("q_flood_cpu_s", "server CPU, flood (s)"),
    ("ballots_acked", "ballots acknowledged"),
    ("ballot_ack_p50_ms", "ballot Ack p50 (ms)"),
    ("ballot_ack_p99_ms", "ballot Ack p99 (ms)"),
    ("ballot_ack_max_ms", "ballot Ack max (ms)"),
    ("tally_after_last_ack_ms", "last Ack -> exact stage tally (ms)"),
    ("burst_s", "burst: start -> exact stage tally (s)"),
    ("burst_cpu_s", "server CPU, vote burst (s)"),
    ("burst_cpu_per_1k_s", "server CPU, burst per 1,000 conn (s)"),
    ("rss_end_mb", "server RSS at the end (MB)"),
    ("connect_client_cpu_s", "client procs CPU, connect (s)"),
    ("q_flood_client_cpu_s", "client procs CPU, flood (s)"),
    ("burst_client_cpu_s", "client procs CPU, burst (s)"),
]


PROGRESS = ("connected", "connect_s", "kb_per_conn", "q_fanout_p99_ms", "ballot_ack_p99_ms",
            "tally_after_last_ack_ms", "burst_cpu_s")


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def summarise(runs: list[Json]) -> list[tuple[str, float, float, float]]:
    rows = []
    for key, label in FIGURES:
        values = [float(r[key]) for r in runs if key in r]
        if values:
            rows.append((label, statistics.median(values), min(values), max(values)))
    return rows


def print_table(args: argparse.Namespace, runs: list[Json]) -> None:
    store = "redis" if args.redis else "memory"
    print(f"\ntribune interaction bench: K={args.participants} participants, {store} store, "
          f"{args.client_procs} client procs, {len(runs)} run(s), session {SESSION}")
    width = max(len(label) for _, label in FIGURES)
    print(f"{'figure':<{width}}  {'median':>10}  {'spread (min-max)':>22}")
    print("-" * (width + 36))
    for label, median, low, high in summarise(runs):
        print(f"{label:<{width}}  {fmt(median):>10}  {fmt(low) + ' - ' + fmt(high):>22}")
    for r in runs:
        for problem in r.get("problems", []):
            print(f"run {r['run']}: {problem}")
        for line in r.get("server_tail", []):
            print(f"run {r['run']} server: {line}")
    if not any(r.get("problems") for r in runs):
        print("no errors, closed connections, missing deliveries or late tallies")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", "-k", type=int, default=1000, help="K (default 1000)")
    parser.add_argument("--client-procs", "-w", type=int, default=2, help="W client processes (2)")
    parser.add_argument("--redis", action="store_true", help="use the Redis store and bus")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--runs", "-r", type=int, default=3, help="runs, each a fresh server (3)")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before the RSS read")
    parser.add_argument("--json", metavar="FILE", help="also write every run's figures here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.participants < QUESTIONS:
        parser.error(f"--participants must be at least {QUESTIONS}")
    raise_fd_limit(args.participants + 512)  # the server inherits it
    runs = []
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        result = asyncio.run(run_once(args, run))
        runs.append(result)
        print(f"run {run}/{args.runs} done in {time.monotonic() - started:.0f} s: "
              + ", ".join(f"{key}={fmt(float(result[key]))}" for key in PROGRESS if key in result),
              flush=True)
    print_table(args, runs)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
