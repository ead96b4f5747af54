"""Two machines, one event: a studio publishes to a tribune server on one machine (the origin); a
second tribune server on another machine (the edge), sharing its Redis and its secret, plays the
stream to its viewers and passes its participants' questions and ballots to the moderators of the
first. What it proves: an edge finds the origin through Redis and reaches its feed at the address
the origin announces (TRIBUNE_FEED_ADDRESS), and the interaction layer crosses machines as it
crosses workers.

The machines are two network namespaces made by the test, joined by a veth pair on 192.0.2.0/24
(a documentation network, routed nowhere): the origin 192.0.2.1 with a Redis of its own (no
persistence), the edge 192.0.2.2. Nothing inside reaches the machine's network or its Redis.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from live.domain import Role
from live.web.auth import Signer
from tests.conftest import ROOT, SESSION
from tests.netns import inside, namespace, require, run_module
from tests.processes import service_env, stop_process
from tests.waiting import wait_for_sync

SECRET = "two-machines-one-event-secret-0123"
ORIGIN, EDGE = "192.0.2.1", "192.0.2.2"
REDIS_PORT = 6390
REDIS_PASSWORD = "two-machines-redis-password"  # Redis refuses other hosts without one
# Both servers share a host name (a namespace has its own network, not its own UTS name), and their
# health heartbeats are keyed by host name and port: different ports keep them apart.
ORIGIN_PORT, EDGE_PORT = 8001, 8002
SCENARIO = "tests.deploy.scenario_two_hosts"


def sh(ns: str, *argv: str) -> None:
    subprocess.run(inside(ns, *argv), check=True, capture_output=True, timeout=10)


def join(origin_ns: str, edge_ns: str) -> None:
    """A veth pair, made inside the origin's namespace with its other end moved straight into the
    edge's: the machine's own namespace never holds either end."""
    sh(origin_ns, "ip", "link", "add", "wire", "type", "veth", "peer", "name", "wire", "netns", edge_ns)
    for ns, address in ((origin_ns, ORIGIN), (edge_ns, EDGE)):
        sh(ns, "ip", "link", "set", "wire", "addrgenmode", "none")  # no IPv6 link-local address
        sh(ns, "ip", "addr", "add", f"{address}/24", "dev", "wire")
        sh(ns, "ip", "link", "set", "wire", "up")


@contextmanager
def started(ns: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
            ) -> Iterator[subprocess.Popen[bytes]]:
    """A process inside `ns`, its output in `log`; stopped (SIGTERM, then SIGKILL) at the end."""
    with log.open("wb") as out:
        proc = subprocess.Popen(inside(ns, *argv), cwd=ROOT, env=service_env(**(env or {})),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop_process(proc, 5)


def tribune(address: str, port: int) -> list[str]:
    return [sys.executable, "run.py", "--host", address, "--port", str(port),
            "--redis", f"redis://:{REDIS_PASSWORD}@{ORIGIN}:{REDIS_PORT}/0", "--log-level", "warning"]


def test_an_edge_on_another_machine_relays_the_origin_and_shares_the_interaction(
        tmp_path: Path) -> None:
    require("ip", "redis-server")
    signer = Signer(SECRET)
    expires = int(time.time()) + 3600
    studio, moderator, participant = (signer.issue(role, SESSION, expires)
                                      for role in (Role.STUDIO, Role.MODERATOR, Role.PARTICIPANT))
    origin_url, edge_url = f"http://{ORIGIN}:{ORIGIN_PORT}", f"http://{EDGE}:{EDGE_PORT}"
    logs = {name: tmp_path / f"{name}.log" for name in ("redis", "origin", "edge", "studio")}
    with namespace() as origin_ns, namespace() as edge_ns, ExitStack() as running:
        join(origin_ns, edge_ns)
        running.enter_context(started(origin_ns, [
            "redis-server", "--bind", ORIGIN, "--port", str(REDIS_PORT), "--save", "",
            "--appendonly", "no", "--requirepass", REDIS_PASSWORD], logs["redis"]))
        wait_for_sync(lambda: "Ready to accept connections" in logs["redis"].read_text(), 10,
                      lambda: f"Redis ready\n{logs['redis'].read_text()}")
        # Each machine relays media on, and announces its feed at, its own address.
        for ns, address, port, name in ((origin_ns, ORIGIN, ORIGIN_PORT, "origin"),
                                        (edge_ns, EDGE, EDGE_PORT, "edge")):
            running.enter_context(started(ns, tribune(address, port), logs[name], {
                "TRIBUNE_SECRET": SECRET, "TRIBUNE_MEDIA_ADDRESSES": address,
                "TRIBUNE_FEED_ADDRESS": address}))
        running.enter_context(started(origin_ns, [
            sys.executable, "-m", SCENARIO, "studio", origin_url, studio], logs["studio"]))
        try:
            verdict = run_module(edge_ns, SCENARIO, "edge", origin_url, edge_url, moderator,
                                 participant, timeout=60)
        except AssertionError as exc:
            raise AssertionError("\n".join([str(exc)] + [
                f"--- {name}\n{path.read_text(errors='replace')[-3000:]}"
                for name, path in logs.items()])) from None
    # The viewer on the edge got the studio's stream, from the edge's relay, starting on a keyframe.
    assert verdict["frames"] >= 30 and verdict["first_is_keyframe"] is True, verdict
    assert verdict["media_from"] == EDGE, verdict
    # The participant's question, asked on the edge, reached the moderator on the origin (pending
    # moderation), and the ballot cast on the edge is in the origin's tally.
    assert verdict["question"] == {"text": "La question vient-elle de l'autre machine ?",
                                   "status": "pending"}, verdict
    assert verdict["tally"] == [0, 1], verdict
