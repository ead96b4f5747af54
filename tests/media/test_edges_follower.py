"""live/media/edges.py's `Follower`, an edge's end of the feed, against an origin the test plays
over real feed connections on 127.0.0.1 (the real handshake and messages, live/media/feed.py) and
the registry in the real Redis: it follows whichever worker the registry names, puts the session
on air here with the origin's codecs, forwards its frames, sends keyframe requests coalesced and
its viewer count up, goes off air when the origin leaves or breaks the protocol and looks again,
believes nobody without the key, never feeds over a studio of this worker, ends when stopped
(even mid-handshake), and drops the feed once nobody here watches. The origin's end:
tests/media/test_edges_subscriber.py; both workers whole: tests/media/test_cluster.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis

from live.config import Settings
from live.media import edges, feed
from live.media.broadcast import KEYFRAME_INTERVAL, ForwardTrack, Source
from live.media.cluster import Cluster
from live.media.edges import Follower
from live.media.relay import Relay
from tests.conftest import REDIS_URL
from tests.media.test_edges_subscriber import H264, SESSION, VP8
from tests.waiting import holds_for, wait_for

pytestmark = pytest.mark.redis

SECRET = "edges-tests-secret-0123456789"
KEY = feed.feed_key(SECRET)


class Origin:
    """Another worker's feed server as the test plays it: the real handshake (with `key`), then
    the test sends what an origin sends; what the edge sends is collected."""

    def __init__(self, key: bytes = KEY, *, impostor: bool = False) -> None:
        self.key, self.impostor = key, impostor
        self.requests: list[dict[str, Any]] = []
        self.received: list[tuple[int, bytes]] = []
        self.connections = 0
        self.closed = 0
        self._channels: asyncio.Queue[feed.Channel] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> Origin:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.impostor:  # answers without the key: a made-up proof, then a stream
                writer.write(feed.pack(feed.CHALLENGE, os.urandom(feed.CHALLENGE_BYTES)))
                await feed.read_message(reader, feed.MAX_REQUEST)
                writer.write(feed.pack(feed.ACCEPT, os.urandom(feed.MAC_BYTES)))
                writer.write(feed.pack(feed.CODECS, b'{"codecs":{}}'))
                await reader.read()
                return
            request, channel = await feed.accept_request(reader, writer, self.key)
            self.requests.append(request)
            await self._channels.put(channel)
            while True:
                self.received.append(await channel.receive(feed.MAX_REQUEST))
        except (asyncio.IncompleteReadError, ConnectionError, feed.FeedError):
            pass
        finally:
            self.closed += 1
            writer.close()

    async def subscribed(self) -> feed.Channel:
        """The next edge connection's channel."""
        return await asyncio.wait_for(self._channels.get(), 5)

    def sent(self, kind: int) -> list[bytes]:
        return [payload for k, payload in self.received if k == kind]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edges, "POLL", 0.05)  # an edge without an origin looks again this soon


@pytest.fixture
async def cluster(key_prefix: str) -> AsyncIterator[Cluster]:
    """An edge worker's cluster (its relay and registry client), not serving a feed itself."""
    settings = Settings(media_addresses=("127.0.0.1",), redis_url=REDIS_URL, key_prefix=key_prefix)
    the_cluster = Cluster(Relay(settings), settings, SECRET)
    try:
        yield the_cluster
    finally:
        await asyncio.wait_for(the_cluster.close(), 5)  # a follower that did not stop: fails


@pytest.fixture
def registry(key_prefix: str) -> Iterator[Any]:
    """Names the session's origin as workers do (`P:media:origin:S` = "node address")."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)

    def register(node: str | None, address: str = "") -> None:
        key = f"{key_prefix}:media:origin:{SESSION}"
        if node is None:
            client.delete(key)
        else:
            client.set(key, f"{node} {address}", ex=30)

    try:
        yield register
    finally:
        client.close()


@contextlib.asynccontextmanager
async def origins(*made: Origin) -> AsyncIterator[list[Origin]]:
    started = [await origin.start() for origin in made]
    try:
        yield started
    finally:
        for origin in started:
            await origin.close()


@contextlib.asynccontextmanager
async def following(cluster: Cluster) -> AsyncIterator[Follower]:
    follower = Follower(cluster, SESSION)
    try:
        yield follower
    finally:
        follower.stop()
        await stopped(follower)


async def stopped(follower: Follower) -> None:
    """Wait (bounded) for a stopped follower's task to end."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(follower.task), 3)


def live_source(cluster: Cluster) -> Source | None:
    return cluster.relay.broadcast(SESSION).source


