"""Listeners that count RTP packets at the socket, for the listener and viewer workers of
bench/interpretation.py, bench/guests.py and bench/relay.py.

A listener's RTP packet normally costs Python all the way: aioice tries to parse it as STUN, queues
it, the DTLS transport unprotects it (SRTP), `RtpPacket.parse` reads it, the receiver keeps
statistics, depacketises it and reassembles frames. With a hundred players in two processes, that
was more of the machine than the server under test. What the bench logs of a packet (arrival,
RTP timestamp, payload size) is all in the clear in SRTP, bar the size, which is the datagram's
length less the header (CSRCs and extension included) and the authentication tag of the profile
the DTLS handshake chose.

So each stream (SSRC) of a connection first takes aiortc's whole path: the receiver's hook logs it
and says which section's log it belongs to (`learn`), and the first packets' sizes are also worked
out from the encrypted datagram and compared with what the receiver parsed (`Lean.compared`,
`Lean.mismatched`). Once the player has its first frame (the bench's "joined", `enable`) and a
stream has passed `CHECKED_PACKETS` such comparisons, its packets are logged in aioice's
`datagram_received` and dropped there. STUN (ICE consent), DTLS and RTCP keep the normal path; so
does a padded packet, whose padding length is encrypted. What the fast path gives up: NACKs (the
receiver no longer sees video gaps, so nothing is retransmitted) and receiver reports' counts.

The sockets are read differently too: all waiting datagrams at once, and in the load steps' workers
every 10 ms rather than on each datagram (`Poller`). With 20 video viewers and 20 audio-only
listeners (5,000 datagrams a second), the workers took 0.25 cores with the fast path alone and
0.12 with polling. `install(kernel_times=True)` (bench/relay.py) has each datagram's receive time
read along with it (SO_TIMESTAMPNS, `recvmsg`) and logged as its arrival, so that neither polling
nor a busy worker adds to the delays measured; a log gets each packet's sequence number too.
"""

from __future__ import annotations

import collections
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

# Tag bytes after the payload, by the profile name OpenSSL reports (RFC 5764, RFC 7714).
TAG_BYTES = {b"SRTP_AEAD_AES_256_GCM": 16, b"SRTP_AEAD_AES_128_GCM": 16,
             b"SRTP_AES128_CM_SHA1_80": 10, b"SRTP_AES128_CM_SHA1_32": 4}
CHECKED_PACKETS = 10  # of each stream, both ways, before its packets skip aiortc
DRAIN_LIMIT = 64  # datagrams read from one socket before the event loop's other work
POLL_LIMIT = 512  # from one socket at one poll (a keyframe is ~60 datagrams)
PENDING_LIMIT = 20_000  # datagrams kept for the comparison; dropped ones are never claimed
_HEADER = struct.Struct("!BBHII")  # first byte, marker + payload type, sequence, timestamp, SSRC


class Log(Protocol):
    def add(self, now: float, stamp: int, size: int, sequence: int) -> None: ...


def is_rtp(data: bytes) -> bool:
    """Version 2, not RTCP (aiortc's `is_rtcp`: second byte 192-208), long enough for a header."""
    return len(data) >= 12 and data[0] >> 6 == 2 and not 192 <= data[1] <= 208


def payload_size(data: bytes, tag: int) -> int | None:
    """The payload size `RtpPacket.parse` finds once `data` (an SRTP packet) is unprotected, from
    its clear header alone; None when that cannot be told (padding) or it is no RTP packet."""
    if not is_rtp(data):
        return None
    first = data[0]
    if first & 0x20:
        return None  # padded: the padding's length is the encrypted payload's last byte
    pos = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(data) < pos + 4:
            return None
        pos += 4 + 4 * int.from_bytes(data[pos + 2:pos + 4], "big")
    size = len(data) - pos - tag
    return size if size >= 0 else None


