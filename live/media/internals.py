"""The few aiortc internals the relay relies on, in one place, checked at start-up.

aiortc's public API only hands out decoded frames. To forward what the studio encoded, the relay
takes each receiver's reassembled frames before its decoder, asks the studio for keyframes with the
receiver's PLI sender, and routes viewers' keyframe requests to the relay. It also widens the DTLS
cipher suites aiortc offers, for peers with RSA certificates (docs/media.md, "Interoperability").
These are private names, so the version is pinned (pyproject.toml) and `check()` fails with a clear
message if one moved.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aioice.ice
import aioice.turn
import aiortc
import aiortc.rtcpeerconnection
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcicetransport import RTCIceTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import HeaderExtensionsMap
from OpenSSL import SSL

from live.media.direct import HISTORY_SIZE, SENDER_FIELDS, TRANSPORT_FIELDS
from live.media.packing import NtpClock, SenderExtensionsMap

SUPPORTED_SERIES = "1.16."
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_ENCODER = "_RTCRtpSender__encoder"
_EXTENSIONS_MAP = "_RTCRtpSender__rtp_header_extensions_map"
# Where aiortc builds the SSL context of every DTLS connection, with these suites, ECDHE-ECDSA only.
_SSL_CONTEXT = "_create_ssl_context"
AIORTC_SUITES = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
                 "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA")
# Offered beside aiortc's ECDHE-ECDSA suites, for peers whose DTLS certificate is RSA (GStreamer's
# webrtcbin; ZLMediaKit by report): forward-secret AEAD suites only, as RFC 8827 6.5 favours. A suite
# is usable only with a certificate of its kind: a browser (ECDSA certificate) still gets an ECDSA one.
RSA_CERTIFICATE_SUITES = ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                          "ECDHE-RSA-CHACHA20-POLY1305")

FrameSink = Callable[[RTCRtpCodecParameters, JitterFrame], None]


class MediaUnavailable(RuntimeError):
    """The installed aiortc lacks an internal the relay needs."""


def check() -> None:
    """Fail at start-up, with the fix, rather than on the first studio."""
    problems = []
    if not aiortc.__version__.startswith(SUPPORTED_SERIES):
        problems.append(f"aiortc {aiortc.__version__} is installed, the relay is written for "
                        f"{SUPPORTED_SERIES}x")
    for name in (_DECODER_QUEUE, _JITTER_BUFFER):
        if name not in RTCRtpReceiver.__init__.__code__.co_names:
            problems.append(f"RTCRtpReceiver no longer has {name.split('__')[1]}")
    for name in (_ENCODER, _EXTENSIONS_MAP):
        if name not in RTCRtpSender.__init__.__code__.co_names:
            problems.append(f"RTCRtpSender no longer has {name.split('__')[1]}")
    if "_HeaderExtensionsMap__ids" not in HeaderExtensionsMap.__init__.__code__.co_names:
        problems.append("HeaderExtensionsMap no longer has __ids")
    if not callable(getattr(getattr(aiortc.rtcrtpsender, "clock", None), "current_ntp_time", None)):
        problems.append("aiortc.rtcrtpsender no longer reads clock.current_ntp_time")
    for module, name in ((aiortc.rtcrtpreceiver, "RemoteBitrateEstimator"),
                         (aiortc.rtcpeerconnection, "RTCCertificate")):
        if not isinstance(getattr(module, name, None), type):
            problems.append(f"{module.__name__} no longer uses {name}")
    for owner, name in ((RTCRtpReceiver, "_send_rtcp_pli"), (RTCRtpSender, "_send_keyframe"),
                        (aioice.ice, "get_host_addresses")):
        if not callable(getattr(owner, name, None)):
            problems.append(f"{getattr(owner, '__name__', owner)}.{name} is gone")
    if not isinstance(getattr(aioice.turn, "UDP_SOCKET_BUFFER_SIZE", None), int):
        problems.append("aioice.turn.UDP_SOCKET_BUFFER_SIZE is gone")
    # The suites replace aiortc's own list in the method every DTLS transport builds its context
    # with: if that list or that method changed, the relay would offer a stale list, or RSA-
    # certificate peers would fail again ("no shared cipher").
    build = getattr(RTCCertificate, "_tribune_original_ssl_context",
                    getattr(RTCCertificate, _SSL_CONTEXT, None))
    if not callable(build) or ":".join(AIORTC_SUITES).encode() not in build.__code__.co_consts:
        problems.append(f"RTCCertificate.{_SSL_CONTEXT} no longer sets aiortc 1.16's DTLS suites")
    if _SSL_CONTEXT not in RTCDtlsTransport.start.__code__.co_names:
        problems.append(f"RTCDtlsTransport.start no longer calls {_SSL_CONTEXT}")
    problems += _direct_send_problems()
    if problems:
        raise MediaUnavailable("the media relay cannot start: " + "; ".join(problems)
                               + ". Install the pinned version: pip install 'aiortc>=1.16,<1.17'")


def _direct_send_problems() -> list[str]:
    """What live/media/direct.py relies on: the sender's history (read by `_retransmit` with
    `get`), counters and fields, the DTLS transport's state, SRTP session and counters, and
    aioice's selected pair, whose protocol sends with its transport's `sendto`."""
    problems = []
    sender_names = RTCRtpSender.__init__.__code__.co_names
    for name in (*SENDER_FIELDS, "_ssrc", "_enabled"):
        if name not in sender_names:
            problems.append(f"RTCRtpSender no longer has {name}")
    if {SENDER_FIELDS[0], "get"} - set(RTCRtpSender._retransmit.__code__.co_names):
        problems.append("RTCRtpSender._retransmit no longer reads its history with get")
    if getattr(aiortc.rtcrtpsender, "RTP_HISTORY_SIZE", None) != HISTORY_SIZE:
        problems.append(f"aiortc's RTP history no longer holds {HISTORY_SIZE} packets")
    dtls_names = RTCDtlsTransport.__init__.__code__.co_names
    for name in (*TRANSPORT_FIELDS, "_state", "_tx_srtp"):
        if name not in dtls_names:
            problems.append(f"RTCDtlsTransport no longer has {name}")
    if getattr(getattr(DtlsState, "CONNECTED", None), "value", None) != 2:
        problems.append("aiortc's DTLS State.CONNECTED is gone")
    if "_connection" not in RTCIceTransport.__init__.__code__.co_names:
        problems.append("RTCIceTransport no longer has _connection")
    if "_nominated" not in aioice.ice.Connection.__init__.__code__.co_names:
        problems.append("aioice's Connection no longer has _nominated")
    if not isinstance(getattr(aioice.ice.CandidatePair, "remote_addr", None), property) or \
            "protocol" not in aioice.ice.CandidatePair.__init__.__code__.co_names:
        problems.append("aioice's CandidatePair no longer has protocol and remote_addr")
    if {"transport", "sendto"} - set(aioice.ice.StunProtocol.send_data.__code__.co_names):
        problems.append("aioice's StunProtocol.send_data no longer sends with transport.sendto")
    return problems


class _TapQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: encoded frames go to the sink, not the decoder.

    The receiver puts frames from the event loop thread, so the sink runs there. `None` (the stop
    signal) still reaches the idle decoder thread so that the receiver shuts down as before.
    """

    def __init__(self, sink: FrameSink) -> None:
        super().__init__()
        self._sink = sink

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None)
        else:
            codec, frame = item
            self._sink(codec, frame)


