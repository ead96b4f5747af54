"""Going live: how long waiting players take to get the first frame once the studio is on air.

    python -m bench.golive [--players 10] [--runs 5] [--procs 1] [--mode push|poll|both]

A server (`run.py`, one process, media on 127.0.0.1) and two load-generating processes: a studio
(aiortc, the test pattern encoded live, 640x480) and N waiting players (aiortc WHEP clients,
`live/media/client.py`) in `--procs` processes, each with its own WebSocket to the session. A player
waits as the participant page does (static/js/player.js), then plays:
- `push`: it asks WHEP when its WebSocket says `Broadcast` `{live: true}` (docs/protocol.md);
- `poll`: it polls the readout every 3 s plus up to 3 s of jitter, as the page did before, for
  comparison.
Each run: the players wait, the studio publishes; the delay is from the studio's WHIP 201 (the
moment `publish()` returned: the 201 and setting the answer, a few ms) to the first complete video
frame at each player's receiver (both CLOCK_MONOTONIC, system-wide on Linux). The studio then stops
(DELETE) and the players hang up. Prints each run's p50/p95, the same over all runs, and the CPU of
the server and of the generators over the window from publishing to the last first frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    Json,
    PipeProcess,
    ServerProcess,
    free_port,
    issue_tokens,
    percentile,
    print_environment,
    proc_cpu_s,
)

SESSION = "pleniere-geopolitique"  # streamed = true in live/data/rencontres-2020.toml
SECRET = "bench-golive-secret-0123456789abcdef"
AIR_POLL_S = 3.0  # static/js/player.js AIR_POLL_MS, the poll the page used to rely on alone


def serve(conn: Connection, handlers: dict[str, Any]) -> None:
    """A child's event loop, running all along (the peers need it between commands), taking one
    command at a time from the pipe and answering each with a dict."""

    from live.media import internals

    # Loopback only: aioice leaves 127.0.0.1 out of its host candidates unless told (and must
    # never probe another interface: /work/shared/design/media-relay-notes.md).
    internals.restrict_host_addresses(["127.0.0.1"])

    async def loop() -> None:
        while True:
            try:
                cmd, arg = await asyncio.to_thread(conn.recv)
            except EOFError:
                return
            try:
                result = await handlers[cmd](arg)
            except Exception as exc:  # reported to the parent, which stops the bench
                result = {"error": repr(exc)}
            conn.send(result)
            if cmd == "quit":
                return

    asyncio.run(loop())


def studio_main(conn: Connection, base: str, token: str) -> None:
    from live.media.client import Peer, TestPatternTrack, publish

    peers: list[Peer] = []

    async def go_live(_: Json) -> Json:
        peers.append(await publish(f"{base}/whip", token, [TestPatternTrack(640, 480)]))
        return {"live_at": time.monotonic()}

    async def stop(_: Json) -> Json:
        while peers:
            await peers.pop().close()  # DELETE: the broadcast ends
        return {}

    serve(conn, {"go_live": go_live, "stop": stop, "quit": stop})


def players_main(conn: Connection, base: str, ws_url: str, token: str) -> None:
    import httpx2 as httpx
    import websockets

    from live.media.client import Peer, tls_context, watch

    state: dict[str, Any] = {"tasks": [], "peers": [], "sockets": []}

    async def wait_for_air(mode: str, ready: asyncio.Event, count: list[int],
                           n: int) -> tuple[float, float, float]:
        ws = await websockets.connect(ws_url, max_size=2**20)
        state["sockets"].append(ws)
        await ws.send(json.dumps({"type": "Hello", "v": 1, "token": token}))
        while json.loads(await ws.recv())["type"] != "Snapshot":
            pass
        count[0] += 1
        if count[0] == n:
            ready.set()
        if mode == "push":
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "Broadcast" and message["live"]:
                    break
        else:
            async with httpx.AsyncClient(timeout=10, verify=tls_context()) as http:
                delay = random.random() * 2 * AIR_POLL_S  # pages load at any time
                for _ in range(100):
                    await asyncio.sleep(delay)
                    readout = await http.get(f"{base}/broadcast",
                                             headers={"authorization": f"Bearer {token}"})
                    if readout.json()["live"]:
                        break
                    delay = AIR_POLL_S + random.random() * AIR_POLL_S
        heard = time.monotonic()  # told (push), or the readout said live (poll)
        peer: Peer = await watch(f"{base}/whep", token)
        answered = time.monotonic()
        state["peers"].append(peer)
        await peer.first_frame.wait()
        first = peer.received["video"].first_at
        assert first is not None
        return heard, answered, first

    async def wait(arg: Json) -> Json:
        ready, count = asyncio.Event(), [0]
        state["tasks"] = [asyncio.ensure_future(wait_for_air(arg["mode"], ready, count, arg["n"]))
                          for _ in range(arg["n"])]
        await asyncio.wait_for(ready.wait(), 30)
        return {"ready": count[0]}

    async def collect(arg: Json) -> Json:
        done, pending = await asyncio.wait(state["tasks"], timeout=arg["timeout"])
        for task in pending:
            task.cancel()
        return {"first": [t.result() for t in done if not t.exception()],
                "errors": [repr(t.exception()) for t in done if t.exception()],
                "late": len(pending)}

    async def close(_: Json) -> Json:
        while state["peers"]:
            await state["peers"].pop().close()
        while state["sockets"]:
            await state["sockets"].pop().close()
        return {}

    serve(conn, {"wait": wait, "collect": collect, "close": close, "quit": close})


def start_server(log_level: str) -> ServerProcess:
    port = free_port()
    cmd = [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", log_level]
    env = {"TRIBUNE_SECRET": SECRET, "TRIBUNE_MEDIA_ADDRESSES": "127.0.0.1",
           "TRIBUNE_MAX_VIEWERS_PER_ADDRESS": "100000", "TRIBUNE_MAX_VIEWERS": "100000"}
    return ServerProcess(cmd, env, port, unset=["TRIBUNE_REDIS_URL", "TRIBUNE_ICE_SERVERS",
                                                "TRIBUNE_CLOCK", "TRIBUNE_PROGRAMME"])


async def each(processes: list[PipeProcess], cmd: str, args: list[Json]) -> list[Json]:
    return list(await asyncio.gather(*(asyncio.to_thread(p.request, cmd, arg)
                                       for p, arg in zip(processes, args, strict=True))))


async def one_run(args: argparse.Namespace, mode: str, server: ServerProcess, studio: PipeProcess,
                  players: list[PipeProcess]) -> Json:
    shares = [len(range(i, args.players, len(players))) for i in range(len(players))]
    await each(players, "wait", [{"mode": mode, "n": n} for n in shares])
    await asyncio.sleep(1.0)  # the sockets settle; in poll mode the polls are under way

    def reading() -> tuple[float, float, float, float]:
        return (time.monotonic(), server.cpu_s(), proc_cpu_s(studio.pid),
                sum(proc_cpu_s(p.pid) for p in players))

    start = reading()
    live_at = (await asyncio.to_thread(studio.request, "go_live", {}))["live_at"]
    answers = await each(players, "collect", [{"timeout": 20}] * len(players))
    end = reading()
    got = {"first": [t for a in answers for t in a["first"]],
           "errors": [e for a in answers for e in a["errors"]],
           "late": sum(a["late"] for a in answers)}
    await asyncio.to_thread(studio.request, "stop", {})
    await each(players, "close", [{}] * len(players))
    wall = end[0] - start[0]
    delays = [round((first - live_at) * 1000, 1) for _, _, first in got["first"]]
    # Where the time goes: told (or polled), WHEP answered, first frame; medians from the 201.
    phases = {name: percentile([(times[i] - live_at) * 1000 for times in got["first"]], 50)
              for i, name in enumerate(("heard_p50_ms", "answered_p50_ms", "first_p50_ms"))}
    return {"mode": mode, "delays_ms": delays, **phases, "errors": got["errors"], "late": got["late"],
            "p50_ms": percentile(delays, 50), "p95_ms": percentile(delays, 95),
            "window_s": round(wall, 2), "server_cores": round((end[1] - start[1]) / wall, 3),
            "studio_cores": round((end[2] - start[2]) / wall, 3),
            "players_cores": round((end[3] - start[3]) / wall, 3)}


async def main(args: argparse.Namespace) -> Json:
    out: Json = {"environment": print_environment(), "players": args.players,
                 "processes": args.procs, "runs": []}
    server = start_server(args.server_log_level)
    ctx = mp.get_context("spawn")
    base = f"http://127.0.0.1:{server.port}/sessions/{SESSION}"
    ws_url = f"ws://127.0.0.1:{server.port}/ws/sessions/{SESSION}"
    tokens = issue_tokens(SECRET, {"studio": ("studio", SESSION), "participant": ("participant", "*")})
    studio = PipeProcess(ctx, studio_main, base, tokens["studio"])
    players = [PipeProcess(ctx, players_main, base, ws_url, tokens["participant"])
               for _ in range(args.procs)]
    try:
        await server.wait_healthy()
        modes = ["push", "poll"] if args.mode == "both" else [args.mode]
        for number in range(1, args.runs + 1):
            for mode in modes:
                run = await one_run(args, mode, server, studio, players)
                run["run"] = number
                out["runs"].append(run)
                print(f"run {number} {mode}: first frame p50 {run['p50_ms']:.0f} ms, "
                      f"p95 {run['p95_ms']:.0f} ms ({len(run['delays_ms'])} of {args.players}, "
                      f"{run['late']} late, {len(run['errors'])} errors; medians: heard "
                      f"{run['heard_p50_ms']:.0f}, WHEP answered {run['answered_p50_ms']:.0f} ms); server "
                      f"{run['server_cores']} cores, generators: studio {run['studio_cores']}, "
                      f"players {run['players_cores']} cores", flush=True)
                await asyncio.sleep(1.0)
        for mode in modes:
            runs = [r for r in out["runs"] if r["mode"] == mode]
            every = [d for r in runs for d in r["delays_ms"]]
            summary = {"p50_ms": percentile(every, 50), "p95_ms": percentile(every, 95),
                       "count": len(every), "of": args.players * len(runs),
                       "run_p95s_ms": [r["p95_ms"] for r in runs],
                       "players_cores_median": percentile([r["players_cores"] for r in runs], 50),
                       "studio_cores_median": percentile([r["studio_cores"] for r in runs], 50),
                       "server_cores_median": percentile([r["server_cores"] for r in runs], 50)}
            out[mode] = summary
            print(f"{mode}, all runs: p50 {summary['p50_ms']:.0f} ms, p95 {summary['p95_ms']:.0f} ms "
                  f"({summary['count']} of {summary['of']} first frames; run p95s "
                  f"{summary['run_p95s_ms']}); CPU medians: server {summary['server_cores_median']}, "
                  f"studio {summary['studio_cores_median']}, players "
                  f"{summary['players_cores_median']} cores", flush=True)
        if args.server_log_level == "info":
            print("\n".join(server.tail))
        if server.warnings:
            print(f"server warnings: {dict(server.warnings)}: {server.warning_lines[:3]}")
    finally:
        for child in (*players, studio):
            try:
                await asyncio.wait_for(asyncio.to_thread(child.request, "quit", {}), 10)
            except Exception:
                child.process.kill()
        server.stop()
    return out


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--procs", type=int, default=1,
                        help="processes the players are spread over (a browser page has its own)")
    parser.add_argument("--mode", choices=["push", "poll", "both"], default="both")
    parser.add_argument("--server-log-level", default="warning")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (bench/results/…)")
    args = parser.parse_args()
    out = asyncio.run(main(args))
    path = args.out or ROOT / "bench" / "results" / f"golive-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"results: {path}")


if __name__ == "__main__":
    cli()
