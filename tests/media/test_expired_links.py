"""A link that expired opens nothing over HTTP: WHIP, WHEP, the PATCH and DELETE of a studio's or
a viewer's resource, the studio readout, the ICE servers and the moderators' CSV exports all
refuse it (401, saying so) and change nothing, while the same role's link still valid is served
by each of them (so the refusals are the expiry's, not the request's).

The tokens are the project's own (`Signer` with the test server's secret), expired a second ago."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest

from live.domain import Role
from live.media.client import Peer, TestPatternTrack, publish, watch
from live.web.auth import EVENT_SCOPE
from tests.media.conftest import SESSION, MediaServer
from tests.media.test_endpoints import bearer, make_offer
from tests.waiting import wait_for

TRICKLE = "application/trickle-ice-sdpfrag"


def expired(server: MediaServer, role: Role) -> str:
    return server.signer.issue(role, EVENT_SCOPE if role is Role.PARTICIPANT else SESSION,
                               int(time.time()) - 1)


def refused_as_expired(response: httpx.Response) -> None:
    assert response.status_code == 401, (response.request.method, response.request.url,
                                         response.status_code, response.text)
    assert response.text == "invalid token: expired token\n"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture
async def http(media_server: MediaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=media_server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
async def studio_and_viewer(media_server: MediaServer) -> AsyncIterator[tuple[Peer, Peer]]:
    studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                           [TestPatternTrack(160, 120)])
    viewer = None
    try:
        await wait_for(lambda: media_server.relay.broadcasts[SESSION].live, 10, "the studio on air")
        viewer = await watch(media_server.whep(), media_server.token(Role.PARTICIPANT),
                             kinds=["video"])
        yield studio, viewer
    finally:
        if viewer is not None:
            await viewer.close()
        await studio.close()


async def test_an_expired_link_can_neither_publish_nor_play(
        media_server: MediaServer, http: httpx.AsyncClient,
        studio_and_viewer: tuple[Peer, Peer]) -> None:
    before = set(media_server.relay.resources)
    whip, whep = f"/sessions/{SESSION}/whip", f"/sessions/{SESSION}/whep"
    for role in (Role.STUDIO, Role.ADMIN):
        refused_as_expired(await http.post(whip, content=await make_offer(),
                                           headers=bearer(expired(media_server, role))))
    for role in (Role.PARTICIPANT, Role.MODERATOR, Role.STAGE, Role.STUDIO):
        refused_as_expired(await http.post(whep, content=await make_offer("recvonly"),
                                           headers=bearer(expired(media_server, role))))
    assert set(media_server.relay.resources) == before  # no studio replaced, no viewer added
    # The same roles' valid links are served by the same requests.
    viewer = await http.post(whep, content=await make_offer("recvonly"),
                             headers=bearer(media_server.token(Role.PARTICIPANT)))
    assert viewer.status_code == 201, viewer.text
    assert (await http.delete(viewer.headers["location"], headers=bearer(
        media_server.token(Role.PARTICIPANT)))).status_code == 200


async def test_an_expired_link_can_neither_trickle_to_nor_end_a_resource(
        media_server: MediaServer, http: httpx.AsyncClient,
        studio_and_viewer: tuple[Peer, Peer]) -> None:
    studio, viewer = studio_and_viewer
    candidate = "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
    for peer, role in ((studio, Role.STUDIO), (viewer, Role.PARTICIPANT)):
        location = peer.resource_url.removeprefix(media_server.base_url)
        old = expired(media_server, role)
        refused_as_expired(await http.patch(location, content=candidate, headers=bearer(old, TRICKLE)))
        refused_as_expired(await http.delete(location, headers=bearer(old)))
        assert location.rsplit("/", 1)[1] in media_server.relay.resources, "ended by an expired link"
        valid = media_server.token(role)
        assert (await http.patch(location, content=candidate,
                                 headers=bearer(valid, TRICKLE))).status_code == 204
    assert media_server.relay.broadcasts[SESSION].live
    # The studio's own valid link still ends it: the refusal above was the expiry's.
    location = studio.resource_url.removeprefix(media_server.base_url)
    assert (await http.delete(location, headers=bearer(media_server.token(Role.STUDIO)))
            ).status_code == 200
    assert not media_server.relay.broadcasts[SESSION].live


async def test_an_expired_link_gets_no_readout_and_no_ice_servers(
        media_server: MediaServer, http: httpx.AsyncClient) -> None:
    for path in (f"/sessions/{SESSION}/broadcast", f"/sessions/{SESSION}/ice-servers"):
        for role in (Role.PARTICIPANT, Role.MODERATOR, Role.STAGE, Role.STUDIO):
            refused_as_expired(await http.get(path, headers=bearer(expired(media_server, role))))
            served = await http.get(path, headers=bearer(media_server.token(role)))
            assert served.status_code == 200 and served.json(), (path, role, served.text)


async def test_an_expired_moderator_link_exports_nothing(
        media_server: MediaServer, http: httpx.AsyncClient) -> None:
    for kind in ("questions", "polls"):
        path = f"/moderate/{SESSION}/{kind}.csv"
        for role in (Role.MODERATOR, Role.ADMIN):
            response = await http.get(path, params={"t": expired(media_server, role), "lang": "en"})
            assert response.status_code == 401, (path, role, response.text[:200])
            assert response.headers["content-type"].startswith("text/html")  # the error page
            assert "content-disposition" not in response.headers
            assert "This link is not valid or has expired." in response.text
            served = await http.get(path, params={"t": media_server.token(role)})
            assert served.status_code == 200, (path, role, served.text[:200])
            assert served.headers["content-type"].startswith("text/csv")
