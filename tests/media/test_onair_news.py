"""The studio going on air, and ending the broadcast on purpose, reach the session's pages over
their WebSocket (`Broadcast`, docs/protocol.md) and the readout; a dropped studio is not an end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest

from live.bus.memory import MemoryBus
from live.domain import Role
from live.media.client import TestPatternTrack, publish
from live.media.onair import OnAirNews
from tests.conftest import REDIS_URL, SESSION
from tests.media.conftest import MediaServer, bearer, serving
from tests.waiting import wait_for
from tests.wsclient import Client


@pytest.fixture
async def http(media_server: MediaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=media_server.base_url, timeout=10) as client:
        yield client


def news(client: Client) -> list[dict[str, Any]]:
    return [m for m in client.messages if m["type"] == "Broadcast"]


async def readout(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    data: dict[str, Any] = (await http.get(f"/sessions/{SESSION}/broadcast",
                                           headers=bearer(token))).json()
    return data


async def test_pages_hear_the_studio_go_on_air_and_end_the_broadcast(
        media_server: MediaServer, http: httpx.AsyncClient) -> None:
    viewer_token = media_server.token(Role.PARTICIPANT)
    page = await Client(media_server.base_url.replace("http://", "ws://"), SESSION,
                        viewer_token).connect()
    studio = None
    try:
        assert (await readout(http, viewer_token))["ended"] is False  # never on air: waiting
        studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                               [TestPatternTrack(160, 120)])
        await page.wait_for(lambda: news(page))
        assert news(page) == [{"type": "Broadcast", "live": True, "ended": False}]

        # The studio's DELETE (its "Stop" button): an end, told to the page and in the readout.
        await studio.close()
        studio = None
        await page.wait_for(lambda: len(news(page)) == 2)
        assert news(page)[1] == {"type": "Broadcast", "live": False, "ended": True}
        after = await readout(http, viewer_token)
        assert after["live"] is False and after["ended"] is True

        # Back on air: no longer ended.
        studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                               [TestPatternTrack(160, 120)])
        await page.wait_for(lambda: len(news(page)) == 3)
        assert news(page)[2]["live"] is True
        again = await readout(http, viewer_token)
        assert again["live"] is True and again["ended"] is False
    finally:
        if studio is not None:
            await studio.close()
        await page.close()


async def test_a_studio_that_drops_is_no_end(media_server: MediaServer,
                                             http: httpx.AsyncClient) -> None:
    viewer_token = media_server.token(Role.PARTICIPANT)
    page = await Client(media_server.base_url.replace("http://", "ws://"), SESSION,
                        viewer_token).connect()
    try:
        studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                               [TestPatternTrack(160, 120)])
        await page.wait_for(lambda: news(page))
        await studio.close(delete=False)  # the connection goes away, no DELETE: a drop

        async def off_air() -> dict[str, Any] | None:
            data = await readout(http, viewer_token)
            return data if not data["live"] else None

        gone = await wait_for(off_air, 15, "the relay noticing the studio went away")
        assert gone["ended"] is False
        assert [m["live"] for m in news(page)] == [True]  # no "ended" for a drop
    finally:
        await page.close()


async def test_a_viewer_leaving_or_a_stale_studio_connection_ends_nothing(
        media_server: MediaServer, http: httpx.AsyncClient) -> None:
    """Only the DELETE of the connection on air ends the broadcast: not a viewer's, not that of a
    studio connection another one replaced."""
    relay = media_server.relay
    assert relay.news is not None
    studio_token = media_server.token(Role.STUDIO)
    first = await publish(media_server.whip(), studio_token, [TestPatternTrack(160, 120)])
    second = None
    try:
        await wait_for(lambda: relay.broadcasts[SESSION].live or None, 5, "on air")
        second = await publish(media_server.whip(), studio_token, [TestPatternTrack(160, 120)])
        source = second.resource_url.rsplit("/", 1)[1]
        await wait_for(lambda: relay.broadcasts[SESSION].source is getattr(
            relay.resources.get(source), "source", False) or None, 5, "the second on air")
        await first.close()  # replaced already (its resource may be gone: a 404)
        assert relay.broadcasts[SESSION].live and SESSION not in relay.news.ended
    finally:
        if second is not None:
            await second.close()
    await wait_for(lambda: SESSION in relay.news.ended or None, 5, "the end heard")


@pytest.mark.redis
async def test_the_news_reaches_pages_on_another_worker(key_prefix: str) -> None:
    """The studio on worker A, the page's socket on worker B, the studio's DELETE reaching B
    (passed to A, which holds the connection): B's page hears both, B's readout says ended."""
    with serving(redis_url=REDIS_URL, key_prefix=key_prefix) as a, \
            serving(redis_url=REDIS_URL, key_prefix=key_prefix) as b:
        viewer_token = b.token(Role.PARTICIPANT)
        page = await Client(b.base_url.replace("http://", "ws://"), SESSION, viewer_token).connect()
        try:
            studio = await publish(a.whip(), a.token(Role.STUDIO), [TestPatternTrack(160, 120)])
            await page.wait_for(lambda: news(page))
            assert news(page)[0]["live"] is True
            async with httpx.AsyncClient(base_url=b.base_url, timeout=10) as http:
                via_b = studio.resource_url.replace(a.base_url, b.base_url)
                deleted = await http.delete(via_b, headers=bearer(studio.token))
                assert deleted.status_code == 200
                await studio.pc.close()
                await page.wait_for(lambda: len(news(page)) == 2)
                assert news(page)[1] == {"type": "Broadcast", "live": False, "ended": True}
                assert (await readout(http, viewer_token))["ended"] is True
        finally:
            await page.close()


async def test_malformed_news_on_the_bus_is_dropped() -> None:
    class NoService:
        hubs: tuple[Any, ...] = ()

    bus = MemoryBus()
    news_ = OnAirNews(bus, NoService())  # type: ignore[arg-type]
    await news_.start()
    for bad in ("not json", "[]", '{"session": 1, "live": true}', '{"session": "s"}',
                '{"session": "s", "live": "no"}'):
        news_._heard(bad)
    assert news_.ended == set()
    news_._heard('{"session": "s", "live": false}')
    assert news_.ended == {"s"}
    await news_.stop()
    await bus.close()
