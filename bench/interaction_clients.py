"""The interaction bench's client processes: each holds a share of the K participants and answers the
orchestrator's commands (connect, burst, frames, collect, status, close) over a pipe.

Participants are `bench.lean_ws.LeanPeer`s on uvloop: the load generators must cost the machine
little, or the server's figures include queueing for the CPU they take (issue 13: a third at most)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import signal
import time
from multiprocessing.connection import Connection
from typing import Any

import uvloop

from bench.common import PipeProcess, raise_fd_limit
from bench.interaction_peer import POLL_OPTIONS, Json, question_text, self_cpu_s
from bench.lean_ws import FrameCount, LeanPeer

CONNECT_CONCURRENCY = 64  # handshakes in flight per client process


class Worker:
    """K/W participants in one process, each in one session."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url  # the sessions' URLs without the session: ws://host:port/ws/sessions/
        self.token = token
        self.peers: list[LeanPeer] = []
        self.sessions: list[str] = []  # each peer's session
        self.delivered = FrameCount()  # text frames every peer here received
        self.received = 0
        self.all_received = asyncio.Event()
        self.target = 0

    def _count(self, _qi: int) -> None:
        self.received += 1
        if self.target and self.received >= self.target:
            self.all_received.set()

    async def handle(self, cmd: str, arg: Json) -> Json:
        cpu, wall = self_cpu_s(), time.monotonic()
        result: Json = await getattr(self, f"do_{cmd}")(**arg)
        result["client_cpu_s"] = self_cpu_s() - cpu
        result["client_wall_s"] = time.monotonic() - wall
        return result

    async def do_connect(self, counts: dict[str, int], timeout: float) -> Json:
        """Connect `counts[session]` participants in each session."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        durations: list[float] = []
        failures: collections.Counter[str] = collections.Counter()

        async def one(session: str) -> None:
            peer = LeanPeer(self.url + session, self.token, self.delivered, on_question=self._count)
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
                self.sessions.append(session)

        start = time.time()
        await asyncio.gather(*(one(s) for s, n in counts.items() for _ in range(n)))
        return {"connected": len(self.peers), "sessions": self.sessions, "durations": durations,
                "failures": dict(failures), "start": start, "end": time.time()}

    async def do_burst(self, session: str, poll_id: str, start_at: float, window: float, seed: int,
                       plan: list[tuple[int, int, float]], timeout: float) -> Json:
        """Every live participant of `session` casts one ballot at a random moment of the window
        while the planned ones (of any session) ask questions (plan: local peer index, question
        number, send time)."""
        rng = random.Random(seed)
        counts = [0] * len(POLL_OPTIONS)
        ballot_acks: list[float] = []
        ask_acks: list[float] = []
        errors: collections.Counter[str] = collections.Counter()
        last = {"sent": 0.0, "ack": 0.0}

        async def vote(peer: LeanPeer, delay: float, choice: int) -> None:
            await asyncio.sleep(max(0.0, start_at + delay - time.time()))
            sent = time.time()
            last["sent"] = max(last["sent"], sent)
            try:
                received, reply = await peer.command("CastBallot", timeout=timeout, poll_id=poll_id,
                                                     choices=[choice])
            except Exception as exc:
                errors[f"ballot {type(exc).__name__}"] += 1
                return
            if reply["type"] != "Ack":
                errors[f"ballot {reply.get('code', '?')}"] += 1
                return
            counts[choice] += 1
            ballot_acks.append(received - sent)
            last["ack"] = max(last["ack"], received)

        async def ask(index: int, qi: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.time()))
            sent = time.time()
            try:
                received, reply = await self.peers[index].command(
                    "AskQuestion", timeout=timeout, text=question_text(qi), anonymous=True,
                    client_key=f"bench-{qi}")
            except Exception as exc:
                errors[f"question {type(exc).__name__}"] += 1
                return
            if reply["type"] == "Ack":
                ask_acks.append(received - sent)
            else:
                errors[f"question {reply.get('code', '?')}"] += 1

        votes = [(p, rng.random() * window, rng.randrange(len(POLL_OPTIONS)))
                 for p, s in zip(self.peers, self.sessions, strict=True)
                 if s == session and p.close_code is None]
        await asyncio.gather(*(vote(*v) for v in votes), *(ask(*q) for q in plan))
        return {"counts": counts, "ballot_acks": ballot_acks, "ask_acks": ask_acks,
                "errors": dict(errors), "last_sent": last["sent"], "last_ack": last["ack"],
                "voters": len(votes)}

    async def do_collect_questions(self, questions: dict[str, int], timeout: float) -> Json:
        """Wait until every live participant saw its session's questions (premoderation off)."""
        alive = [(p, questions.get(s, 0)) for p, s in zip(self.peers, self.sessions, strict=True)
                 if p.close_code is None]
        self.target = sum(n for _, n in alive)
        if self.received < self.target:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.all_received.wait()
        latencies = [lat for p in self.peers for lat in p.questions.values()]
        return {"latencies": latencies, "expected": self.target,
                "missing_peers": sum(1 for p, n in alive if len(p.questions) < n)}

    async def do_frames(self) -> Json:
        """The messages delivered to this process's participants so far (text frames)."""
        return {"frames": self.delivered.frames}

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
    uvloop.run(_worker_loop(conn, url, token))


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
    """A client process (`worker_main`)."""

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
