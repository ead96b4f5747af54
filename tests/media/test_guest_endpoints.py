"""Remote guests' endpoints (live/media/guest_routes.py): every role refused where it has no
business, bad input answered with a clear 4xx, and the feeds flowing for real: a guest's camera to
the studio, the room's return feed to the guest, neither one recorded nor announced to the pages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import httpx2 as httpx
import pytest

from live.domain import Role
from live.media.client import TestPatternTrack, ToneTrack, publish, watch
from live.media.feeds import guest_key, return_key
from tests.conftest import SESSION
from tests.media.conftest import MediaServer, bearer, frames, make_offer, serving
from tests.waiting import wait_for

OTHER = "atelier-1"  # streamed too


@pytest.fixture
async def http(media_server: MediaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=media_server.base_url, timeout=10) as client:
        yield client


def guest_token(server: MediaServer, session: str = SESSION, name: str = "Anna Schmidt",
                expires: int | None = None) -> tuple[str, str]:
    """A guest's id and token, from the link the studio would get."""
    link = server.guest_link(session, name, expires)
    token = unquote(link.split("?t=")[1])
    grant = server.signer.verify(token, 0)
    assert grant.guest is not None
    return grant.guest, token


async def test_only_the_studio_makes_guest_links_and_bad_names_are_refused(
        media_server: MediaServer, http: httpx.AsyncClient) -> None:
    path = f"/sessions/{SESSION}/guests"
    studio = media_server.token(Role.STUDIO)
    _, guest = guest_token(media_server)
    json_type = "application/json"
    cases = [
        ({"content-type": json_type}, b'{"name": "A"}', 401),  # no token
        (bearer(media_server.token(Role.PARTICIPANT), json_type), b'{"name": "A"}', 401),
        (bearer(media_server.token(Role.MODERATOR), json_type), b'{"name": "A"}', 401),
        (bearer(media_server.token(Role.STAGE), json_type), b'{"name": "A"}', 401),
        (bearer(guest, json_type), b'{"name": "A"}', 401),
        (bearer(media_server.token(Role.STUDIO, OTHER), json_type), b'{"name": "A"}', 401),
        (bearer(studio, "text/plain"), b'{"name": "A"}', 415),
        (bearer(studio, json_type), b"{", 400),
        (bearer(studio, json_type), b'["A"]', 400),
        (bearer(studio, json_type), b'{"name": 3}', 400),
        (bearer(studio, json_type), b'{"name": "  "}', 400),
        (bearer(studio, json_type), b'{"name": "' + b"x" * 61 + b'"}', 400),
        (bearer(studio, json_type), b'{"name": "a\\u0007b"}', 400),  # a control character
        (bearer(studio, json_type), b'{"name": "' + b"x" * 2000 + b'"}', 413),
    ]
    for headers, body, status in cases:
        response = await http.post(path, content=body, headers=headers)
        assert response.status_code == status, (headers, body[:40], response.text)
        assert response.text.strip()
    response = await http.post("/sessions/copil-assises/guests", content=b'{"name": "A"}',
                               headers=bearer(studio, json_type))
    assert response.status_code == 404  # not streamed

    made = await http.post(path, json={"name": "  Anna\u200b  Schmidt "},
                           headers=bearer(studio, json_type))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["name"] == "Anna Schmidt" and body["id"].startswith("g")
    assert body["link"].startswith(f"{media_server.base_url}/guest/{SESSION}?t=")
    grant = media_server.signer.verify(unquote(body["link"].split("?t=")[1]), time.time())
    assert (grant.role, grant.scope, grant.guest, grant.name) == (
        Role.GUEST, SESSION, body["id"], "Anna Schmidt")


