"""Two relay workers sharing Redis, as `run.py --workers 2` runs them (two servers in this process,
each with its own event loop and feed server): the studio publishes on A, viewers play on A and B.

What must hold: the studio is ingested once, and B gets its frames over one feed connection however
many viewers it has; B's viewers start on a keyframe; a PATCH or DELETE may land on either worker;
the studio leaving, returning (on the other worker) and being replaced reach every viewer; the
readout counts every worker's viewers; garbage on a feed port only closes that connection.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
import redis

from live.domain import Role
from live.media import feed
from live.media.broadcast import KEYFRAME_INTERVAL
from live.media.client import Peer, watch
from live.media.cluster import Cluster
from tests.conftest import REDIS_URL
from tests.media.conftest import (
    SESSION,
    MediaServer,
    frames,
    go_live,
    in_order,
    serving,
    video_timestamps,
)
from tests.waiting import holds_for, wait_for

pytestmark = pytest.mark.redis
T = TypeVar("T")

TRICKLE = "application/trickle-ice-sdpfrag"
FRAGMENT = b"a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n"


@pytest.fixture
def workers(key_prefix: str) -> Iterator[tuple[MediaServer, MediaServer]]:
    with serving(redis_url=REDIS_URL, key_prefix=key_prefix) as a, \
            serving(redis_url=REDIS_URL, key_prefix=key_prefix) as b:
        yield a, b


def cluster(server: MediaServer) -> Cluster:
    assert server.relay.cluster is not None
    return server.relay.cluster


def whips(*servers: MediaServer) -> int:
    return sum(1 for s in servers for r in s.relay.resources.values() if r.kind == "whip")


async def go_live_at(server: MediaServer, **options: object) -> Peer:
    """A studio on air through `server`, once Redis names that worker the session's origin."""
    studio = await go_live(server, **options)
    await wait_for(lambda: SESSION in cluster(server).origins and registered(server), 10,
                   "the worker registered as the session's origin")
    return studio


def origin_key(server: MediaServer) -> str:
    """The Redis key of the session's origin: the registry's name for it under the workers' key
    prefix (live/registry/redis.py)."""
    return f"{server.relay.settings.key_prefix}:{cluster(server)._origin_key(SESSION)}"


def registered(server: MediaServer) -> bool:
    """Whether Redis names `server` the session's origin (what other workers look up)."""
    with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
        value = client.get(origin_key(server))
    return value == f"{cluster(server).node} {cluster(server).address}"


