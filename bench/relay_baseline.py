"""The re-encoding baseline for bench/relay.py: WHIP in, WHEP out, relayed by aiortc's stock MediaRelay.

    python -m bench.relay_baseline --port 8100 [--bitrate 1000000] [--buffered]

The studio's track is decoded once (its receiver's decoder thread), `MediaRelay.subscribe(track)`
hands each viewer's sender the same decoded frame, and every viewer's sender encodes it again:
decode once, encode per viewer, as aiortc's examples relay a webcam. No authentication (a bench
tool, loopback only): POST an SDP offer to /sessions/{id}/whip or /sessions/{id}/whep, get 201, the
answer and a Location to DELETE; 409 + Retry-After when no studio is live; GET /healthz.

To compare like with like, the viewers' encoders get the studio's fixed bitrate (`--bitrate`, the
same module constants the bench sets in its publisher; 0 keeps aiortc's 250 kbps-1.5 Mbps range
driven by each viewer's REMB, which also rebuilds an encoder, keyframe included, on every >10 %
move). Host candidates: 127.0.0.1 only; no ICE servers.

`--buffered` uses `subscribe(track, buffered=True)` (aiortc's default: an unbounded queue per viewer,
so a saturated server queues frames and memory instead of dropping them); the default here is
`buffered=False` (a viewer whose encoder is late skips to the newest frame, as live video should).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiortc.codecs.vpx as vpx
import uvicorn
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from live.media import internals
from live.media.ice import rtc_configuration

log = logging.getLogger("relay_baseline")


@dataclass
class Studio:
    pc: RTCPeerConnection
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    drains: list[asyncio.Task[None]] = field(default_factory=list)


class Baseline:
    def __init__(self, buffered: bool) -> None:
        self.relay = MediaRelay()
        self.buffered = buffered
        self.studios: dict[str, Studio] = {}
        self.pcs: dict[str, RTCPeerConnection] = {}  # resource id -> connection (studios, viewers)

    def _keep(self, rid: str, pc: RTCPeerConnection) -> None:
        self.pcs[rid] = pc

        @pc.on("connectionstatechange")
        async def changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._drop(rid)

    async def _drop(self, rid: str) -> None:
        pc = self.pcs.pop(rid, None)
        for session, studio in list(self.studios.items()):
            if studio.pc is pc:
                del self.studios[session]
                for task in studio.drains:
                    task.cancel()
        if pc is not None:
            for sender in pc.getSenders():
                if sender.track is not None:
                    sender.track.stop()  # unsubscribes the relay proxy
            await pc.close()

    async def _drain(self, track: MediaStreamTrack) -> None:
        """Read the relayed studio track even with no viewer: the receiver decodes every frame into
        an unbounded queue, and MediaRelay only reads its source while a subscriber reads."""
        proxy = self.relay.subscribe(track, buffered=False)
        with contextlib.suppress(MediaStreamError):
            while True:
                await proxy.recv()

    async def whip(self, request: Request) -> Response:
        session = request.path_params["session"]
        if session in self.studios:
            return PlainTextResponse("a studio is already live\n", status_code=409)
        pc = RTCPeerConnection(rtc_configuration())
        studio = Studio(pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            studio.tracks[track.kind] = track
            studio.drains.append(asyncio.create_task(self._drain(track)))

        await pc.setRemoteDescription(RTCSessionDescription((await request.body()).decode(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        rid = secrets.token_hex(8)
        self.studios[session] = studio
        self._keep(rid, pc)
        return Response(pc.localDescription.sdp, status_code=201, media_type="application/sdp",
                        headers={"location": f"/sessions/{session}/whip/{rid}"})

    async def whep(self, request: Request) -> Response:
        session = request.path_params["session"]
        studio = self.studios.get(session)
        if studio is None or "video" not in studio.tracks:
            return PlainTextResponse("no studio is live\n", status_code=409,
                                     headers={"retry-after": "1"})
        pc = RTCPeerConnection(rtc_configuration())
        await pc.setRemoteDescription(RTCSessionDescription((await request.body()).decode(), "offer"))
        for transceiver in pc.getTransceivers():
            source = studio.tracks.get(transceiver.kind)
            if source is not None and transceiver.sender.track is None:
                pc.addTrack(self.relay.subscribe(source, buffered=self.buffered))
        await pc.setLocalDescription(await pc.createAnswer())
        rid = secrets.token_hex(8)
        self._keep(rid, pc)
        return Response(pc.localDescription.sdp, status_code=201, media_type="application/sdp",
                        headers={"location": f"/sessions/{session}/whep/{rid}"})

    async def delete(self, request: Request) -> Response:
        await self._drop(request.path_params["rid"])
        return Response(status_code=200)

    async def close(self) -> None:
        await asyncio.gather(*(self._drop(rid) for rid in list(self.pcs)), return_exceptions=True)


def create_app(buffered: bool) -> Starlette:
    baseline = Baseline(buffered)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await baseline.close()

    return Starlette(routes=[
        Route("/healthz", healthz),
        Route("/sessions/{session}/whip", baseline.whip, methods=["POST"]),
        Route("/sessions/{session}/whep", baseline.whep, methods=["POST"]),
        Route("/sessions/{session}/{kind:str}/{rid}", baseline.delete, methods=["DELETE"]),
    ], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--bitrate", type=int, default=1_000_000,
                        help="fixed VP8 bitrate of every viewer's encoder (0: aiortc's REMB range)")
    parser.add_argument("--buffered", action="store_true", help="MediaRelay's unbounded per-viewer queue")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    internals.restrict_host_addresses(["127.0.0.1"])  # before any peer connection
    if args.bitrate:
        vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = args.bitrate
    uvicorn.run(create_app(args.buffered), host=args.host, port=args.port, log_level=args.log_level,
                server_header=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
