"""The two ends of a feed between relay workers (live/media/cluster.py has the whole picture).

`Subscriber` is an edge's connection as the origin sees it: a tap on the session's broadcast that
writes each frame once to that edge, whatever its viewer count. `Follower` is the edge's side: it
follows whichever worker is the session's origin, and feeds the edge's own broadcast from it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media import feed
from live.media.broadcast import Broadcast, Source
from live.media.feed import FeedError
from live.registry import RegistryError

if TYPE_CHECKING:
    from live.media.cluster import Cluster

log = logging.getLogger(__name__)

POLL = 0.5  # an edge without an origin (studio away, or moving to another worker) looks this often
WRITE_BACKLOG = 2 * 1024 * 1024  # bytes queued to one edge before it is skipped to a keyframe
# Another worker or Redis not answering: the request fails (a 503) but the worker carries on.
UNREACHABLE = (OSError, EOFError, FeedError, TimeoutError, RegistryError)


class Subscriber:
    """An edge's feed connection, at the origin: a tap on the broadcast, frames sent once."""

    def __init__(self, broadcast: Broadcast, node: str, channel: feed.Channel) -> None:
        self.broadcast, self.node, self.channel = broadcast, node, channel  # node: the edge's
        self.writer = channel.writer
        self.waiting_for_keyframe = True
        self.viewers = 0
        self.frames_sent = 0
        self.dropped = 0

    def codecs(self, codecs: dict[str, RTCRtpCodecParameters]) -> None:
        self.channel.send_json(feed.CODECS, {"codecs": feed.codecs_to_json(codecs)})
        self.waiting_for_keyframe = True

    def push(self, kind: str, data: bytes, timestamp: int, keyframe: bool) -> None:
        if self.writer.is_closing():
            return
        if kind == "video":
            if self.waiting_for_keyframe and not keyframe:
                self.broadcast.request_keyframe()
                return
            self.waiting_for_keyframe = False
        # A slow edge (or network) must not grow the origin's memory: skip to the next keyframe,
        # as a slow viewer's track does.
        if self.writer.transport.get_write_buffer_size() > WRITE_BACKLOG:
            self.dropped += 1
            if kind == "video":
                self.waiting_for_keyframe = True
                self.broadcast.request_keyframe()
            return
        self.channel.send_frame(kind, keyframe, timestamp, data)  # its MAC: feed.Channel
        self.frames_sent += 1


class Follower:
    """An edge's side: follows whatever worker is the session's origin while viewers are here."""

    def __init__(self, cluster: Cluster, session_id: str) -> None:
        self.cluster, self.session_id = cluster, session_id
        self.source: Source | None = None
        self._channel: feed.Channel | None = None
        # Besides the cancellation: Python 3.11's asyncio.wait_for (the feed's handshake, redis-py
        # connecting) drops a cancellation that lands as what it waits for completes.
        self.stopped = False
        self.task = cluster.spawn(self._run())

    async def _run(self) -> None:
        while not self.stopped:
            try:
                await self._follow_once()
            except UNREACHABLE as exc:
                log.info("feed of %s interrupted: %r", self.session_id, exc)
            except Exception:  # a bug must not leave the viewers here without a feed for good
                log.exception("feed of %s failed", self.session_id)
            finally:
                self._off()
            await asyncio.sleep(POLL)

    async def _follow_once(self) -> None:
        origin = await self.cluster.origin(self.session_id)
        if origin is None or origin[0] == self.cluster.node or self.stopped:
            return
        # The origin proves it holds the key before anything it sends is believed.
        channel = await feed.open_request(origin[1], self.cluster.key, {
            "op": "subscribe", "session": self.session_id, "node": self.cluster.node})
        if self.stopped:  # stopped during the handshake (its cancellation lost: see __init__)
            channel.close()
            return
        self._channel = channel
        reporter = asyncio.ensure_future(self._report_viewers(channel))
        broadcast = self.cluster.relay.broadcast(self.session_id)
        try:
            while True:
                kind, payload = await channel.receive()
                if kind == feed.FRAME:
                    media, keyframe, timestamp, data = feed.unpack_frame(payload)
                    if self.source is not None and broadcast.source is self.source:
                        broadcast.forward_frame(media, data, timestamp, keyframe)
                elif kind == feed.CODECS:
                    codecs = feed.codecs_from_json(feed.parse_json(payload).get("codecs"))
                    self.source = Source(codecs=codecs, upstream=self._request_keyframe)
                    self.cluster.relay.on_air(self.session_id, self.source)
                    log.info("%s: edge of %s", self.session_id, origin[0])
                elif kind == feed.OFF:
                    return
                else:
                    raise FeedError(f"unexpected message type {kind} on a feed")
        except asyncio.IncompleteReadError:
            return  # the origin went away: look again
        finally:
            reporter.cancel()
            channel.close()
            self._channel = None

    def _request_keyframe(self) -> None:
        # Already coalesced by this edge's broadcast; the origin's coalesces all edges again.
        if self._channel is not None and not self._channel.writer.is_closing():
            self._channel.send(feed.KEYFRAME)

    async def _report_viewers(self, channel: feed.Channel) -> None:
        last, idle = -1, 0
        while not channel.writer.is_closing():
            viewers = self.cluster.relay.broadcast(self.session_id).viewers
            if viewers != last:
                channel.send(feed.VIEWERS, feed.COUNT.pack(viewers))
                last = viewers
            # Viewers leaving end the feed at once (Relay.end); this catches a WHEP that started
            # following and then failed before it had a resource.
            idle = 0 if self.cluster.relay.local_viewers(self.session_id) else idle + 1
            if idle >= 3:
                self.cluster.unfollow(self.session_id)
                return
            await asyncio.sleep(1.0)

    def _off(self) -> None:
        if self.source is not None:
            self.cluster.relay.broadcast(self.session_id).stop(self.source)
            self.source = None

    def stop(self) -> None:
        self.stopped = True
        self.task.cancel()
