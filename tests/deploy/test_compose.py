"""docker-compose.yml: valid for Debian's docker-compose (`config -q`), and the deployment's
security properties hold in the configuration it resolves. No Docker engine is needed: the topology
itself runs natively in the other tests of this folder, from the same deploy/ files."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV = {
    "TRIBUNE_DOMAIN": "live.example.org",
    "TRIBUNE_PUBLIC_IP": "203.0.113.10",
    "TRIBUNE_TURN_LISTEN_IP": "203.0.113.10",
    "TRIBUNE_REDIS_PASSWORD": "0123456789abcdef0123456789abcdef",
}
# docker-compose is Python, and PyYAML comes with it: its own interpreter reads its output.
TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"


def compose(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary is not None, "docker-compose is missing: apt-get install docker-compose"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRIBUNE_", "COMPOSE_"))}
    return subprocess.run([binary, "-f", str(COMPOSE), "--project-directory", str(ROOT), *args],
                          env={**clean, **env}, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cwd = tmp_path_factory.mktemp("compose")  # no .env of the checkout's is read
    checked = compose("config", "-q", env=ENV, cwd=cwd)
    assert checked.returncode == 0, checked.stderr
    resolved = compose("config", env=ENV, cwd=cwd)
    assert resolved.returncode == 0, resolved.stderr
    parsed = subprocess.run(["/usr/bin/python3", "-c", TO_JSON], input=resolved.stdout,
                            capture_output=True, text=True, check=True)
    loaded: dict[str, Any] = json.loads(parsed.stdout)
    return loaded


def test_required_settings_have_no_default(tmp_path: Path) -> None:
    for name in ENV:
        result = compose("config", "-q", env={k: v for k, v in ENV.items() if k != name},
                         cwd=tmp_path)
        assert result.returncode != 0 and name in result.stderr, (name, result.stderr)


def test_only_caddy_publishes_ports(config: dict[str, Any]) -> None:
    services = config["services"]
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"caddy"}
    assert {(p["target"], p.get("protocol", "tcp")) for p in services["caddy"]["ports"]} == {
        (80, "tcp"), (443, "tcp"), (443, "udp")}
    assert "./deploy/Caddyfile" in COMPOSE.read_text()
    assert any(v.endswith("/deploy/Caddyfile:/etc/caddy/Caddyfile:ro")
               for v in services["caddy"]["volumes"])
    # coturn is on the host's network by design (its relay ports); nothing else is.
    assert [n for n, s in services.items() if s.get("network_mode") == "host"] == ["turn"]


def test_the_app_trusts_caddy_alone(config: dict[str, Any]) -> None:
    services, networks = config["services"], config["networks"]
    subnet = ipaddress.ip_network(networks["front"]["ipam"]["config"][0]["subnet"])
    caddy = services["caddy"]["networks"]["front"]["ipv4_address"]
    app_address = services["app"]["networks"]["front"]["ipv4_address"]
    assert ipaddress.ip_address(caddy) in subnet and ipaddress.ip_address(app_address) in subnet
    env = services["app"]["environment"]
    assert env["TRIBUNE_TRUSTED_PROXIES"] == caddy
    assert env["TRIBUNE_PUBLIC_URL"] == "https://live.example.org"
    assert "--trusted-proxy" not in services["app"]["command"]


def test_redis_has_a_password_an_aof_and_no_way_out(config: dict[str, Any]) -> None:
    redis = config["services"]["redis"]
    command = redis["command"]
    password = ENV["TRIBUNE_REDIS_PASSWORD"]
    assert command[command.index("--requirepass") + 1] == password
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "ports" not in redis and "expose" not in redis
    assert set(redis["networks"]) == {"back"}
    assert config["networks"]["back"].get("internal") is True
    app_env = config["services"]["app"]["environment"]
    assert app_env["TRIBUNE_REDIS_URL"] == f"redis://:{password}@redis:6379/0"


def test_secrets_come_from_files_never_the_environment(config: dict[str, Any]) -> None:
    app = config["services"]["app"]
    env = app["environment"]
    assert env["TRIBUNE_SECRET_FILE"] == "/run/secrets/tribune_secret"
    assert env["TRIBUNE_TURN_SECRET_FILE"] == "/run/secrets/turn_secret"
    for gone in ("TRIBUNE_SECRET", "TRIBUNE_TURN_SECRET", "TRIBUNE_ICE_USERNAME",
                 "TRIBUNE_ICE_CREDENTIAL"):
        assert gone not in env
    assert {s["source"] for s in app["secrets"]} == {"tribune_secret", "turn_secret"}
    assert {s["source"] for s in config["services"]["turn"]["secrets"]} == {"turn_secret"}
    text = COMPOSE.read_text()
    assert "static-auth-secret=" not in text.replace("printf 'static-auth-secret=%s", "")
    assert "--user=" not in text and "lt-cred-mech" not in text  # no static TURN user


def test_turn_relays_to_the_relay_only_over_tcp_and_tls_too(config: dict[str, Any]) -> None:
    services = config["services"]
    turn = services["turn"]
    assert any(v.endswith("/deploy/turnserver.conf:/etc/coturn/turnserver.conf:ro")
               for v in turn["volumes"])
    media = services["app"]["environment"]["TRIBUNE_MEDIA_ADDRESSES"]
    assert media == services["app"]["networks"]["front"]["ipv4_address"]
    assert f"--allowed-peer-ip={media}" in turn["command"]
    urls = services["app"]["environment"]["TRIBUNE_ICE_SERVERS"].split(",")
    assert "turn:live.example.org:3478?transport=tcp" in urls
    assert "turns:live.example.org:5349?transport=tcp" in urls
    conf = (ROOT / "deploy" / "turnserver.conf").read_text().splitlines()
    for line in ("use-auth-secret", "no-tcp-relay", "no-cli", "fingerprint", "no-multicast-peers",
                 "tls-listening-port=5349", "denied-peer-ip=127.0.0.0-127.255.255.255",
                 "denied-peer-ip=172.16.0.0-172.31.255.255", "denied-peer-ip=10.0.0.0-10.255.255.255",
                 "denied-peer-ip=192.168.0.0-192.168.255.255", "denied-peer-ip=::1",
                 "denied-peer-ip=100.64.0.0-100.127.255.255",
                 "denied-peer-ip=169.254.0.0-169.254.255.255",
                 "denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                 "denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"):
        assert line in conf, line
    assert not any(line.startswith(("allowed-peer-ip", "allow-loopback-peers", "user="))
                   for line in conf)


def test_every_container_is_read_only_without_capabilities(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        assert service.get("read_only") is True, name
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert set(service.get("cap_add", [])) <= {"NET_BIND_SERVICE"}, name