@dataclass
class Lean:
    """The process's fast path: which (aioice connection, SSRC) streams skip aiortc, into which
    log, and the comparison of both paths' sizes."""

    fast: dict[tuple[int, int], tuple[Log, int]] = field(default_factory=dict)  # -> (log, tag)
    known: dict[tuple[int, int], tuple[Log, int]] = field(default_factory=dict)  # learnt, checked
    checked: collections.Counter[tuple[int, int]] = field(default_factory=collections.Counter)
    pending: dict[tuple[int, int, int], bytes] = field(default_factory=dict)
    enabled: set[int] = field(default_factory=set)  # connections whose player has joined
    compared: int = 0
    mismatched: int = 0
    examples: list[str] = field(default_factory=list)  # the first mismatches, for the report
    fast_packets: int = 0
    # The kernel's receive time of the datagram being handled (SO_TIMESTAMPNS), set by the socket
    # reading below when `install(kernel_times=True)`: None, the time it is handled instead.
    arrival: float | None = None

    def received(self, connection: int, data: bytes) -> bool:
        """A datagram from aioice: True when it was logged here and aiortc need not see it."""
        if len(data) < 12 or not 128 <= data[0] < 192 or 192 <= data[1] <= 208:
            return False
        _, _, sequence, stamp, ssrc = _HEADER.unpack_from(data)
        entry = self.fast.get((connection, ssrc))
        if entry is None:
            if len(self.pending) >= PENDING_LIMIT:
                self.pending.clear()
            self.pending[(connection, ssrc, sequence)] = data
            return False
        size = payload_size(data, entry[1])
        if size is None:
            return False
        entry[0].add(self.arrival or time.time(), stamp, size, sequence)
        self.fast_packets += 1
        return True

    def learn(self, connection: int, tag: int | None, packet: Any, log: Log) -> None:
        """The receiver parsed `packet` (and logged it in `log`): compare the size worked out from
        its datagram, and let its stream skip aiortc once checked and the player has joined."""
        key = (connection, packet.ssrc)
        data = self.pending.pop((connection, packet.ssrc, packet.sequence_number), None)
        if data is None or tag is None:
            return
        size = payload_size(data, tag)
        if size is None:
            return  # padded: this one is not comparable, the next may be
        self.compared += 1
        if size != len(packet.payload):
            self.mismatched += 1
            if len(self.examples) < 5:
                self.examples.append(f"SSRC {packet.ssrc} seq {packet.sequence_number}: socket "
                                     f"{size} B, aiortc {len(packet.payload)} B")
            return
        self.checked[key] += 1
        if self.checked[key] >= CHECKED_PACKETS and key not in self.known:
            self.known[key] = (log, tag)
            if connection in self.enabled:
                self.fast[key] = self.known[key]

    def enable(self, connection: int) -> None:
        """The player on `connection` has joined: its checked streams skip aiortc from now on."""
        self.enabled.add(connection)
        for key, entry in self.known.items():
            if key[0] == connection:
                self.fast[key] = entry

    def figures(self) -> dict[str, Any]:
        return {"compared": self.compared, "mismatched": self.mismatched,
                "fast_packets": self.fast_packets, "fast_streams": len(self.fast),
                "examples": self.examples}


LEAN = Lean()


def connection_of(receiver: Any) -> Any:
    """The aioice connection under a receiver (its DTLS transport's ICE transport's)."""
    return receiver.transport.transport._connection


def tag_of(receiver: Any) -> int | None:
    """Tag bytes of the SRTP profile the receiver's DTLS handshake chose (None: not known)."""
    ssl = getattr(receiver.transport, "_ssl", None)
    profile = ssl.get_selected_srtp_profile() if ssl is not None else None
    return TAG_BYTES.get(profile) if profile else None


# Linux's socket option for receive times in nanoseconds (the socket module has no name for it):
# each datagram then carries an SCM_TIMESTAMPNS message, a struct timespec of CLOCK_REALTIME.
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")
_KERNEL_TIMES = {"on": False}  # set by `install`


