"""/metrics and /healthz of one process (in memory), and the Prometheus text of several workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Actor, Role
from live.domain import commands as c
from live.metrics import allowed, render
from tests.conftest import SESSION

TOKEN = "a-metrics-token-for-tests"


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(port=8000, metrics_token=TOKEN)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as c:
        yield c


def test_metrics_need_loopback_or_the_token(client: TestClient) -> None:
    # The test client's address is "testclient", not loopback.
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert allowed("127.0.0.1", None, None) and allowed("::1", None, None)
    assert not allowed("192.0.2.7", None, None) and not allowed("192.0.2.7", f"Bearer {TOKEN}", None)
    assert allowed("192.0.2.7", f"Bearer {TOKEN}", TOKEN) and not allowed(None, None, TOKEN)


def events_total(client: TestClient) -> int:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    return sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("tribune_events_total{"))


def test_metrics_in_the_prometheus_text_format(client: TestClient) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    before = events_total(client)  # the programme's prepared polls were created at start
    client.portal.call(service.execute, SESSION,  # type: ignore[attr-defined]
                       c.AskQuestion("Une question ?"), Actor(Role.PARTICIPANT, "u_1"))
    assert events_total(client) == before + 1
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "# TYPE tribune_events_total counter" in lines
    assert any(line.startswith('tribune_events_total{host="') for line in lines)
    assert f'tribune_participants{{session="{SESSION}"}} 0' in lines
    assert "tribune_workers 1" in lines
    for line in lines:  # every sample line is `name{labels} number`
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_health_says_which_check_failed(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["ok"] is True and body["failed"] == [] and body["worker"] == 0
    assert body["loop"] and body["store"] and body["bus"] and "workers" not in body  # in memory
    assert set(body["heartbeat_age"]) == {"0"}


def report(worker: int, participants: int, rate: float, events: int) -> dict[str, object]:
    return {"host": "h:8000", "worker": worker, "at": 0.0, "connections": participants + 1,
            "events_total": events, "slow_clients_total": worker,
            "sessions": {"s1": {"participants": participants, "events_per_second": rate,
                                "connections_participant": participants}}}


def test_render_sums_gauges_keeps_counters_per_worker() -> None:
    text = render([report(0, 3, 12.5, 40), report(1, 4, 12.0, 41)])
    lines = text.splitlines()
    assert 'tribune_participants{session="s1"} 7' in lines
    assert 'tribune_participant_connections{session="s1"} 7' in lines
    assert 'tribune_session_events_per_second{session="s1"} 12.5' in lines  # max, not sum
    assert 'tribune_events_total{host="h:8000",worker="0"} 40' in lines
    assert 'tribune_events_total{host="h:8000",worker="1"} 41' in lines
    assert 'tribune_slow_clients_dropped_total{host="h:8000",worker="1"} 1' in lines
    assert not any(line.startswith("tribune_viewers{") for line in lines)  # no video: no series
    assert render([report(0, 1, 0, 0) | {"host": 'a"b\\c'}]).count('host="a\\"b\\\\c"') == 3


class FakeBroadcast:
    """What the reporter reads of a relay broadcast: its readout and its viewers."""

    viewers = 3

    def stats(self) -> dict[str, object]:
        return {"live": True, "viewers": 3, "video": {"kbps": 1000.0}, "audio": {"kbps": 64.0}}


def test_the_relay_figures_of_a_session(client: TestClient) -> None:
    monitor = client.app.state.monitor  # type: ignore[attr-defined]
    relay = client.app.state.relay  # type: ignore[attr-defined]
    relay.broadcasts["atelier-1"] = FakeBroadcast()
    try:
        figures = monitor.reporter.report()["sessions"]["atelier-1"]
    finally:
        del relay.broadcasts["atelier-1"]
    assert figures == {"viewers": 3, "relay_in_kbps": 1064.0, "relay_out_kbps": 3192.0}
    text = render([{**monitor.reporter.report(), "sessions": {"atelier-1": figures}}])
    assert 'tribune_relay_out_kbps{session="atelier-1"} 3192' in text.splitlines()