async def test_an_edge_follows_the_origin_the_registry_names(cluster: Cluster,
                                                             registry: Any) -> None:
    broadcast = cluster.relay.broadcast(SESSION)
    viewers = [ForwardTrack("video", broadcast.request_keyframe) for _ in range(2)]
    for track in viewers:
        broadcast.attach(track)
    async with origins(Origin()) as (origin,), following(cluster):
        registry("origin-node", origin.address)
        channel = await origin.subscribed()
        assert origin.requests == [{"op": "subscribe", "session": SESSION, "node": cluster.node}]
        # Its viewer count goes up at once, and again when it changes.
        await wait_for(lambda: origin.sent(feed.VIEWERS), 2, "the edge's viewer count")
        assert origin.sent(feed.VIEWERS) == [feed.COUNT.pack(2)]
        assert not broadcast.live  # on air only once the origin says with what
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: broadcast.live, 2, "the session on air at the edge")
        assert broadcast.source is not None and broadcast.source.codecs == VP8
        readout = broadcast.stats()  # what the edge's players and studio readout are told
        assert readout["live"] and readout["since"] is not None
        # Frames reach this worker's viewers, from a keyframe, as the origin encoded them.
        channel.send_frame("video", False, 3000, b"delta-0")
        channel.send_frame("video", True, 6000, b"key-1")
        channel.send_frame("video", False, 9000, b"delta-2")
        for track in viewers:
            assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"key-1"
            assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"delta-2"
        # Keyframe requests go up the feed, coalesced: many viewers asking make one request.
        origin.received.clear()
        await asyncio.sleep(KEYFRAME_INTERVAL)  # the attach's request above is past its interval
        for _ in range(20):
            broadcast.request_keyframe()
        await wait_for(lambda: origin.sent(feed.KEYFRAME), 2, "a keyframe request to the origin")
        await holds_for(lambda: len(origin.sent(feed.KEYFRAME)) == 1, KEYFRAME_INTERVAL / 2,
                        "one request for twenty")
        broadcast.attach(ForwardTrack("video", broadcast.request_keyframe))
        await wait_for(lambda: feed.COUNT.pack(3) in origin.sent(feed.VIEWERS), 3,
                       "the new viewer count")


async def test_the_origin_leaving_takes_the_edge_off_air_until_it_comes_back(
        cluster: Cluster, registry: Any) -> None:
    track = ForwardTrack("video", lambda: None)
    cluster.relay.broadcast(SESSION).attach(track)
    async with origins(Origin()) as (origin,), following(cluster):
        registry("origin-node", origin.address)
        channel = await origin.subscribed()
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: live_source(cluster), 2, "on air")
        first = live_source(cluster)
        channel.send_frame("video", True, 0, b"vp8-key")
        channel.send_frame("video", False, 3000, b"vp8-delta")
        assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"vp8-key"
        assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"vp8-delta"
        # The studio left: OFF. Off air here, and the edge looks again (the studio may come back).
        channel.send(feed.OFF)
        await wait_for(lambda: live_source(cluster) is None, 2, "off air after OFF")
        again = await origin.subscribed()
        again.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(H264)})
        await wait_for(lambda: live_source(cluster), 2, "on air again")
        assert live_source(cluster) is not first and live_source(cluster).codecs == H264  # type: ignore[union-attr]
        # Another stream: a viewer here starts it again on a keyframe, not on the old one's.
        again.send_frame("video", False, 0, b"h264-delta")
        again.send_frame("video", True, 3000, b"h264-key")
        assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"h264-key"
        # The origin worker dies (its connection drops, no OFF): the same.
        again.close()
        await wait_for(lambda: live_source(cluster) is None, 2, "off air after the drop")
        third = await origin.subscribed()
        third.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: live_source(cluster), 2, "on air a third time")
        assert origin.connections == 3


async def test_an_edge_follows_the_origin_when_it_moves(cluster: Cluster, registry: Any) -> None:
    """The studio reconnected to another worker: the registry names it, the old one says OFF."""
    async with origins(Origin(), Origin()) as (old, new), following(cluster):
        registry("old-node", old.address)
        channel = await old.subscribed()
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: live_source(cluster), 2, "on air from the old origin")
        registry("new-node", new.address)
        channel.send(feed.OFF)
        moved = await new.subscribed()
        moved.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: live_source(cluster), 2, "on air from the new origin")
        track = ForwardTrack("video", lambda: None)
        cluster.relay.broadcast(SESSION).attach(track)
        moved.send_frame("video", True, 3000, b"from the new origin")
        assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"from the new origin"
        assert old.connections == 1


