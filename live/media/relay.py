"""The relay: WHIP sessions in from studios, WHEP sessions out to viewers, one broadcast per session.

HTTP lives in `live/media/routes.py`; this module owns the peer connections and their lifetimes.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCBundlePolicy, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from live.config import Settings
from live.media import internals, sdp
from live.media.broadcast import Broadcast, ForwardTrack, Source
from live.media.channels import Choice, Listening, split_key
from live.media.cluster import Cluster
from live.media.edges import UNREACHABLE
from live.media.feeds import is_feed
from live.media.ice import IceServers
from live.media.jitter import studio_buffer
from live.media.onair import OnAirNews
from live.media.recording import Recorder
from live.media.sdp import BadOffer, CandidatePolicy, Offer, parse_fragment, parse_offer
from live.media.viewers import Viewer, over_share
from live.registry import Registry

log = logging.getLogger(__name__)

# A peer that has not connected (ICE and DTLS) by then is dropped, freeing its viewer slot: a
# real one takes 0.1-2 s (TURN over TCP a little more); a WHEP POST from a peer that never
# answers ICE held a slot for 20 s before (measured), so a flood of them could fill the relay.
CONNECT_TIMEOUT = 8.0
NOT_LIVE_RETRY = 2  # seconds, the Retry-After of a WHEP request made before the studio is on air
FULL_RETRY = 10
LIMITED_RETRY = 30  # seconds, the Retry-After of a 429: a viewer of the same address or link leaving
STUDIO_VIDEO = ("video/vp8", "video/h264")  # what we forward: browsers play both, OBS sends H.264
STUDIO_AUDIO = ("audio/opus",)
# The studio's packets must not be lost while the event loop is busy sending a keyframe to every
# viewer: aioice's 256 KiB overflowed at 100 viewers (bench/relay.py), 4 MiB did not.
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024
PUBLISH_DIRECTIONS = frozenset({"sendonly", "sendrecv"})
PLAY_DIRECTIONS = frozenset({"recvonly", "sendrecv"})


class RelayError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def _capabilities(kind: str, mime_types: tuple[str, ...],
                  like: RTCRtpCodecParameters | None = None) -> list[RTCRtpCodecCapability]:
    """aiortc's codecs of these types (and RTX), those matching `like`'s H.264 mode if given."""
    chosen = []
    for codec in RTCRtpSender.getCapabilities(kind).codecs:
        mime = codec.mimeType.lower()
        if mime.endswith("/rtx"):
            chosen.append(codec)
        elif mime in mime_types and (like is None or mime != "video/h264" or str(
                codec.parameters.get("packetization-mode", 0))
                == str(like.parameters.get("packetization-mode", 0))):
            chosen.append(codec)
    return chosen


@dataclass
class Resource:
    """One WHIP (studio) or WHEP (viewer) session, addressed by its unguessable id."""

    id: str
    session_id: str
    kind: str  # "whip" or "whep"
    pc: RTCPeerConnection
    offer: Offer
    source: Source | None = None  # whip
    tracks: list[ForwardTrack] = field(default_factory=list)  # whep
    video_codec: str | None = None  # whep: what the viewer negotiated
    connected: bool = False
    viewer: Viewer | None = None  # whep: who asked, for the per-address and per-link bounds
    choice: Choice = field(default_factory=Choice)  # whep: the language it hears


class Relay:
    """`secret` (the service's) authenticates the feed between workers; with Redis configured,
    `start()` joins the other workers (live/media/cluster.py), else the relay works alone."""

    def __init__(self, settings: Settings, secret: str | None = None) -> None:
        internals.check()
        internals.restrict_host_addresses(settings.media_addresses)
        internals.set_udp_receive_buffer(UDP_RECEIVE_BUFFER)
        internals.offer_rsa_certificate_suites()  # GStreamer and other RSA-certificate peers
        internals.lighten_per_viewer_work()
        # One rule for the candidates of offers and of trickled fragments (live/media/sdp.py).
        self.candidates = CandidatePolicy.for_relay(settings.media_addresses,
                                                    settings.private_candidates)
        if not settings.private_candidates and any(
                ipaddress.ip_address(a).is_private and not ipaddress.ip_address(a).is_loopback
                for a in settings.media_addresses or ()):
            log.warning("the relay offers a private address but ignores clients' private "
                        "candidates: for an event on a LAN, set TRIBUNE_PRIVATE_CANDIDATES=1")
        self.settings = settings
        self.ice = IceServers(settings.ice_servers, settings.turn_secret, settings.turn_ttl)
        self.broadcasts: dict[str, Broadcast] = {}
        self.resources: dict[str, Resource] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._secret = secret
        self.cluster: Cluster | None = None
        self.listening = Listening(self)
        self.news: OnAirNews | None = None  # tells the pages (live/media/onair.py)
        self.recorder = Recorder(self, settings) if settings.recordings else None

    async def start(self, registry: Registry | None = None) -> None:
        if self.settings.redis_url and self._secret:
            self.cluster = Cluster(self, self.settings, self._secret, registry)
            await self.cluster.start()

    def _new_id(self) -> str:
        token = secrets.token_urlsafe(16)
        # The owner's node first: any worker can tell where to forward a PATCH or DELETE.
        return f"{self.cluster.node}.{token}" if self.cluster else token

    def broadcast(self, key: str) -> Broadcast:
        """The floor's broadcast (key: the session id) or an interpretation channel's
        (`session@language`, live/media/channels.py)."""
        if key not in self.broadcasts:
            broadcast = self.broadcasts[key] = Broadcast(key)
            session_id, language = split_key(key)
            if language is not None:  # its listeners move when it goes on or off air
                broadcast.on_live_change = lambda: self.listening.reroute(session_id)
        return self.broadcasts[key]

    def follow_channel(self, key: str) -> None:
        """A listener here chose a channel not on air here: follow it from whichever worker
        ingests it, now or when its interpreter comes on air."""
        if self.cluster is not None:
            self.cluster.follow_later(key)

    def unfollow_channel(self, key: str) -> None:
        if self.cluster is not None:
            self.cluster.unfollow(key)

    def stats(self, session_id: str) -> dict[str, Any]:
        """This worker's view of the session."""
        stats = self.broadcast(session_id).stats()
        if self.recorder is not None:
            stats["recording"] = self.recorder.status(session_id)
        return stats

    async def readout(self, session_id: str) -> dict[str, Any]:
        """The session over all workers (the origin's figures, every worker's viewers)."""
        return await self.cluster.stats(session_id) if self.cluster else self.stats(session_id)

    async def is_on_air(self, key: str) -> bool:
        """Whether the broadcast `key` is on air here or on another worker (one registry
        lookup, not the origin's whole readout)."""
        if self.broadcast(key).live:
            return True
        if self.cluster is None:
            return False
        try:
            return await self.cluster.origin(key) is not None
        except UNREACHABLE:
            return False

    def local_viewers(self, key: str) -> int:
        """Players here of the broadcast `key` (for a channel: playing it, or listening to it
        through the floor's player)."""
        return sum(1 for r in self.resources.values()
                   if r.kind == "whep" and r.session_id == key) + self.listening.wanted(key)

    @property
    def viewer_count(self) -> int:
        return sum(1 for r in self.resources.values() if r.kind == "whep")

    def _peer(self, offer: Offer) -> RTCPeerConnection:
        configuration = self.ice.rtc_configuration("relay")  # its own TURN credentials
        if offer.bundled:
            # One transport from the start. Under aiortc's default ("balanced"), a second audio
            # section gets the first one's transport when created and keeps it when BUNDLE
            # moves the first onto the video's: it never sends (seen with aiortc 1.16). It also
            # saves gathering candidates for a transport that BUNDLE then discards.
            configuration.bundlePolicy = RTCBundlePolicy.MAX_BUNDLE
        return RTCPeerConnection(configuration)

    async def publish(self, session_id: str, body: bytes) -> tuple[Resource, str]:
        """A studio's offer (or an interpreter's, for a channel key): returns the resource and
        the answer. Goes on air once connected, replacing the earlier connection if any (a
        reloaded page, a restarted encoder, the booth partner taking over)."""
        offer = parse_offer(body, directions=PUBLISH_DIRECTIONS, policy=self.candidates)
        if split_key(session_id)[1] is not None and offer.kinds != ("audio",):
            raise BadOffer("an interpretation channel carries one audio track, nothing else")
        pc = self._peer(offer)
        source = Source(video_ssrc=offer.video_ssrc)
        resource = Resource(self._new_id(), session_id, "whip", pc, offer, source=source)
        source.publisher = publisher_digest(resource.id)
        broadcast = self.broadcast(session_id)
        for kind in offer.kinds:
            pc.addTransceiver(kind, direction="recvonly").setCodecPreferences(
                _capabilities(kind, STUDIO_VIDEO if kind == "video" else STUDIO_AUDIO))

        @pc.on("track")
        def on_track(track: Any) -> None:
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            internals.tap_receiver(receiver, broadcast.sink(source, track.kind))
            if track.kind == "video":
                source.video_receiver = receiver
            internals.replace_jitter_buffer(
                receiver, studio_buffer(track.kind, lambda: broadcast.lost_video(source)))

        answer = await self._negotiate(resource)
        source.codecs = sdp.negotiated_codecs(answer)
        return resource, answer

    def _check_bounds(self, viewer: Viewer) -> None:
        """A 503 when this process is full, a 429 when the viewer's address or private link has
        its share: before any peer connection exists, so a refused request costs nothing more."""
        if self.viewer_count >= self.settings.max_viewers:
            raise RelayError(503, "this server has as many viewers as it can take", FULL_RETRY)
        others = [r.viewer for r in self.resources.values() if r.kind == "whep" and r.viewer]
        refusal = over_share(viewer, others, self.settings)
        if refusal is not None:
            raise RelayError(429, refusal, LIMITED_RETRY)

    async def play(self, session_id: str, body: bytes, viewer: Viewer | None = None,
                   choice: Choice | None = None) -> tuple[Resource, str]:
        """A viewer's offer: answered with the studio's codecs; media flows once connected.
        A player of the floor hears `choice` (live/media/channels.py): its first audio section
        carries the language chosen, a second one the floor under it."""
        viewer = viewer or Viewer()
        live = self.broadcast(session_id).live
        if not live and self.cluster is not None:
            try:
                live = await self.cluster.follow(session_id)  # on air on another worker: be its edge
            except UNREACHABLE as exc:
                log.warning("%s: cannot look for its origin: %r", session_id, exc)
                raise RelayError(503, "the relay cannot reach its other workers", FULL_RETRY) from None
        broadcast = self.broadcast(session_id)
        if not live or broadcast.source is None:
            raise RelayError(409, "the broadcast has not started", NOT_LIVE_RETRY)
        # No await from here until _negotiate registers the resource: concurrent requests
        # cannot all pass the bounds at once.
        self._check_bounds(viewer)
        offer = parse_offer(body, directions=PLAY_DIRECTIONS, policy=self.candidates,
                            audio_sections=2)
        pc = self._peer(offer)
        resource = Resource(self._new_id(), session_id, "whep", pc, offer, viewer=viewer,
                            choice=choice or Choice())
        studio = broadcast.source.codecs
        for kind in offer.kinds:
            track = ForwardTrack(kind, broadcast.request_keyframe)
            resource.tracks.append(track)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            if kind == "video":
                mimes = (studio["video"].mimeType.lower(),) if "video" in studio else STUDIO_VIDEO
                transceiver.setCodecPreferences(_capabilities(kind, mimes, studio.get("video")))
            else:
                transceiver.setCodecPreferences(_capabilities(kind, STUDIO_AUDIO))
            broadcast.serve(transceiver.sender, kind)
        answer = await self._negotiate(resource)
        video = sdp.negotiated_codecs(answer).get("video")
        resource.video_codec = video.mimeType.lower() if video else None
        return resource, answer

    async def _negotiate(self, resource: Resource) -> str:
        pc = resource.pc
        self.resources[resource.id] = resource

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "connected" and not resource.connected:
                resource.connected = True
                self._connected(resource)
            elif pc.connectionState in ("failed", "closed"):
                await self.end(resource.id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(resource.offer.sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises various types for offers it cannot take
            await self.end(resource.id)
            raise BadOffer(f"the offer cannot be negotiated: {exc}") from None
        self._spawn(self._watchdog(resource))
        log.info("%s %s for %s: %s", resource.kind, resource.id[:6], resource.session_id,
                 "/".join(resource.offer.kinds))
        return str(pc.localDescription.sdp)

    def _connected(self, resource: Resource) -> None:
        broadcast = self.broadcast(resource.session_id)
        if resource.kind == "whep":
            audio = [t for t in resource.tracks if t.kind == "audio"]
            for track in resource.tracks:
                if track.kind == "video" or split_key(resource.session_id)[1] is not None:
                    broadcast.attach(track)  # a channel's own player: no choice to make
            if audio and split_key(resource.session_id)[1] is None:
                self.listening.join(resource, audio[0], audio[1] if len(audio) > 1 else None,
                                    resource.choice)
            return
        assert resource.source is not None
        self.on_air(resource.session_id, resource.source)
        if self.cluster is not None:
            self.cluster.on_air(resource.session_id, resource.source)
        if is_feed(resource.session_id):  # a guest's or the return feed: nobody's audience
            return
        if self.news is not None:
            self.news.on_air(resource.session_id)
        if self.recorder is not None:  # only here, where the studio publishes: recorded once
            self.recorder.on_air(resource.session_id)

    def on_air(self, session_id: str, source: Source) -> None:
        """A source starts feeding the session's viewers: a studio here, or (on an edge) the
        origin's feed. It replaces the studio's earlier connection, and viewers who negotiated
        another video codec are closed (their players reconnect and negotiate the new one)."""
        broadcast = self.broadcast(session_id)
        previous = broadcast.source
        broadcast.start(source)
        log.info("%s on air (%s)", session_id, ", ".join(c.mimeType for c in source.codecs.values()))
        video = source.codecs["video"].mimeType.lower() if "video" in source.codecs else None
        for other in list(self.resources.values()):
            if other.session_id != session_id:
                continue
            if other.kind == "whip" and other.source is previous and previous is not None:
                self._spawn(self.end(other.id))  # the studio's earlier connection
            elif other.kind == "whep" and other.video_codec and video \
                    and other.video_codec != video:
                self._spawn(self.end(other.id))  # cannot switch codec: the player reconnects

    async def _watchdog(self, resource: Resource) -> None:
        await asyncio.sleep(CONNECT_TIMEOUT)
        if not resource.connected and resource.id in self.resources:
            log.info("%s %s never connected: dropped", resource.kind, resource.id[:6])
            await self.end(resource.id)

    def choose(self, resource: Resource, choice: Choice) -> None:
        """A player's language (and floor under it) changed: its audio moves, its video stays."""
        if resource.kind != "whep" or split_key(resource.session_id)[1] is not None:
            raise RelayError(409, "only a player of the session's floor chooses a language")
        self.listening.choose(resource, choice)

    async def trickle(self, resource: Resource, body: bytes) -> None:
        """RFC 8840 candidates for a session; an ICE restart (new credentials) is refused."""
        fragment = parse_fragment(body, policy=self.candidates)
        if (fragment.ice_ufrag not in (None, resource.offer.ice_ufrag)
                or fragment.ice_pwd not in (None, resource.offer.ice_pwd)):
            raise RelayError(422, "ICE restarts are not supported: send a new offer")
        for candidate in fragment.candidates:
            await resource.pc.addIceCandidate(candidate)

    async def end(self, resource_id: str) -> bool:
        resource = self.resources.pop(resource_id, None)
        if resource is None:
            return False
        broadcast = self.broadcasts.get(resource.session_id)
        if resource.source is not None and broadcast is not None \
                and broadcast.source is resource.source:
            broadcast.stop(resource.source)
            log.info("%s off air", resource.session_id)
            if self.recorder is not None:
                self.recorder.off_air(resource.session_id)
            if self.cluster is not None:
                self.cluster.off_air(resource.session_id)
        if resource.kind == "whep":
            self.listening.leave(resource.id)
        if resource.kind == "whep" and self.cluster is not None \
                and not self.local_viewers(resource.session_id):
            self.cluster.unfollow(resource.session_id)  # the last viewer here: drop the feed
        for track in resource.tracks:
            track.stop()
        await resource.pc.close()
        return True

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for resource_id in list(self.resources):
            await self.end(resource_id)
        if self.cluster is not None:
            await self.cluster.close()
        if self.recorder is not None:
            await self.recorder.close()


def publisher_digest(resource_id: str) -> str:
    """What the readout shows of a publisher's resource id: enough to recognise one's own
    (SHA-256, as the page computes it), nothing to address the resource with."""
    return hashlib.sha256(resource_id.encode()).hexdigest()[:16]


