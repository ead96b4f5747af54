"""What bench/relay.py reads of the machine and drives in it: /proc figures (CPU jiffies, UDP drops
and unread bytes per process group) and the publisher and viewer processes, all stopped at exit."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
from collections.abc import Callable
from typing import Any

from bench.common import PipeProcess, ServerProcess, ServerTree, proc_cpu_s

Json = dict[str, Any]

_CHILDREN: list[Callable[[], None]] = []  # stop functions of everything started, for a hard exit


def remember_child(stop: Callable[[], None]) -> None:
    """Have `kill_all_children` call `stop` (last started, first stopped)."""
    _CHILDREN.append(stop)


def kill_all_children() -> None:
    while _CHILDREN:
        with contextlib.suppress(Exception):
            _CHILDREN.pop()()


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


def udp_drops(owners: dict[str, list[int]], backlog: dict[str, int] | None = None
              ) -> dict[int, tuple[str, int]]:
    """Datagrams each UDP socket of these processes dropped so far (receive buffer full):
    socket inode -> (owner, drops). From /proc/<pid>/fd and /proc/net/udp{,6}. With `backlog`,
    also adds there the bytes waiting in each owner's receive queues (not yet read)."""
    inodes: dict[int, str] = {}
    for owner, pids in owners.items():
        for pid in pids:
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:["):
                            inodes[int(link[8:-1])] = owner
    out: dict[int, tuple[str, int]] = {}
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                inode = int(fields[9])
                if inode in inodes:
                    out[inode] = (inodes[inode], int(fields[-1]))
                    if backlog is not None:
                        backlog[inodes[inode]] = (backlog.get(inodes[inode], 0)
                                                  + int(fields[4].split(":")[1], 16))
    return out


def udp_drops_between(before: dict[int, tuple[str, int]],
                      after: dict[int, tuple[str, int]]) -> dict[str, int]:
    """Drops per owner, and per owner's worst socket (key "<owner>_max_socket")."""
    totals: dict[str, int] = collections.Counter()
    for inode, (owner, drops) in after.items():
        delta = drops - before.get(inode, (owner, 0))[1]
        totals[owner] += delta
        totals[f"{owner}_max_socket"] = max(totals[f"{owner}_max_socket"], delta)
    return dict(totals)


def udp_counters() -> dict[str, int]:
    """Machine-wide UDP counters (/proc/net/snmp): InDatagrams, RcvbufErrors, SndbufErrors…"""
    with open("/proc/net/snmp") as f:
        rows = [line.split()[1:] for line in f if line.startswith("Udp:")]
    return dict(zip(rows[0], (int(v) for v in rows[1]), strict=True))



class PeerProcess(PipeProcess):
    """A publisher or viewer-worker process (bench.relay_peers)."""

    def __init__(self, ctx: Any, target: Callable[..., None], *extra: Any) -> None:
        super().__init__(ctx, target, *extra)
        self.count = 0  # viewers placed here
        remember_child(self.kill)

    async def call(self, cmd: str, wait: float = 120.0, **arg: Any) -> Json:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.request, cmd, arg), wait)
        except TimeoutError:
            self.kill()  # unblocks the thread waiting on the pipe
            raise RuntimeError(f"{cmd}: no answer from pid {self.pid} in {wait:.0f} s") from None

    def cpu_s(self) -> float:
        try:
            return proc_cpu_s(self.pid)
        except OSError:
            return float("nan")

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.process.is_alive():
                await self.call("close", wait=20)
        await asyncio.to_thread(self.process.join, 5)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


def server_pids(server: ServerProcess) -> list[int]:
    return server.pids() if isinstance(server, ServerTree) else [server.pid]