async def test_nothing_is_followed_without_an_origin_elsewhere(cluster: Cluster,
                                                               registry: Any) -> None:
    async with origins(Origin()) as (origin,), following(cluster) as follower:
        registry(None)  # not on air anywhere
        registry(cluster.node, origin.address)  # this very worker is the origin: nothing to follow
        await holds_for(lambda: origin.connections == 0 and not follower.task.done(), 0.3,
                        "no feed to itself, and still looking")
        registry("origin-node", origin.address)
        await origin.subscribed()


async def test_an_origin_without_the_key_or_breaking_the_protocol_feeds_nothing(
        cluster: Cluster, registry: Any) -> None:
    wrong_key = Origin(feed.feed_key("another-event-secret-0123"))
    async with origins(wrong_key, Origin(impostor=True), Origin()) as (other, impostor, genuine), \
            following(cluster):
        for fake in (other, impostor):
            registry("fake-node", fake.address)
            await wait_for(lambda f=fake: f.connections >= 2, 3, "refused, and tried again")
            assert live_source(cluster) is None
        registry("origin-node", genuine.address)
        channel = await genuine.subscribed()
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: live_source(cluster), 2, "on air from the genuine origin")
        # A message an origin never sends: that connection ends, off air, and the edge reconnects.
        channel.send(feed.VIEWERS, feed.COUNT.pack(1))
        await wait_for(lambda: live_source(cluster) is None, 2, "off air after the bad message")
        await genuine.subscribed()
        assert genuine.closed >= 1


async def test_the_feed_never_overrides_a_studio_on_this_worker(cluster: Cluster,
                                                               registry: Any) -> None:
    broadcast = cluster.relay.broadcast(SESSION)
    track = ForwardTrack("video", lambda: None)
    broadcast.attach(track)
    async with origins(Origin()) as (origin,), following(cluster) as follower:
        registry("origin-node", origin.address)
        channel = await origin.subscribed()
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: broadcast.live, 2, "on air from the feed")
        local = Source(codecs=VP8, upstream=lambda: None)
        cluster.relay.on_air(SESSION, local)  # a studio reconnected to this very worker
        channel.send_frame("video", True, 0, b"from the old origin")
        broadcast.forward_frame("video", b"from the studio here", 0, True)
        assert bytes(await asyncio.wait_for(track.recv(), 5)) == b"from the studio here"
        await holds_for(lambda: not track._queue, 0.2, "nothing from the feed behind it")
        follower.stop()  # its feed ending must not take the studio here off air
        await stopped(follower)
        assert broadcast.source is local


async def test_stopping_ends_the_feed_and_takes_its_broadcast_off_air(
        cluster: Cluster, registry: Any) -> None:
    async with origins(Origin()) as (origin,), following(cluster) as follower:
        registry("origin-node", origin.address)
        channel = await origin.subscribed()
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: live_source(cluster), 2, "on air")
        follower.stop()
        await wait_for(lambda: origin.closed == 1, 2, "the feed connection closed")
        assert live_source(cluster) is None


async def test_stopping_while_the_feed_connects_still_stops(cluster: Cluster,
                                                             registry: Any) -> None:
    """The last viewer leaves (or a studio comes on air here) just as the feed's handshake
    completes: the follower must end all the same, not live on unseen, feeding a broadcast nobody
    here wants or replacing a studio of this worker with the origin's codecs."""
    async with origins(Origin()) as (origin,):
        registry("origin-node", origin.address)
        follower = Follower(cluster, SESSION)
        channel = await origin.subscribed()  # the handshake is just done at the edge too
        follower.stop()
        await stopped(follower)
        assert follower.task.done(), "the follower outlived its stop()"
        channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(VP8)})
        await wait_for(lambda: origin.closed == 1, 2, "the feed connection closed")
        assert live_source(cluster) is None and origin.connections == 1


async def test_an_edge_nobody_here_watches_drops_the_feed(cluster: Cluster,
                                                          registry: Any) -> None:
    """A viewer's WHEP that started following, then failed before it had a resource: the edge
    must not keep a feed open (and the origin sending to it) for nobody."""
    async with origins(Origin()) as (origin,):
        registry("origin-node", origin.address)
        cluster.follow_later(SESSION)
        follower = cluster.followers[SESSION]
        await origin.subscribed()
        await wait_for(lambda: origin.closed == 1, 5, "the feed dropped for want of viewers")
        assert SESSION not in cluster.followers and follower.task.done()
