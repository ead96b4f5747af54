"""deploy/Caddyfile, run by Debian's caddy in front of the tribune server (plain HTTP on loopback
in a network namespace): the page, the WebSocket and WHEP pass through it; the app sees each
client's real address (never one the client claims), believes X-Forwarded-For from Caddy only, and
no link token reaches Caddy's access log. Scenario: tests/deploy/scenario_caddy.py."""

from __future__ import annotations

from tests.conftest import SESSION
from tests.netns import namespace, require, run_module


def test_caddy_passes_websocket_and_whep_with_the_real_client_address() -> None:
    require("caddy")
    with namespace() as ns:
        verdict = run_module(ns, "tests.deploy.scenario_caddy")
    client = ["127.0.0.7"]  # the client's address; it claimed 203.0.113.9 every time
    assert verdict["page"] == 200 and verdict["page_client"] == client
    assert verdict["ws_first"] == "Welcome" and verdict["ws_client"] == client
    assert verdict["whep"] == 201 and verdict["whep_client"] == client
    assert verdict["location"].startswith(f"/sessions/{SESSION}/whep/")
    assert verdict["delete"] == 200
    # Straight to the app, not through Caddy, the claim is not believed either.
    assert verdict["direct"] == 200 and verdict["direct_client"] == client
    assert verdict["access_lines"] >= 4 and verdict["token_in_caddy_log"] is False
