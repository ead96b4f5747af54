"""The viewer workers of bench/relay.py, each in its own process, and what its publisher process
(bench/relay_publisher.py) shares with them: commands over a pipe (`(command, arguments)` in, a
dict out), all traffic on loopback (`restrict_host_addresses(["127.0.0.1"])` before any peer
connection, and no ICE servers: the client's default, `RTCConfiguration(iceServers=[])`).

A viewer worker runs up to `--per-proc` WHEP viewers (`live.media.client.watch`: encoded frames,
never decoded). Each video RTP packet is logged (arrival, RTP timestamp, payload size, sequence
number) as aiortc's transport hands it to the receiver; by default, once a viewer has its first
frame (joined), its packets are logged at the socket instead, at the kernel's receive time, and
dropped there (bench/lean_rtp.py, the sockets read every 10 ms): the viewer then sends no NACK
and no PLI, its receiver reports no longer count packets, and what it cost aiortc (SRTP, parsing,
reassembly) is not spent. `lean=False` (bench.relay --full-viewers) keeps aiortc's whole receive
path. The window's figures match these packets with the publisher's (bench/relay_match.py).
"""

from __future__ import annotations

import array
import asyncio
import bisect
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench import lean_rtp
from bench.relay_match import PacketLog, longest_gap, match, packets_between

Json = dict[str, Any]
LOOPBACK = ["127.0.0.1"]


def _loopback_only() -> None:
    from live.media import internals

    internals.restrict_host_addresses(LOOPBACK)


async def _serve(conn: Connection, handlers: dict[str, Callable[..., Awaitable[Json]]]) -> None:
    """Answer commands until "close" (or the orchestrator goes away)."""
    while True:
        try:
            cmd, arg = await asyncio.to_thread(conn.recv)
        except (EOFError, OSError):
            cmd, arg = "close", {}
        try:
            result = await handlers[cmd](**arg)
        except Exception as exc:
            result = {"error": f"{cmd}: {exc!r}"}
        with contextlib.suppress(OSError, BrokenPipeError):
            conn.send(result)
        if cmd == "close":
            return


async def close_peers(peers: list[Any], timeout: float = 15) -> Json:
    """A load generator's "close": its peer connections closed, whatever fails or hangs."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(p.close() for p in peers if p is not None), return_exceptions=True)
    return {}


def serve_commands(conn: Connection, peer: object) -> None:
    """A load generator process's main: loopback only, its `do_*` methods answering the
    orchestrator's commands until "close"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    _loopback_only()
    asyncio.run(_serve(conn, {name[3:]: getattr(peer, name) for name in dir(peer)
                              if name.startswith("do_")}))


def _in_window(times: list[float], t0: float, t1: float) -> tuple[int, int]:
    return bisect.bisect_left(times, t0), bisect.bisect_right(times, t1)


# -- the viewers -------------------------------------------------------------------------------------


_LOGS: dict[int, PacketLog] = {}  # id(receiver) -> its video packets
_FEEDBACK: dict[str, list[float]] = {"pli": [], "nack": []}  # when viewers' receivers sent them


def _count_feedback() -> None:
    """Log the keyframe requests (PLI) and retransmission requests (NACK) viewers send."""
    from aiortc import RTCRtpReceiver

    for name, key in (("_send_rtcp_pli", "pli"), ("_send_rtcp_nack", "nack")):
        original = getattr(RTCRtpReceiver, name)

        def logged(receiver: Any, *args: Any, _original: Any = original, _key: str = key) -> Any:
            _FEEDBACK[_key].append(time.time())
            return _original(receiver, *args)

        setattr(RTCRtpReceiver, name, logged)