async def run_in(server: MediaServer, coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` on the server's own event loop (its Redis client belongs to that loop)."""
    loop = next(iter(cluster(server)._tasks)).get_loop()  # the registry refresh runs there
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


async def readout(server: MediaServer) -> dict[str, object]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/sessions/{SESSION}/broadcast",
                                  headers={"authorization": f"Bearer {server.token(Role.STUDIO)}"})
    data: dict[str, object] = response.json()
    return data


async def test_viewers_on_another_worker_get_the_studio_ingested_once(
        workers: tuple[MediaServer, MediaServer], rtp_timestamps: dict[int, list[int]]) -> None:
    """What crosses workers, not how fast: frames delivered per viewer across workers are
    bench/relay.py --workers's figure."""
    a, b = workers
    studio = await go_live_at(a)
    token = a.token(Role.PARTICIPANT)
    viewers: list[Peer] = []
    try:
        viewers = [await watch(b.whep(), token), await watch(b.whep(), token),
                   await watch(a.whep(), token)]
        await asyncio.gather(*(asyncio.wait_for(v.first_frame.wait(), 5) for v in viewers))
        subs = cluster(a).subscribers[SESSION]
        before = [frames(v) for v in viewers]
        sent_before = sum(sub.frames_sent for sub in subs)
        await wait_for(lambda: all(frames(v) > start + 20 for v, start in zip(viewers, before, strict=True)),
                       10, "20 more frames at every viewer, on both workers")
        for viewer in viewers:
            assert in_order(video_timestamps(rtp_timestamps, viewer)), "frames out of order"
            assert viewer.received["video"].first_is_keyframe
            assert frames(viewer, "audio") == 0  # the test pattern is video only
        # One studio connection in all, on A; B's broadcast has no receiver, only A's feed.
        assert whips(a, b) == 1 and not b.relay.broadcasts[SESSION].source.video_receiver  # type: ignore[union-attr]
        # A's registration as the origin outlives Redis losing it (the next refresh makes it again).
        key = origin_key(a)
        with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
            assert client.get(key) == f"{cluster(a).node} {cluster(a).address}"
            client.delete(key)
            await run_in(a, cluster(a).refresh())
            assert client.get(key) == f"{cluster(a).node} {cluster(a).address}"
            assert 0 < client.ttl(key) <= 15
        # B is fed by one subscription to A for its two viewers. Over the same time, A sent B
        # each frame once (as many as one viewer got, give or take those in flight), not once
        # per viewer.
        assert len(subs) == 1 and next(iter(subs)).node == cluster(b).node
        sent = next(iter(subs)).frames_sent - sent_before
        got = frames(viewers[0]) - before[0]
        assert abs(sent - got) <= 6, (sent, got)
        # B's viewers' keyframe requests (PLI/FIR) reach the studio, coalesced on B and on A.
        requests = a.relay.stats(SESSION)["keyframe_requests"]
        keyframes = [v.received["video"].keyframes for v in viewers[:2]]
        for resource in list(b.relay.resources.values()):
            for sender in resource.pc.getSenders():
                if sender.kind == "video":
                    for _ in range(10):
                        sender._send_keyframe()
        await wait_for(lambda: all(v.received["video"].keyframes > k
                                   for v, k in zip(viewers[:2], keyframes, strict=True)), 5,
                       "a new keyframe at B's viewers")
        # Negative check: one request reached the studio, and no other over the next interval.
        await holds_for(lambda: a.relay.stats(SESSION)["keyframe_requests"] == requests + 1,
                        KEYFRAME_INTERVAL + 0.3, "one keyframe request at the origin")
        # The readout, asked of either worker, counts the viewers of both.
        await wait_for(lambda: next(iter(subs)).viewers == 2, 10, "B's two viewers known at A")
        for server in (a, b):
            stats = await readout(server)
            assert stats["live"] and stats["viewers"] == 3
            assert stats["video"]["width"] == 320  # type: ignore[index]
    finally:
        for viewer in viewers:
            await viewer.close()
        await studio.close()


async def test_patch_and_delete_work_on_either_worker(
        workers: tuple[MediaServer, MediaServer]) -> None:
    a, b = workers
    studio = await go_live_at(a)
    viewer = await watch(b.whep(), b.token(Role.PARTICIPANT), kinds=["video"])
    try:
        await asyncio.wait_for(viewer.first_frame.wait(), 5)
        resource_id = viewer.resource_url.rsplit("/", 1)[1]
        assert resource_id in b.relay.resources and resource_id.startswith(cluster(b).node + ".")
        resource = b.relay.resources[resource_id]
        wrong = viewer.resource_url.replace(b.base_url, a.base_url)
        auth = {"authorization": f"Bearer {b.token(Role.PARTICIPANT)}"}
        fragment = FRAGMENT % (resource.offer.ice_ufrag.encode(), resource.offer.ice_pwd.encode())
        restart = FRAGMENT % (b"other", b"otherpassword0123456789")
        async with httpx.AsyncClient() as http:
            trickle = {**auth, "content-type": TRICKLE}
            assert (await http.patch(wrong, content=fragment, headers=trickle)).status_code == 204
            assert (await http.patch(wrong, content=restart, headers=trickle)).status_code == 422
            assert (await http.delete(wrong)).status_code == 401  # the token is checked first
            missing = wrong.rsplit(".", 1)[0] + ".nosuchtoken"
            assert (await http.delete(missing, headers=auth)).status_code == 404
            assert (await http.delete(wrong, headers=auth)).status_code == 200
        assert resource_id not in b.relay.resources
        # B's last viewer left: B drops its feed, and A forgets the subscription.
        await wait_for(lambda: not cluster(a).subscribers.get(SESSION) and not cluster(b).followers,
                       10, "B's feed dropped, A's subscription forgotten")
        # The studio's resource too, from B.
        studio_url = studio.resource_url.replace(a.base_url, b.base_url)
        async with httpx.AsyncClient() as http:
            response = await http.delete(
                studio_url, headers={"authorization": f"Bearer {a.token(Role.STUDIO)}"})
        assert response.status_code == 200
        await wait_for(lambda: not a.relay.broadcasts[SESSION].live, 10, "off air at A")
    finally:
        await viewer.close(delete=False)
        await studio.close(delete=False)


async def test_not_on_air_anywhere_is_a_409_on_every_worker(
        workers: tuple[MediaServer, MediaServer]) -> None:
    a, b = workers
    async with httpx.AsyncClient() as http:
        for server in (a, b):
            response = await http.post(server.whep(), content=b"v=0\r\n", headers={
                "content-type": "application/sdp",
                "authorization": f"Bearer {server.token(Role.PARTICIPANT)}"})
            assert response.status_code == 409 and response.headers["retry-after"]
    assert not cluster(b).followers


async def test_the_studio_leaving_returning_elsewhere_and_changing_codec_reach_every_viewer(
        workers: tuple[MediaServer, MediaServer]) -> None:
    a, b = workers
    studio = await go_live_at(a)
    on_b = await watch(b.whep(), b.token(Role.PARTICIPANT), kinds=["video"])
    on_a = await watch(a.whep(), a.token(Role.PARTICIPANT), kinds=["video"])
    again: Peer | None = None
    try:
        await asyncio.gather(*(asyncio.wait_for(v.first_frame.wait(), 5) for v in (on_a, on_b)))
        # Off air: B's broadcast stops too, the viewers stay connected.
        await studio.close()
        await wait_for(lambda: not b.relay.broadcasts[SESSION].live, 10, "off air at B")
        await asyncio.sleep(0.3)  # what was already on its way still arrives
        paused = frames(on_b), frames(on_a)
        # Negative check: off air, no frame comes to either viewer.
        await holds_for(lambda: (frames(on_b), frames(on_a)) == paused, 0.4,
                        "no frame while off air")
        # Back on the other worker: B is now the origin, A (with a viewer left) its edge.
        keyframes = on_a.received["video"].keyframes
        studio = await go_live_at(b)
        await wait_for(lambda: frames(on_a) > paused[1] + 15 and frames(on_b) > paused[0] + 15, 10,
                       "frames again at both viewers")
        assert on_a.received["video"].keyframes > keyframes  # restarted on a keyframe
        assert on_a.pc.connectionState == on_b.pc.connectionState == "connected"
        assert cluster(a).followers and not cluster(b).followers
        # A new studio connection on A, in H.264, replaces B's: B's studio connection is closed,
        # and the VP8 viewers on both workers are sent back to negotiate.
        replacement = await go_live_at(a, video_codec="video/H264")
        await wait_for(lambda: studio.pc.connectionState in ("closed", "failed"), 10,
                       "B's studio connection closed")
        studio = replacement
        await wait_for(lambda: whips(a, b) == 1, 10, "one studio connection in all")
        await wait_for(lambda: all(v.pc.connectionState in ("closed", "failed") for v in (on_a, on_b)),
                       10, "the VP8 viewers' connections closed")
        again = await watch(b.whep(), b.token(Role.PARTICIPANT), kinds=["video"])
        await asyncio.wait_for(again.first_frame.wait(), 5)
        assert again.received["video"].mime_type.lower() == "video/h264"
        assert again.received["video"].first_is_keyframe
    finally:
        for viewer in (on_a, on_b, again):
            if viewer is not None:
                await viewer.close(delete=False)
        await studio.close()


async def test_garbage_on_the_feed_port_closes_that_connection_only(
        workers: tuple[MediaServer, MediaServer], caplog: pytest.LogCaptureFixture) -> None:
    a, b = workers
    studio = await go_live_at(a)
    viewer = await watch(b.whep(), b.token(Role.PARTICIPANT), kinds=["video"])
    host, port = cluster(a).address.split(":")
    attempts = [
        b"GET / HTTP/1.1\r\n\r\n",  # not our protocol: an absurd length
        struct.pack("!IB", 1 << 30, feed.REQUEST),  # oversized length
        feed.pack(feed.REQUEST, b"\0" * 32 + b'{"op":"subscribe","session":"%s"}' % SESSION.encode()),
    ]
    try:
        await asyncio.wait_for(viewer.first_frame.wait(), 5)
        with caplog.at_level(logging.WARNING, logger="live.media.cluster"):
            for attempt in attempts:
                reader, writer = await asyncio.open_connection(host, int(port))
                await feed.read_message(reader)  # the challenge
                writer.write(attempt)
                assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, nothing sent
                writer.close()
            # The right secret with a wrong MAC (another event's secret) is refused too.
            with pytest.raises(asyncio.IncompleteReadError):
                await feed.call(cluster(a).address, feed.feed_key("another-secret-0123456789"),
                                {"op": "stats", "session": SESSION})
        refused = [r.getMessage() for r in caplog.records if "feed connection" in r.getMessage()]
        assert len(refused) == 4 and "bad MAC" in refused[2]
        count = frames(viewer)
        await wait_for(lambda: frames(viewer) > count + 15, 10, "frames still, from the edge's feed")
    finally:
        await viewer.close()
        await studio.close()


async def test_a_stale_registration_gives_409_and_leaves_no_follower(
        workers: tuple[MediaServer, MediaServer]) -> None:
    """The registry names an origin that is gone (killed, its key not yet expired): the viewer
    gets a 409, and the edge does not keep looking for the session with nobody to serve."""
    _, b = workers
    with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
        client.set(origin_key(b), "gone 127.0.0.1:9", ex=30)  # refused port
    async with httpx.AsyncClient() as http:
        response = await http.post(b.whep(), content=b"v=0\r\n", timeout=10, headers={
            "content-type": "application/sdp",
            "authorization": f"Bearer {b.token(Role.PARTICIPANT)}"})
    assert response.status_code == 409
    assert not cluster(b).followers


async def test_a_worker_shutting_down_leaves_no_origin_registration(
        workers: tuple[MediaServer, MediaServer]) -> None:
    """Stopping ends the studio's connection, then the cluster: the deregistering must not be
    cancelled on the way, or other workers would look for the stopped one for the TTL."""
    a, _ = workers
    studio = await go_live_at(a)

    async def stop() -> None:
        cluster(a).off_air(SESSION)  # the studio's end, its deregistering only scheduled…
        await cluster(a).close()  # …when the cluster closes

    try:
        await run_in(a, stop())
        with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
            assert client.get(origin_key(a)) is None
    finally:
        await studio.close()
