"""WHEP (POST /sessions/{id}/whep) refusing what it cannot serve while the studio is on air: each
refusal has its status (401 token, 415 media type, 413 size, 400 offer), a body that says what was
wrong, and leaves nothing behind; a good offer right after is still answered.

The studio is on air throughout, so that every refusal is the check's own and not the 409 of a
broadcast that has not started (the offer is parsed only once there is something to play)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest

from live.domain import Role
from live.media.client import Peer, TestPatternTrack, publish
from live.media.sdp import MAX_SDP_BYTES
from live.web.auth import EVENT_SCOPE, Signer
from tests.media.conftest import OTHER_SESSION, SESSION, MediaServer
from tests.media.test_endpoints import bearer, make_offer
from tests.waiting import wait_for

PATH = f"/sessions/{SESSION}/whep"


@pytest.fixture
async def on_air(media_server: MediaServer) -> AsyncIterator[Peer]:
    studio = await publish(media_server.whip(), media_server.token(Role.STUDIO),
                           [TestPatternTrack(160, 120)])
    try:
        await wait_for(lambda: media_server.relay.broadcasts[SESSION].live, 10, "the studio on air")
        yield studio
    finally:
        await studio.close()


def whep_resources(server: MediaServer) -> list[str]:
    return [r.id for r in server.relay.resources.values() if r.kind == "whep"]


def padded(offer: str, size: int) -> bytes:
    """The offer with an attribute line that makes it `size` bytes long."""
    filler = size - len(offer.encode()) - len("a=x-pad:\r\n")
    body = (offer + "a=x-pad:" + "y" * filler + "\r\n").encode()
    assert len(body) == size
    return body


async def refused(http: httpx.AsyncClient, headers: dict[str, str], body: str | bytes,
                  status: int, says: str) -> None:
    response = await http.post(PATH, content=body, headers=headers)
    assert response.status_code == status, (headers, str(body)[:80], response.status_code,
                                            response.text)
    assert says in response.text, (status, says, response.text)
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["access-control-allow-origin"] == "*"  # a player can read why
    if status == 401:
        assert response.headers["www-authenticate"] == 'Bearer realm="tribune"'


async def test_whep_tokens_are_checked_first(media_server: MediaServer, on_air: Peer) -> None:
    offer = await make_offer("recvonly", ("video", "audio"))
    participant = media_server.token(Role.PARTICIPANT)
    expired = media_server.signer.issue(Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) - 1)
    sdp = {"content-type": "application/sdp"}
    async with httpx.AsyncClient(base_url=media_server.base_url, timeout=10) as http:
        await refused(http, sdp, offer, 401, "Authorization: Bearer token is required")
        await refused(http, {**sdp, "authorization": "Bearer"}, offer, 401, "is required")
        await refused(http, {**sdp, "authorization": f"Basic {participant}"}, offer, 401,
                      "is required")
        forged = Signer("another-event-secret-0123").issue(Role.PARTICIPANT, EVENT_SCOPE,
                                                             int(time.time()) + 3600)
        await refused(http, bearer(forged), offer, 401, "invalid token: bad signature")
        await refused(http, bearer("forged.token"), offer, 401, "invalid token: malformed token")
        await refused(http, bearer(participant[:-4] + "AAAA"), offer, 401, "bad signature")
        await refused(http, bearer(expired), offer, 401, "invalid token: expired token")
        await refused(http, bearer(media_server.token(Role.MODERATOR, OTHER_SESSION)), offer, 401,
                      "for another role or session")
        # Without a valid token nothing else is looked at: not the type, not the size.
        await refused(http, {"content-type": "text/plain"}, "x" * (MAX_SDP_BYTES + 1), 401,
                      "is required")
        assert whep_resources(media_server) == []
        # The same offer with the right token is answered: the refusals were the token's.
        response = await http.post(PATH, content=offer, headers=bearer(participant))
        assert response.status_code == 201, response.text
        assert whep_resources(media_server) == [response.headers["location"].rsplit("/", 1)[1]]
        assert (await http.delete(response.headers["location"],
                                  headers=bearer(participant))).status_code == 200


async def test_whep_refuses_other_media_types_and_oversized_bodies(
        media_server: MediaServer, on_air: Peer) -> None:
    offer = await make_offer("recvonly", ("video", "audio"))
    token = media_server.token(Role.PARTICIPANT)
    async with httpx.AsyncClient(base_url=media_server.base_url, timeout=10) as http:
        for content_type in ("text/plain", "application/json", "application/sdp-x",
                             "application/trickle-ice-sdpfrag"):
            await refused(http, bearer(token, content_type), offer, 415,
                          "the body must be application/sdp")
        await refused(http, {"authorization": f"Bearer {token}"}, offer, 415, "application/sdp")
        # A real offer padded to exactly the bound is played; one byte more is refused unread.
        at_bound = padded(offer, MAX_SDP_BYTES)
        await refused(http, bearer(token), padded(offer, MAX_SDP_BYTES + 1), 413,
                      f"the body is larger than {MAX_SDP_BYTES} bytes")
        response = await http.post(PATH, content=at_bound, headers=bearer(token))
        assert response.status_code == 201, response.text
        await http.delete(response.headers["location"], headers=bearer(token))
        # Parameters of the media type are fine (a browser may add a charset).
        response = await http.post(PATH, content=offer,
                                   headers=bearer(token, "Application/SDP; charset=utf-8"))
        assert response.status_code == 201, response.text
        await http.delete(response.headers["location"], headers=bearer(token))
    assert whep_resources(media_server) == []


async def test_whep_refuses_offers_it_cannot_play_to(media_server: MediaServer,
                                                     on_air: Peer) -> None:
    token = media_server.token(Role.PARTICIPANT)
    good = await make_offer("recvonly", ("video", "audio"))
    session_only = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    data_only = (session_only + "a=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel"
                 "\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:"
                 + "p" * 24 + "\r\na=fingerprint:sha-256 " + ":".join(["AB"] * 32)
                 + "\r\na=setup:actpass\r\na=sctp-port:5000\r\n")
    cases: list[tuple[str | bytes, str]] = [
        ("hello", "it must start with v=0"),
        ("", "it must start with v=0"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "ICE credentials or a DTLS fingerprint"),
        (session_only, "no audio or video"),
        (data_only, "no audio or video"),
        # A studio's offer (it sends): a viewer's must receive.
        (await make_offer("sendonly"), "expected recvonly or sendrecv"),
        (good.replace("a=recvonly", "a=inactive"), "expected recvonly or sendrecv"),
        (good.replace("a=fingerprint:", "a=x-fingerprint:"), "DTLS fingerprint"),
        (good + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "track at most"),  # a second video
    ]
    async with httpx.AsyncClient(base_url=media_server.base_url, timeout=10) as http:
        for body, says in cases:
            await refused(http, bearer(token), body, 400, says)
        assert whep_resources(media_server) == []  # nothing half-made was left behind
        assert media_server.relay.broadcasts[SESSION].viewers == 0
        response = await http.post(PATH, content=good, headers=bearer(token))
        assert response.status_code == 201 and response.text.startswith("v=0"), response.text
        await http.delete(response.headers["location"], headers=bearer(token))