def _install_packet_log(lean: bool, poll_ms: float) -> None:
    """Log each video RTP packet where aiortc's transport hands it to its receiver, before any
    jitter buffer (retransmissions unwrapped: the original's sequence number is the RTX payload's
    first two bytes); `lean`: once a viewer has joined, its packets are logged at the socket and
    dropped there instead (bench/lean_rtp.py), at the kernel's receive time, the sockets read every
    `poll_ms`."""
    from aiortc import RTCRtpReceiver

    original = RTCRtpReceiver._handle_rtp_packet
    if lean:
        lean_rtp.install(poll_ms, kernel_times=True)

    async def logged(receiver: Any, packet: Any, arrival_time_ms: int) -> None:
        if getattr(receiver, "_RTCRtpReceiver__kind", "") == "video":
            log = _LOGS.setdefault(id(receiver), PacketLog())
            codecs = getattr(receiver, "_RTCRtpReceiver__codecs", {})
            codec = codecs.get(packet.payload_type)
            if codec is not None and codec.mimeType.lower().endswith("/rtx"):
                if len(packet.payload) >= 2:
                    log.add(time.time(), packet.timestamp, len(packet.payload) - 2,
                            int.from_bytes(packet.payload[:2], "big"))
            else:
                log.add(time.time(), packet.timestamp, len(packet.payload), packet.sequence_number)
                if lean:
                    lean_rtp.learn(receiver, packet, log)
        await original(receiver, packet, arrival_time_ms)

    RTCRtpReceiver._handle_rtp_packet = logged  # type: ignore[method-assign,assignment]


@dataclass
class Viewer:
    index: int
    peer: Any = None
    log: PacketLog | None = None
    join_s: float | None = None  # offer sent -> first video frame
    answer_s: float | None = None  # offer sent -> answer applied (HTTP and the server's negotiation)
    connect_s: float | None = None  # answer applied -> connection up (ICE, DTLS)
    first_s: float | None = None  # connection up -> first video frame (the wait for a keyframe)
    first_key: bool | None = None
    connected_wall: float | None = None  # time.time() of the connection, and of the first frame
    first_wall: float | None = None
    error: str | None = None


