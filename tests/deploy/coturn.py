"""coturn from Debian's package, run with the deployment's own deploy/turnserver.conf; only the
machine-dependent options (addresses, ports, files) are given on the command line, as
docker-compose.yml does. Meant to run inside a test's network namespace."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import ROOT
from tests.processes import stop_process, wait_listening

CONFIG = ROOT / "deploy" / "turnserver.conf"
TURN_SECRET = "deploy-tests-turn-secret-0123456789"
# Outside Linux's ephemeral range (32768-60999): a browser's or aiortc's own UDP sockets never get
# one of these ports, so a firewall rule can tell coturn's relayed traffic from theirs.
RELAY_PORTS = (20000, 20099)
TLS_PORT = 5349  # deploy/turnserver.conf's tls-listening-port


def self_signed(address: str, directory: Path) -> tuple[Path, Path]:
    """A certificate for `address` (its own CA: a client can verify it), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(address))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "turn.crt", directory / "turn.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass(frozen=True)
class Turn:
    address: str
    port: int
    relay_address: str
    log: Path

    def url(self, transport: str) -> str:
        return f"turn:{self.address}:{self.port}?transport={transport}"


@contextlib.contextmanager
def coturn(address: str, allowed_peer: str, port: int = 3478,
           tls: tuple[Path, Path] | None = None) -> Iterator[Turn]:
    """coturn on `address`, relaying from it, allowed to reach `allowed_peer` and no other private
    address. --allow-loopback-peers lifts coturn's built-in loopback ban (everything here is
    loopback), so the config's denied-peer-ip=127.0.0.0-127.255.255.255 is what refuses the rest.
    With `tls` (certificate, key), TURN over TLS too, on the config's tls-listening-port (5349)."""
    binary = shutil.which("turnserver")
    assert binary is not None, "coturn is missing: apt-get install coturn (scripts/test does)"
    workdir = Path(tempfile.mkdtemp(prefix="coturn-"))
    log = workdir / "turnserver.log"
    command = [
        binary, "-c", str(CONFIG), f"--static-auth-secret={TURN_SECRET}",
        f"--listening-ip={address}", f"--relay-ip={address}", f"--listening-port={port}",
        f"--allowed-peer-ip={allowed_peer}", "--allow-loopback-peers",
        f"--min-port={RELAY_PORTS[0]}", f"--max-port={RELAY_PORTS[1]}",
        f"--pidfile={workdir / 'pid'}", f"--userdb={workdir / 'turndb'}", "--verbose",
        *([f"--cert={tls[0]}", f"--pkey={tls[1]}"] if tls else ["--no-tls"]),
    ]
    with log.open("wb") as out:  # the config logs to stdout, as in a container
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_listening(process, address, port, "turnserver")
        if tls:
            wait_listening(process, address, TLS_PORT, "turnserver")
        yield Turn(address, port, address, log)
    finally:
        stop_process(process, 5)
        shutil.rmtree(workdir, ignore_errors=True)
