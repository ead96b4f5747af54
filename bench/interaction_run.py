"""One run of the interaction bench: a fresh server (`run.py --workers N`), K participants in client
processes over S sessions, a moderator in each session and the stage here; connect, idle, then the
burst (every participant of the burst session votes within the window while questions flood in
across the sessions); the figures of that run."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import multiprocessing as mp
import os
import secrets
import sys
import time
from dataclasses import dataclass, field

from bench.common import ServerTree, free_port, issue_tokens, machine_busy_s, percentile
from bench.interaction_clients import WorkerHandle, call_all
from bench.interaction_peer import POLL_OPTIONS, SESSION, Json, Peer, ok, wait_until
from bench.interaction_plan import flood_plan, process_shares, session_shares, socket_counts

SETTLE_START = 1.0  # seconds between the server's health and the first RSS reading
# The load generators' most of the machine a valid run leaves them (the issue's rule: a third).
GENERATOR_SHARE_MAX = 1 / 3
TALLY_WAIT = 15.0  # seconds the stage may take to show the exact tally before it counts as missed


def start_server(port: int, redis_url: str | None, secret: str, prefix: str, workers: int) -> ServerTree:
    cmd = [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--workers", str(workers)]
    if redis_url:
        cmd += ["--redis", redis_url]
    return ServerTree(cmd, {"TRIBUNE_SECRET": secret, "TRIBUNE_KEY_PREFIX": prefix}, port,
                      unset=["TRIBUNE_REDIS_URL", "TRIBUNE_WORKER", "TRIBUNE_CLOCK"])


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


async def delivered(clients: list[WorkerHandle], peers: list[Peer]) -> int:
    """WebSocket messages the server delivered so far to every participant, moderator and stage."""
    replies = await call_all(clients, "frames")
    return sum(int(r["frames"]) for r in replies) + sum(p.frames for p in peers)


async def run_once(args: argparse.Namespace, run: int, workers: int) -> Json:
    k, w = args.participants, args.client_procs
    port, secret = free_port(), secrets.token_urlsafe(24)
    prefix = f"bench-{secrets.token_hex(6)}"
    redis_url = args.redis_url if args.redis else None
    sessions: list[str] = args.session_ids  # the burst session first
    tokens = issue_tokens(secret, {"participant": ("participant", "*"), "stage": ("stage", SESSION),
                                   **{s: ("moderator", s) for s in sessions}})
    url = f"ws://127.0.0.1:{port}/ws/sessions/"
    ctx = mp.get_context("spawn")
    clients = [WorkerHandle(ctx, url, tokens["participant"], k // w + 256) for _ in range(w)]
    shares = process_shares(session_shares(k, sessions), w)
    problems: list[str] = []
    out: Json = {"run": run, "workers": workers, "participants": k, "client_procs": w,
                 "sessions": len(sessions), "store": "redis" if redis_url else "memory"}
    seen = Observed()
    # A moderator in each session gets its questions; the burst session's also watches its polls.
    moderators = {s: Peer(url + s, tokens[s], on_message=seen.moderator_message if s == SESSION else None)
                  for s in sessions}
    moderator = moderators[SESSION]
    stage = Peer(url + SESSION, tokens["stage"], on_message=seen.stage_message)
    server = start_server(port, redis_url, secret, prefix, workers)
    try:
        await server.wait_healthy(60)
        for peer in (*moderators.values(), stage):
            await peer.open(10)
        await asyncio.sleep(SETTLE_START)
        out["rss_before_mb"] = server.rss_kb() / 1024

        # (1) connect all K
        connect_cpu0 = server.cpu_s()
        res = await call_all(clients, "connect", [{"counts": c, "timeout": 60.0} for c in shares])
        connected = sum(r["connected"] for r in res)
        # The server's CPU per connection: TCP accept, HTTP upgrade, WebSocket handshake, Hello,
        # token check, Welcome and Snapshot (what a wave of joins costs, whatever the clients').
        out["connect_server_ms_per_conn"] = (server.cpu_s() - connect_cpu0) * 1000 / max(connected, 1)
        peer_sessions: list[list[str]] = [r["sessions"] for r in res]
        voters = sum(s == SESSION for each in peer_sessions for s in each)
        durations = [d for r in res for d in r["durations"]]
        wall = max(r["end"] for r in res) - min(r["start"] for r in res)
        out.update(connected=connected, connect_s=wall, connect_rate=connected / wall,
                   connect_p50_ms=percentile(durations, 50) * 1000,
                   connect_p99_ms=percentile(durations, 99) * 1000,
                   connect_client_cpu_s=sum(r["client_cpu_s"] for r in res), burst_session_connected=voters)
        if workers > 1:  # the kernel hands each connection to whichever worker accepts it first
            out["worker_sockets"] = socket_counts(server.pids()[1:])
        for r in res:
            for what, n in r["failures"].items():
                problems.append(f"connect failed ({what}): {n}")

        # (2) idle memory: every process of the server together
        await asyncio.sleep(args.settle)
        out["rss_idle_mb"] = server.rss_kb() / 1024
        out["kb_per_conn"] = (out["rss_idle_mb"] - out["rss_before_mb"]) * 1024 / max(connected, 1)
        out["rss_per_1k_mb"] = out["kb_per_conn"]  # KB per connection = MB per 1,000

        # (3) the burst: a revealed poll everyone votes in within the window, questions meanwhile
        question = f"Bench poll {run}"
        await ok(moderator, "CreatePoll", question=question, options=POLL_OPTIONS, multiple=False)
        await wait_until(lambda: question in seen.polls, 10)
        poll_id = seen.polls[question]
        await ok(moderator, "OpenPoll", poll_id=poll_id)
        await ok(moderator, "RevealResults", poll_id=poll_id)
        if args.fanout:
            for each in moderators.values():
                await ok(each, "SetPremoderation", enabled=False)
        seen.watch_poll = poll_id
        await asyncio.sleep(1.0)  # let PollOpened / ResultsRevealed reach everyone
        start = time.time() + 0.5
        plans = flood_plan(peer_sessions, sessions, args.questions, start, args.window)
        frames0 = await delivered(clients, [*moderators.values(), stage])
        cpu0, wall0, own0, busy0 = server.cpu_s(), time.monotonic(), time.process_time(), machine_busy_s()
        res = await call_all(clients, "burst", [
            {"session": SESSION, "poll_id": poll_id, "start_at": start, "window": args.window,
             "seed": run * 1000 + i, "plan": plans[i], "timeout": 30.0} for i in range(w)])
        counts = [sum(r["counts"][i] for r in res) for i in range(len(POLL_OPTIONS))]
        acked, asked = sum(counts), sum(len(r["ask_acks"]) for r in res)
        last_sent, last_ack = max(r["last_sent"] for r in res), max(r["last_ack"] for r in res)
        ballot_acks = [lat for r in res for lat in r["ballot_acks"]]
        for r in res:
            for code, n in r["errors"].items():
                problems.append(f"refused or failed: {code}: {n}")
            busy = r["client_cpu_s"] / max(r["client_wall_s"], 1e-9)
            if busy > 0.85:
                problems.append(f"a client process was CPU-bound in the burst ({busy:.0%}): "
                                "its latencies include its own queueing (add --client-procs)")
        if acked != voters:
            problems.append(f"ballots acknowledged: {acked}/{voters}")

        def final_tally() -> tuple[float, int, list[int] | None] | None:
            return next((t for t in seen.tallies if t[1] == acked and t[2] == counts), None)

        def moderators_saw() -> int:
            return sum(len(m.questions) for m in moderators.values())

        await wait_until(lambda: final_tally() is not None and moderators_saw() >= asked, TALLY_WAIT)
        cpu1, wall1, own1, busy1 = server.cpu_s(), time.monotonic(), time.process_time(), machine_busy_s()
        messages = await delivered(clients, [*moderators.values(), stage]) - frames0
        tally = final_tally()
        # The load generators (client processes, and this one: the moderator and the stage) and
        # their share of the machine over the burst: past a third, the server's figures include
        # queueing for the CPU the generators took, and the run does not measure the server alone.
        generators = sum(r["client_cpu_s"] for r in res) + (own1 - own0)
        share = generators / max(wall1 - wall0, 1e-9) / (os.cpu_count() or 1)
        if share > GENERATOR_SHARE_MAX:
            problems.append(f"invalid: the load generators took {share:.0%} of the machine in the "
                            f"burst (over {GENERATOR_SHARE_MAX:.0%}): add cores or lighten them")
        mod_lat = [lat for m in moderators.values() for lat in m.questions.values()]
        out.update(
            questions_acked=asked, q_moderator_p50_ms=percentile(mod_lat, 50) * 1000,
            q_moderator_p99_ms=percentile(mod_lat, 99) * 1000,
            q_moderator_max_ms=max(mod_lat, default=float("nan")) * 1000,
            ballots_acked=acked, ballot_ack_p50_ms=percentile(ballot_acks, 50) * 1000,
            ballot_ack_p99_ms=percentile(ballot_acks, 99) * 1000,
            tally_after_last_vote_ms=(tally[0] - last_sent) * 1000 if tally else float("nan"),
            tally_after_last_ack_ms=(tally[0] - last_ack) * 1000 if tally else float("nan"),
            burst_cpu_s=cpu1 - cpu0, burst_cores=(cpu1 - cpu0) / max(wall1 - wall0, 1e-9),
            burst_cpu_per_1k_s=(cpu1 - cpu0) * 1000 / max(connected, 1),
            burst_messages=messages, burst_us_per_message=(cpu1 - cpu0) * 1e6 / max(messages, 1),
            burst_client_cpu_s=sum(r["client_cpu_s"] for r in res),
            burst_generators_pct=share * 100,
            burst_machine_pct=(busy1 - busy0) / max(wall1 - wall0, 1e-9) / (os.cpu_count() or 1) * 100,
            stage_tallies=len(seen.tallies))
        if len(mod_lat) < asked:
            problems.append(f"moderator saw {len(mod_lat)}/{asked} questions")
        if tally is None:
            last = seen.tallies[-1] if seen.tallies else None
            problems.append(f"stage never showed {acked} ballots {counts} within {TALLY_WAIT:.0f} s "
                            f"(last tally: {last[1:] if last else None})")

        if args.fanout:  # every participant sees every question (premoderation off)
            planned = collections.Counter(sessions[qi % len(sessions)] for qi in range(asked))
            res = await call_all(clients, "collect_questions",
                                 [{"questions": dict(planned), "timeout": 30.0} for _ in clients])
            fan = [lat for r in res for lat in r["latencies"]]
            expected = sum(r["expected"] for r in res)
            out.update(q_fanout_p50_ms=percentile(fan, 50) * 1000,
                       q_fanout_p99_ms=percentile(fan, 99) * 1000,
                       q_fanout_delivered_pct=100 * len(fan) / max(expected, 1))
            if len(fan) < expected:
                problems.append(f"fan-out delivered {len(fan)}/{expected}")
        out["rss_end_mb"] = server.rss_kb() / 1024

        # (4) connections the server closed
        closed: collections.Counter[str] = collections.Counter()
        for r in await call_all(clients, "status"):
            closed.update(r["closed"])
        out["closed"] = dict(closed)
        for code, n in closed.items():
            problems.append(f"participants closed by the server (code {code}): {n}")
        for who, peer in (*((f"moderator of {s}", m) for s, m in moderators.items()), ("stage", stage)):
            if peer.close_code is not None:
                problems.append(f"{who} closed (code {peer.close_code})")
    finally:
        with contextlib.suppress(Exception):
            await call_all(clients, "close")
        for peer in (*moderators.values(), stage):
            await peer.close()
        for handle in clients:
            handle.stop()
        server.stop()
        for level, n in server.warnings.items():
            problems.append(f"server log lines with {level}: {n}")
        if server.warnings:  # the first warnings, and how the output ended
            out["server_tail"] = [*server.warning_lines[:4], "...", *list(server.tail)[-12:]]
        if redis_url:
            out["redis_keys_deleted"] = await asyncio.to_thread(delete_redis_keys, redis_url, prefix)
    out["problems"] = problems
    return out