def _kernel_time(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return float(seconds + nanoseconds / 1e9)
    return None


def _read_all_ready(transport: Any, limit: int = DRAIN_LIMIT) -> None:
    """asyncio's UDP transport reads one datagram each time the event loop finds its socket
    readable; this reads all that are waiting (up to DRAIN_LIMIT). Measured on this machine, 50
    sockets at 10,000 datagrams a second in all: 20-24 us of CPU a datagram one by one, 7-9 us
    so. Errors are handled as asyncio does. With kernel times on, each datagram's is read along
    (`recvmsg`) and is the arrival `LEAN` logs: the reader's own delay (polling, a busy event
    loop) is then not counted in it; the datagrams already queued when the option is set have
    none and are timed as they are handled."""
    if transport._conn_lost:
        return
    sock, protocol, size = transport._sock, transport._protocol, transport.max_size
    stamped = _KERNEL_TIMES["on"]
    if stamped and not getattr(transport, "_bench_stamped", False):
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        transport._bench_stamped = True
    for _ in range(limit):
        try:
            if stamped:
                data, ancillary, _, addr = sock.recvmsg(size, 64)
                LEAN.arrival = _kernel_time(ancillary)
            else:
                data, addr = sock.recvfrom(size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            protocol.error_received(exc)
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            transport._fatal_error(exc, "Fatal read error on datagram transport")
            return
        try:
            protocol.datagram_received(data, addr)
        finally:
            LEAN.arrival = None


class Poller:
    """Read the process's UDP sockets every `period` s instead of when each becomes readable.

    Datagrams come spread out: woken by each, the event loop read 1 to 2 a wake (profiled,
    40 listeners in one process), so most of a datagram's cost was the wake itself. Read every
    10 ms, a process's sockets give a hundred or so at once. The price: a datagram is logged as
    arriving up to `period` late, so only the load steps' listeners poll (their windows are
    seconds long), not the probe whose arrival times are the latency figures."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.transports: set[Any] = set()
        self.running = False

    def adopt(self, transport: Any) -> None:
        """Called instead of a read when a socket first becomes readable: poll it from now on."""
        loop = transport._loop
        loop._remove_reader(transport._sock_fd)
        self.transports.add(transport)
        _read_all_ready(transport)
        if not self.running:
            self.running = True
            loop.call_later(self.period, self.poll, loop)

    def poll(self, loop: Any) -> None:
        for transport in list(self.transports):
            if transport.is_closing():
                self.transports.discard(transport)
            else:
                _read_all_ready(transport, POLL_LIMIT)
        loop.call_later(self.period, self.poll, loop)


def install(poll_ms: float = 0.0, kernel_times: bool = False) -> None:
    """Route every datagram aioice receives in this process through `LEAN` first, and read each
    UDP socket's waiting datagrams at once, or every `poll_ms` (`Poller`); `kernel_times`: log the
    fast path's packets at the kernel's receive time (SO_TIMESTAMPNS), not when read. Before any
    connection: asyncio registers a socket's read callback when it opens."""
    _KERNEL_TIMES["on"] = kernel_times
    import asyncio.selector_events

    import aioice.ice

    protocol = aioice.ice.StunProtocol
    if getattr(protocol, "_bench_original_datagram_received", None) is not None:
        return
    original = protocol.datagram_received
    received = LEAN.received

    def lean(self: Any, data: bytes, addr: tuple[Any, ...]) -> None:
        if not received(id(self.receiver), data):
            original(self, data, addr)

    protocol._bench_original_datagram_received = original  # type: ignore[attr-defined]
    protocol.datagram_received = lean  # type: ignore[method-assign,assignment]
    poller = Poller(poll_ms / 1000)

    def adopt(transport: Any) -> None:  # a function: the class attribute binds it to the transport
        poller.adopt(transport)

    read = adopt if poll_ms else _read_all_ready
    asyncio.selector_events._SelectorDatagramTransport._read_ready = read  # type: ignore[attr-defined]


def learn(receiver: Any, packet: Any, log: Log) -> None:
    """Called from the receiver's hook for each packet that took aiortc's path."""
    LEAN.learn(id(connection_of(receiver)), tag_of(receiver), packet, log)


def enable(pc: Any) -> None:
    """A player has joined: its streams may skip aiortc (all its sections share one transport)."""
    for connection in {id(connection_of(t.receiver)) for t in pc.getTransceivers()}:
        LEAN.enable(connection)