def tap_receiver(receiver: RTCRtpReceiver, sink: FrameSink) -> None:
    """Send the receiver's reassembled encoded frames to `sink` instead of decoding them.

    Call before the connection starts (in the "track" handler): the decoder thread takes the
    queue when the receiver starts.
    """
    setattr(receiver, _DECODER_QUEUE, _TapQueue(sink))


def replace_jitter_buffer(receiver: RTCRtpReceiver, buffer: JitterBuffer) -> None:
    """Give a receiver another frame reassembly buffer (before it receives anything)."""
    setattr(receiver, _JITTER_BUFFER, buffer)


def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> Awaitable[None]:
    """Send a PLI for `media_ssrc` (the primary SSRC: browsers ignore a PLI for the RTX one)."""
    send: Callable[[int], Awaitable[None]] = receiver._send_rtcp_pli
    return send(media_ssrc)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Route a viewer's PLI/FIR to `callback`: with packets to forward, the sender has no encoder
    to force a keyframe from."""
    sender._send_keyframe = callback  # type: ignore[method-assign]


def share_encoder(sender: RTCRtpSender, encoder: Encoder) -> None:
    """Have the sender pack forwarded packets with `encoder` (shared with other senders) rather
    than with the one it would make for itself when it starts."""
    setattr(sender, _ENCODER, encoder)


def lay_out_extensions_once(sender: RTCRtpSender) -> None:
    """Give the sender a header extensions map that lays its extensions out once, not per packet
    (before it starts: it configures the map with what was negotiated)."""
    setattr(sender, _EXTENSIONS_MAP, SenderExtensionsMap())


def lighten_per_viewer_work() -> None:
    """Process-wide, idempotent: what aiortc does for every viewer, made cheaper.

    - Senders stamp packets with `NtpClock`'s NTP time (live/media/packing.py).
    - A receiver builds its bandwidth estimator (1,000 one-millisecond buckets, most of a
      viewer's offer -> answer CPU in a profile) on its first packet: a viewer's connection has a
      receiver per transceiver that never receives anything.
    - Peer connections share one DTLS certificate (a new one a day) instead of generating an
      ECDSA key and signing a certificate each, as a browser keeps its own: the fingerprint in
      the SDP binds the connection, never the certificate's subject or dates.
    """
    clock = getattr(aiortc.rtcrtpsender, "clock")  # noqa: B009 (not exported: mypy)
    if not isinstance(clock, NtpClock):
        setattr(aiortc.rtcrtpsender, "clock", NtpClock(clock))  # noqa: B010
    setattr(aiortc.rtcrtpreceiver, "RemoteBitrateEstimator", _LazyBitrateEstimator)  # noqa: B010
    setattr(aiortc.rtcpeerconnection, "RTCCertificate", _SharedCertificate)  # noqa: B010


class _LazyBitrateEstimator:
    """aiortc's receive-side bandwidth estimator, built when the first packet arrives."""

    def __init__(self) -> None:
        self._estimator: RemoteBitrateEstimator | None = None

    def add(self, **packet: Any) -> Any:
        if self._estimator is None:
            self._estimator = RemoteBitrateEstimator()
        return self._estimator.add(**packet)


class _SharedCertificate(RTCCertificate):
    """What peer connections take their certificate from: one per process and day."""

    LIFETIME = 86_400.0  # seconds; aiortc's certificates are valid 30 days
    _current: RTCCertificate | None = None
    _made_at = 0.0

    @classmethod
    def generateCertificate(cls: Any) -> Any:
        now = time.monotonic()
        if cls._current is None or now - cls._made_at > cls.LIFETIME:
            cls._current, cls._made_at = RTCCertificate.generateCertificate(), now
        return cls._current


def set_udp_receive_buffer(size: int) -> None:
    """The SO_RCVBUF of every UDP socket aioice opens from now on (the kernel caps it at
    net.core.rmem_max). Process-wide; memory is only used by datagrams waiting to be read."""
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = size


def restrict_host_addresses(addresses: Iterable[str] | None) -> None:
    """Gather host candidates on these addresses only (process-wide; None: aioice's choice).

    aioice leaves loopback out and offers every other interface; for rehearsals and tests on
    loopback, that would send probes to the machine's other addresses.
    """
    chosen = tuple(addresses) if addresses is not None else None
    original = getattr(aioice.ice, "_tribune_original_host_addresses", None)
    if original is None:
        original = aioice.ice.get_host_addresses
        aioice.ice._tribune_original_host_addresses = original  # type: ignore[attr-defined]
    if chosen is None:
        aioice.ice.get_host_addresses = original
        return

    def configured(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = configured


def offer_rsa_certificate_suites() -> None:
    """Offer the ECDHE-RSA suites too in every DTLS handshake from now on (process-wide, idempotent).

    aiortc offers ECDHE-ECDSA suites only. As the DTLS client (the relay answers `a=setup:active`),
    it then fails against a server holding an RSA certificate: "no shared cipher". aiortc's suites
    stay first and in its order (`check()` makes sure they are still aiortc's); which suite is
    chosen depends on the server's certificate, so a browser's handshake is unchanged.
    """
    if getattr(RTCCertificate, "_tribune_original_ssl_context", None) is not None:
        return
    original = getattr(RTCCertificate, _SSL_CONTEXT)
    suites = ":".join(AIORTC_SUITES + RSA_CERTIFICATE_SUITES).encode()

    def with_rsa_suites(self: RTCCertificate, *args: Any, **kwargs: Any) -> SSL.Context:
        context: SSL.Context = original(self, *args, **kwargs)
        context.set_cipher_list(suites)  # before any connection uses it: it is new each time
        return context

    RTCCertificate._tribune_original_ssl_context = original  # type: ignore[attr-defined]
    setattr(RTCCertificate, _SSL_CONTEXT, with_rsa_suites)

