"""Inside a test's network namespace: coturn with deploy/turnserver.conf, and TURN credentials
minted by tribune (live/media/ice.py). Prints one JSON line: what coturn granted and refused.

Addresses: coturn listens and relays on 127.0.0.3; the relay's media address (the one peer coturn
may reach) is 127.0.0.2; 127.0.0.1:6379 is where Redis would listen; 127.0.0.4 is any other
loopback host; TURN over TLS uses a certificate made for 127.0.0.3. Run by tests/deploy/test_turn.py,
never on the machine's own network.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from live.media.ice import IceServers
from tests.deploy.coturn import RELAY_PORTS, TLS_PORT, TURN_SECRET, coturn, self_signed
from tests.deploy.turnclient import TurnClient, TurnRefused

TURN, RELAY, REDIS, OTHER = "127.0.0.3", "127.0.0.2", ("127.0.0.1", 6379), "127.0.0.4"


def listener(address: tuple[str, int]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.3)
    return sock


def received(sock: socket.socket) -> bytes | None:
    try:
        return sock.recv(2048)
    except TimeoutError:
        return None


def outcome(action: Callable[[], object]) -> str:
    """"ok", or the error code coturn answered."""
    try:
        action()
    except TurnRefused as exc:
        return str(exc.code)
    return "ok"


def main() -> None:
    verdict: dict[str, object] = {}
    servers = IceServers((f"turn:{TURN}:3478?transport=udp",), TURN_SECRET, turn_ttl=300)
    expired = IceServers(servers.urls, TURN_SECRET, turn_ttl=60, clock=lambda: time.time() - 120)
    with tempfile.TemporaryDirectory(prefix="turn-tls-") as tls_dir:
        check(verdict, servers, expired, self_signed(TURN, Path(tls_dir)))
    print(json.dumps(verdict))


def check(verdict: dict[str, object], servers: IceServers, expired: IceServers,
          tls: tuple[Path, Path]) -> None:
    cert = tls[0]
    with coturn(TURN, allowed_peer=RELAY, tls=tls), listener((RELAY, 0)) as media, \
            listener(REDIS) as redis, listener((OTHER, 6379)) as other:
        fresh = servers.credentials("viewer")
        old = expired.credentials("viewer")
        assert fresh is not None and old is not None
        verdict["expired_username"] = old[0]
        with TurnClient((TURN, 3478), *old) as client:
            verdict["expired"] = outcome(client.allocate)
        with TurnClient((TURN, 3478), fresh[0], "not-the-password") as client:
            verdict["wrong_password"] = outcome(client.allocate)
        with TurnClient((TURN, 3478), *fresh) as client:
            relayed = client.allocate()
            verdict["allocated"] = list(relayed)
            verdict["relay_port_in_range"] = RELAY_PORTS[0] <= relayed[1] <= RELAY_PORTS[1]
            # The relay's media address is reachable: a permission, and a datagram arrives.
            media_address = media.getsockname()
            verdict["permit_relay"] = outcome(lambda: client.permit(media_address))
            client.send(media_address, b"to the relay")
            verdict["relay_received"] = (received(media) or b"").decode()
            # Redis's port on loopback, and any other loopback host: refused, nothing arrives.
            verdict["permit_redis"] = outcome(lambda: client.permit(REDIS))
            verdict["permit_other_loopback"] = outcome(lambda: client.permit((OTHER, 6379)))
            for target in (REDIS, (OTHER, 6379)):
                client.send(target, b"*1\r\n$4\r\nPING\r\n")
            verdict["redis_received"] = received(redis) is not None or received(other) is not None
        # TURN over TLS, for networks that let only TLS out: the same credentials work there.
        tls_fresh = servers.credentials("viewer")
        assert tls_fresh is not None
        with TurnClient((TURN, TLS_PORT), *tls_fresh, tls_ca=cert) as client:
            verdict["tls_allocated"] = list(client.allocate())


if __name__ == "__main__":
    main()
