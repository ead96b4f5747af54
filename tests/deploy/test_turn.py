"""coturn, configured by deploy/turnserver.conf, with credentials minted by tribune: expired ones
are refused, and no valid one relays to Redis's port (or any loopback or private host) but the
relay's own media address. The attack this closes: a public viewer link -> TURN credentials ->
a relay to Redis -> read what it holds. Runs in a network namespace made for the test."""

from __future__ import annotations

import time

from tests.netns import namespace, require, run_module


def test_coturn_refuses_expired_credentials_and_relays_to_the_relay_only() -> None:
    require("turnserver")
    with namespace() as ns:
        verdict = run_module(ns, "tests.deploy.scenario_turn")
    expiry = int(verdict["expired_username"].split(":")[0])
    assert expiry < time.time(), "the refused credentials had expired"
    assert verdict["expired"] == "401"
    assert verdict["wrong_password"] == "401"
    # With valid credentials: an allocation in the configured range, the relay reachable...
    assert verdict["allocated"][0] == "127.0.0.3" and verdict["relay_port_in_range"]
    assert verdict["permit_relay"] == "ok" and verdict["relay_received"] == "to the relay"
    # ...and Redis's port, and any other loopback host, refused (403 Forbidden), nothing sent.
    assert verdict["permit_redis"] == "403"
    assert verdict["permit_other_loopback"] == "403"
    assert verdict["redis_received"] is False
    # TURN over TLS on 5349 (networks that let only TLS out) takes the same minted credentials.
    assert verdict["tls_allocated"][0] == "127.0.0.3"