class ViewerWorker:
    def __init__(self, lean: bool, poll_ms: float) -> None:
        self.viewers: list[Viewer] = []
        self.lean = lean
        _install_packet_log(lean, poll_ms)
        _count_feedback()

    async def do_ping(self) -> Json:
        return {}

    async def do_join(self, url: str, token: str, plan: list[tuple[int, float]], kinds: list[str],
                      timeout: float) -> Json:
        """plan: (viewer number, time.time() to send the offer at)."""
        from live.media.client import watch

        async def one(index: int, at: float) -> Viewer:
            viewer = Viewer(index)
            await asyncio.sleep(max(0.0, at - time.time()))
            try:
                viewer.peer = await watch(url, token, kinds=tuple(kinds), timeout=timeout)
            except Exception as exc:
                viewer.error = f"offer: {exc!r}"[:200]
                return viewer
            answered = time.monotonic()
            pc = viewer.peer.pc
            connected = asyncio.Event()
            if pc.connectionState == "connected":
                connected.set()
            else:
                pc.on("connectionstatechange",
                      lambda: connected.set() if pc.connectionState == "connected" else None)
            connect_task = asyncio.create_task(connected.wait())
            receiver = next(t.receiver for t in pc.getTransceivers() if t.kind == "video")
            viewer.log = _LOGS.setdefault(id(receiver), PacketLog())
            try:
                async with asyncio.timeout(timeout):
                    await connect_task
                    connected_at = time.monotonic()
                    await viewer.peer.first_frame.wait()
            except TimeoutError:
                viewer.error = f"no video frame within {timeout:.0f} s " \
                               f"(connection {pc.connectionState})"
                return viewer
            if self.lean:
                lean_rtp.enable(pc)  # from now on its packets are logged at the socket
            video = viewer.peer.received.get("video")
            if video is not None and video.first_at is not None:
                offered = viewer.peer.offered_at
                connected_at = min(connected_at, video.first_at)
                viewer.join_s = video.first_at - offered
                viewer.answer_s = answered - offered
                viewer.connect_s = connected_at - answered
                viewer.first_s = video.first_at - connected_at
                viewer.first_key = video.first_is_keyframe
                viewer.first_wall = time.time() - (time.monotonic() - video.first_at)
                viewer.connected_wall = viewer.first_wall - viewer.first_s
            return viewer

        joined = await asyncio.gather(*(one(i, at) for i, at in plan))
        self.viewers.extend(joined)
        return {"joined": [{"index": v.index, "join_s": v.join_s, "answer_s": v.answer_s,
                            "connect_s": v.connect_s, "first_s": v.first_s,
                            "first_key": v.first_key, "connected_wall": v.connected_wall,
                            "first_wall": v.first_wall, "error": v.error} for v in joined]}

    async def do_window(self, t0: float, t1: float, delay: float, published: list[list[Any]]) -> Json:
        """What each viewer got of `published` (the publisher's frames first sent in [t0, t1]:
        bench/relay_match.py), its longest gap between whole frames and the keyframes it got in
        [t0 + delay, t1 + delay], the video packets it received in [t0, t1] (the server's window),
        and every packet's delay over the relay (all viewers together, float32 bytes)."""
        out, delays, key_delays = [], array.array("f"), array.array("f")
        for v in self.viewers:
            state = v.peer.pc.connectionState if v.peer is not None else "none"
            log = v.log or PacketLog()
            got = match(log, published, t0, t1, delay)
            delays.extend(got["delays"])
            key_delays.extend(got["key_delays"])
            arrivals = got["arrivals"]
            lo, hi = _in_window(arrivals, t0 + delay, t1 + delay)
            out.append({"index": v.index, "delivered": got["delivered"], "frames": hi - lo,
                        "incomplete": got["incomplete"], "keyframes": got["keyframes"],
                        "matched": got["matched"], "offset_votes": got["offset_votes"],
                        "packets": packets_between(log, t0, t1),
                        "bytes": sum(log.sizes[i] for i in range(len(log.times))
                                     if t0 <= log.times[i] <= t1),
                        "max_gap_s": longest_gap(arrivals, t0 + delay, t1 + delay),
                        "state": state})
            log.trim(t1 - 1.0)
        feedback = {}
        for key, times in _FEEDBACK.items():
            lo, hi = _in_window(times, t0, t1)
            feedback[key] = hi - lo
            del times[:lo]
        return {"viewers": out, "feedback": feedback, "delays": delays.tobytes(),
                "key_delays": key_delays.tobytes(),
                "lean": lean_rtp.LEAN.figures() if self.lean else None}

    async def do_close(self) -> Json:
        return await close_peers([v.peer for v in self.viewers])


def _no_bandwidth_estimation() -> None:
    """Viewers skip aiortc's receive-side bandwidth estimator (REMB), a fifth of their CPU: both
    servers send at the studio's fixed bitrate whatever a viewer reports, so nothing changes on
    their side but a REMB packet a second per viewer that they would ignore anyway."""
    import aiortc.rtcrtpreceiver

    aiortc.rtcrtpreceiver.RemoteBitrateEstimator = lambda: None  # type: ignore[attr-defined,assignment,return-value]


def viewer_main(conn: Connection, rcvbuf: int = 0, lean: bool = True, poll_ms: float = 10.0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    _loopback_only()
    _no_bandwidth_estimation()
    if rcvbuf:
        # One event loop serves all this process's connections and reads each socket a datagram
        # per turn: a keyframe (~125 packets sent back to back) can overflow aioice's 256 KiB
        # before it comes round. That loss would be the load generator's, not the relay's (a
        # browser has one connection per tab and its own process).
        from live.media import internals

        internals.set_udp_receive_buffer(rcvbuf)
    worker = ViewerWorker(lean, poll_ms)
    asyncio.run(_serve(conn, {name[3:]: getattr(worker, name) for name in dir(worker)
                              if name.startswith("do_")}))