async def test_guest_links_are_made_at_a_bounded_rate(media_server: MediaServer,
                                                      http: httpx.AsyncClient) -> None:
    headers = bearer(media_server.token(Role.STUDIO), "application/json")
    statuses = [(await http.post(f"/sessions/{SESSION}/guests", json={"name": f"G{i}"},
                                 headers=headers)).status_code for i in range(25)]
    assert statuses[:20] == [201] * 20 and 429 in statuses[20:], statuses
    refused = await http.post(f"/sessions/{SESSION}/guests", json={"name": "G"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_every_feed_endpoint_refuses_the_roles_it_is_not_for(
        media_server: MediaServer, http: httpx.AsyncClient) -> None:
    guest_id, guest = guest_token(media_server)
    _, other_guest = guest_token(media_server, name="Kofi Mensah")
    _, elsewhere = guest_token(media_server, OTHER)
    _, expired = guest_token(media_server, expires=int(time.time()) - 60)
    studio, participant = media_server.token(Role.STUDIO), media_server.token(Role.PARTICIPANT)
    moderator = media_server.token(Role.MODERATOR)
    send, receive = await make_offer(), await make_offer("recvonly", ("video", "audio"))
    base = f"/sessions/{SESSION}"
    refused = [
        # A guest's camera: that guest only.
        (f"{base}/guests/{guest_id}/whip", send, [studio, participant, moderator, other_guest,
                                                  elsewhere, expired]),
        # Playing a guest: the studio only (its page, the clean feed page).
        (f"{base}/guests/{guest_id}/whep", receive, [guest, participant, moderator, elsewhere]),
        # The return feed: the studio publishes it, the session's guests (and the studio) hear it.
        (f"{base}/return/whip", send, [guest, participant, moderator]),
        (f"{base}/return/whep", receive, [participant, moderator, elsewhere, expired]),
    ]
    for path, offer, tokens in refused:
        for token in tokens:
            response = await http.post(path, content=offer, headers=bearer(token))
            assert response.status_code == 401, (path, response.text)
            readout = await http.get(path.rsplit("/", 1)[0] + "/broadcast",
                                     headers=bearer(token))
            if path.endswith("/whep"):  # whoever may not play it may not ask whether it is on
                assert readout.status_code == 401, (path, readout.text)
    for path in (f"{base}/guests/{guest_id}/whep", f"{base}/return/whep"):
        # Nothing on air yet: 409 and when to retry, or the readout's answer, which says so.
        token = studio if "/guests/" in path else guest
        response = await http.post(path, content=receive, headers=bearer(token))
        assert response.status_code == 409 and int(response.headers["retry-after"]) > 0
        readout = await http.get(path.rsplit("/", 1)[0] + "/broadcast", headers=bearer(token))
        assert readout.json() == {"live": False}
    for path, status in ((f"{base}/guests/x/whip", 404), (f"{base}/guests/g%2F..%2Fa/whip", 404),
                         (f"{base}/guests/{guest_id}/rtsp", 404), (f"{base}/return/rtsp", 404),
                         (f"{base}/guests/{guest_id}/whip/nope", 405),
                         ("/sessions/copil-assises/return/whip", 404)):
        response = await http.post(path, content=send, headers=bearer(studio))
        assert response.status_code == status, (path, response.text)
    for method in ("PATCH", "DELETE"):
        response = await http.request(method, f"{base}/guests/{guest_id}/whip/nope",
                                      content=b"a=end-of-candidates\r\n",
                                      headers=bearer(guest, "application/trickle-ice-sdpfrag"))
        assert response.status_code == 404
    assert media_server.relay.resources == {}


async def test_a_guest_reaches_the_studio_and_hears_the_return_feed(tmp_path: Path) -> None:
    with serving(recordings=str(tmp_path)) as server:
        guest_id, guest = guest_token(server)
        studio = server.token(Role.STUDIO)
        base = f"{server.base_url}/sessions/{SESSION}"
        camera = await publish(f"{base}/guests/{guest_id}/whip", guest,
                               [TestPatternTrack(), ToneTrack()])
        room = await publish(f"{base}/return/whip", studio, [ToneTrack()])
        try:
            # On air once their first media is in (a player asked before is told 409 and retries).
            await wait_for(lambda: server.relay.broadcast(guest_key(SESSION, guest_id)).live
                           and server.relay.broadcast(return_key(SESSION)).live, 10,
                           "the guest's feed and the return feed on air")
            preview = await watch(f"{base}/guests/{guest_id}/whep", studio)
            heard = await watch(f"{base}/return/whep", guest, kinds=("audio",))
            await wait_for(lambda: frames(preview) > 10 and frames(preview, "audio") > 10, 15,
                           "the studio to receive the guest's picture and voice")
            await wait_for(lambda: frames(heard, "audio") > 10, 15,
                           "the guest to hear the return feed")
            assert server.relay.broadcast(guest_key(SESSION, guest_id)).live
            assert server.relay.broadcast(return_key(SESSION)).live
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                readout = await http.get(f"/sessions/{SESSION}/guests/{guest_id}/broadcast",
                                         headers=bearer(studio))
                assert readout.json() == {"live": True}
                floor = await http.get(f"/sessions/{SESSION}/broadcast",
                                       headers=bearer(server.token(Role.PARTICIPANT)))
                assert floor.json()["live"] is False  # feeds are nobody's audience
                # The guest ends their connection: a DELETE at the Location they were given.
                gone = await http.delete(camera.resource_url, headers=bearer(guest))
                assert gone.status_code == 200
            await wait_for(lambda: not server.relay.broadcast(guest_key(SESSION, guest_id)).live,
                           5, "the guest's feed to go off air")
            # The programme is recorded, not the feeds.
            assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []
            assert server.relay.news is None or not server.relay.news.ended
            for peer in (preview, heard):
                await peer.pc.close()
        finally:
            for peer in (camera, room):
                await peer.pc.close()
