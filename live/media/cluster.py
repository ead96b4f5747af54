"""Several relay workers, one stream: the studio is ingested once, viewers spread over workers.

With several processes on one port, the kernel hands each WHIP/WHEP request to any of them. The
worker that takes the studio's WHIP is the session's *origin*: it ingests the stream once and
registers itself in the registry (live/registry: `media:origin:S` = "node address", a TTL
refreshed while on air). A
worker asked to play a session it does not ingest becomes an *edge*: it subscribes to the origin's
feed (`live/media/feed.py`), one TCP connection per session and edge however many viewers it has,
and feeds its own `Broadcast` from it, so its viewers get the same fan-out, keyframe start and
codec negotiation as local ones. It drops the feed when its last viewer leaves.

Resource ids start with the owner's node id (`node.token`); each node registers its feed address
(`media:node:N`), so a PATCH or DELETE landing on another worker is forwarded to the owner.

Without Redis (one process) there is no cluster: the relay works alone, as before.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from typing import TYPE_CHECKING, Any

from live.config import Settings
from live.media import feed, onair
from live.media.broadcast import Source
from live.media.channels import ChoiceError, parse_choice
from live.media.edges import UNREACHABLE, Follower, Subscriber
from live.media.feed import FeedError
from live.media.sdp import BadOffer
from live.registry import Registry, RegistryError, open_registry

if TYPE_CHECKING:
    from live.media.relay import Relay

log = logging.getLogger(__name__)

TTL = 15  # seconds: a worker that died stops being an origin (or an address) this soon
REFRESH = 5.0
JOIN_WAIT = 3.0  # a viewer's WHEP waits this long for an edge's feed to bring the studio's codecs


class Cluster:
    """`registry`: the app's (it closes it); without one, the cluster opens its own on the
    settings' Redis and closes it."""

    def __init__(self, relay: Relay, settings: Settings, secret: str,
                 registry: Registry | None = None) -> None:
        assert settings.redis_url is not None
        self.relay, self.settings = relay, settings
        self.node = secrets.token_hex(4)  # unique across machines and restarts, unlike an index
        self.key = feed.feed_key(secret)
        self._own_registry = registry is None
        self.registry = registry or open_registry(settings.redis_url, prefix=settings.key_prefix)
        self.address = ""
        self.origins: set[str] = set()  # sessions whose studio this worker ingests
        self.subscribers: dict[str, set[Subscriber]] = {}
        self._leaving: set[str] = set()  # sessions gone off air here, not yet deregistered
        self.followers: dict[str, Follower] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifetime -------------------------------------------------------------------------------

    async def start(self) -> None:
        host = self.settings.feed_address
        self._server = await asyncio.start_server(self._handle, host, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"{host}:{port}"
        await self._register()
        self.spawn(self._refresh())
        log.info("media node %s (worker %d): feed on %s", self.node, self.settings.worker,
                 self.address)

    async def close(self) -> None:
        tasks = list(self._tasks)  # followers' too
        for task in tasks:
            task.cancel()
        # Awaited, so that no Redis command is cut off mid-way and leaves its connection behind.
        await asyncio.gather(*tasks, return_exceptions=True)
        # Our studios' registrations, those whose deregistering was just cancelled included: a
        # worker gone must not stay the origin for the TTL.
        for session_id in self.origins | self._leaving:
            await self._unregister(session_id)
        with contextlib.suppress(RegistryError):
            await self.registry.remove(self._node_key(self.node))
        if self._server is not None:
            self._server.close()
        for subs in self.subscribers.values():
            for sub in subs:
                sub.writer.close()
        if self._own_registry:
            await self.registry.close()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def _value(self) -> str:
        return f"{self.node} {self.address}"

    @staticmethod
    def _origin_key(session_id: str) -> str:
        return f"media:origin:{session_id}"

    @staticmethod
    def _node_key(node: str) -> str:
        return f"media:node:{node}"

    async def _register(self) -> None:
        await self.registry.put(self._node_key(self.node), self.address, TTL)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH)
            try:
                await self.refresh()
            except RegistryError as exc:
                log.warning("media registry refresh failed: %r", exc)

    async def refresh(self) -> None:
        await self._register()
        for session_id in list(self.origins):
            if session_id in self.origins:  # not gone off air during the awaits before it
                # Never taken from another worker, which a studio reconnecting there made the
                # origin; made again if it expired (Redis restarted, say).
                await self.registry.renew(self._origin_key(session_id), self._value, TTL)

    # -- the origin's side ----------------------------------------------------------------------

    def on_air(self, session_id: str, source: Source) -> None:
        """A studio went on air here: this worker is the origin, edges get the codecs."""
        follower = self.followers.pop(session_id, None)
        if follower is not None:
            follower.stop()  # local ingest replaces the feed from another worker
        self.origins.add(session_id)
        self._leaving.discard(session_id)
        for sub in self.subscribers.get(session_id, ()):
            sub.codecs(source.codecs)
        self.spawn(self._claim(session_id))

    async def _claim(self, session_id: str) -> None:
        try:
            previous = await self.registry.put(self._origin_key(session_id), self._value, TTL)
        except RegistryError as exc:  # the refresh registers it once Redis answers
            log.warning("%s: cannot register as its origin: %r", session_id, exc)
            return
        if previous and previous != self._value:
            # The studio reconnected to another worker: the old one ends its connection (its
            # edges, told OFF, find this origin in the registry).
            node, _, address = str(previous).partition(" ")
            try:
                await feed.call(address, self.key, {"op": "release", "session": session_id})
            except UNREACHABLE as exc:
                log.info("%s: the previous origin %s did not answer: %r", session_id, node, exc)

    async def _unregister(self, session_id: str) -> None:
        try:
            await self.registry.release(self._origin_key(session_id), self._value)
        except RegistryError as exc:  # expires on its own (TTL)
            log.warning("%s: cannot deregister as its origin: %r", session_id, exc)
        self._leaving.discard(session_id)

    def off_air(self, session_id: str) -> None:
        """The studio left this worker: deregister, tell the edges, follow if viewers remain."""
        if session_id in self.origins:
            self.origins.discard(session_id)
            self._leaving.add(session_id)
            self.spawn(self._unregister(session_id))
        for sub in self.subscribers.pop(session_id, set()):
            sub.channel.send(feed.OFF)
            sub.channel.close()
        if self.relay.local_viewers(session_id):
            self._follow(session_id)  # the studio may come back on another worker

    def viewers(self, session_id: str) -> int:
        """The viewers the edges of this origin reported."""
        return sum(sub.viewers for sub in self.subscribers.get(session_id, ()))

    # -- the edge's side ------------------------------------------------------------------------

    async def origin(self, session_id: str) -> tuple[str, str] | None:
        value = await self.registry.get(self._origin_key(session_id))
        if not value:
            return None
        node, _, address = str(value).partition(" ")
        return node, address

    def _follow(self, session_id: str) -> None:
        if session_id not in self.followers and session_id not in self.origins:
            self.followers[session_id] = Follower(self, session_id)

    def follow_later(self, key: str) -> None:
        """Follow a broadcast whether or not it is on air yet (an interpretation channel a
        listener chose): the follower looks for its origin until it comes, or nobody wants it."""
        self._follow(key)

    async def follow(self, session_id: str) -> bool:
        """For a viewer's WHEP: is the session on air somewhere (and its feed coming here)?"""
        broadcast = self.relay.broadcast(session_id)
        if broadcast.live:
            return True
        if session_id not in self.followers and await self.origin(session_id) is None:
            return False
        self._follow(session_id)
        for _ in range(int(JOIN_WAIT / 0.05)):
            if broadcast.live:
                return True
            await asyncio.sleep(0.05)
        if not self.relay.local_viewers(session_id):
            self.unfollow(session_id)  # nobody here to follow it for (a stale registration)
        return False

    def unfollow(self, session_id: str) -> None:
        """The last viewer of this worker left: drop the feed."""
        follower = self.followers.pop(session_id, None)
        if follower is not None:
            follower.stop()

    # -- requests for another worker ------------------------------------------------------------

    def owner(self, resource_id: str) -> str:
        return resource_id.partition(".")[0]

    async def forward(self, resource_id: str, kind: str, session_id: str, method: str,
                      body: bytes) -> tuple[int, str]:
        """A PATCH/DELETE for a resource of another node: (status, message) from its owner."""
        address = await self.registry.get(self._node_key(self.owner(resource_id)))
        if not address:
            return 404, "no such WHIP/WHEP session"
        reply = await feed.call(str(address), self.key, {
            "op": "resource", "id": resource_id, "kind": kind, "session": session_id,
            "method": method, "body": base64.b64encode(body).decode()})
        return int(reply.get("status", 502)), str(reply.get("message", ""))

    async def stats(self, session_id: str) -> dict[str, Any]:
        """The readout, over all workers: asked of the origin when it is another worker (which
        answers with its own figures, never asking further: no request bounces between two
        workers while the registry changes hands)."""
        if session_id not in self.origins:
            try:
                origin = await self.origin(session_id)
            except RegistryError:
                origin = None
            if origin is not None and origin[0] != self.node:
                try:
                    return await feed.call(origin[1], self.key, {"op": "stats", "session": session_id})
                except UNREACHABLE as exc:  # this worker's view, then
                    log.info("%s: the origin's readout failed: %r", session_id, exc)
        return self._local_stats(session_id)

    def _local_stats(self, session_id: str) -> dict[str, Any]:
        stats = self.relay.stats(session_id)
        stats["viewers"] += self.viewers(session_id)
        return stats

    # -- the feed server ------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            request, channel = await feed.accept_request(reader, writer, self.key)
            op, session_id = request["op"], str(request.get("session", ""))
            if op == "subscribe":
                await self._serve_feed(session_id, str(request.get("node", "?")), channel)
            elif op == "resource":
                status, message = await self._resource(request)
                channel.send_json(feed.REPLY, {"status": status, "message": message})
            elif op == "release":
                for resource in list(self.relay.resources.values()):
                    if resource.kind == "whip" and resource.session_id == session_id:
                        await self.relay.end(resource.id)
                channel.send_json(feed.REPLY, {"status": 200})
            elif op == "stats":
                channel.send_json(feed.REPLY, self._local_stats(session_id))
            else:
                raise FeedError(f"unknown op {op!r}")
            await writer.drain()
        except (FeedError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            log.warning("feed connection from %s closed: %s", peer, exc or type(exc).__name__)
        except (ConnectionError, OSError):
            pass  # the peer went away
        except Exception:  # a bug here costs this connection, never the worker
            log.exception("feed connection from %s failed", peer)
        finally:
            writer.close()

    async def _serve_feed(self, session_id: str, node: str, channel: feed.Channel) -> None:
        broadcast = self.relay.broadcasts.get(session_id)
        if session_id not in self.origins or broadcast is None or broadcast.source is None:
            channel.send(feed.OFF)  # not (or no longer) the origin: look again
            return
        sub = Subscriber(broadcast, node, channel)
        self.subscribers.setdefault(session_id, set()).add(sub)
        broadcast.taps.add(sub.push)
        sub.codecs(broadcast.source.codecs)
        log.info("%s: edge %s subscribed", session_id, node)
        try:
            while True:
                kind, payload = await channel.receive(feed.MAX_REQUEST)
                if kind == feed.KEYFRAME:
                    broadcast.request_keyframe()
                elif kind == feed.VIEWERS and len(payload) == feed.COUNT.size:
                    sub.viewers = feed.COUNT.unpack(payload)[0]
                else:
                    raise FeedError(f"unexpected message type {kind} from an edge")
        except asyncio.IncompleteReadError:
            pass  # the edge left (no viewers) or went away
        finally:
            broadcast.taps.discard(sub.push)
            subs = self.subscribers.get(session_id, set())
            subs.discard(sub)
            if not subs:
                self.subscribers.pop(session_id, None)
            log.info("%s: edge %s left (%d frames sent, %d skipped while it lagged)", session_id,
                     node, sub.frames_sent, sub.dropped)

    async def _resource(self, request: dict[str, Any]) -> tuple[int, str]:
        from live.media.relay import RelayError

        resource = self.relay.resources.get(str(request.get("id")))
        if resource is None or resource.kind != request.get("kind") \
                or resource.session_id != request.get("session"):
            return 404, "no such WHIP/WHEP session"
        if request.get("method") == "DELETE":
            await onair.delete(self.relay, resource)  # the studio's may end the broadcast
            return 200, ""
        body = base64.b64decode(str(request.get("body", "")))
        try:
            if request.get("method") == "PUT":  # a player's audio choice (live/media/channels.py)
                self.relay.choose(resource, parse_choice(body, None))
                return 204, ""
            await self.relay.trickle(resource, body)
        except RelayError as exc:
            return exc.status, exc.message
        except ChoiceError as exc:
            return 400, f"bad audio choice: {exc}"
        except BadOffer as exc:
            return 400, str(exc)
        return 204, ""
