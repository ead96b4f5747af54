"""The few aiortc internals the relay relies on, in one place, checked at start-up.

aiortc's public API only hands out decoded frames. To forward what the studio encoded, the relay
takes each receiver's reassembled frames before its decoder, asks the studio for keyframes with the
receiver's PLI sender, and routes viewers' keyframe requests to the relay. These are private names,
so the version is pinned (pyproject.toml) and `check()` fails with a clear message if one moved.
"""

from __future__ import annotations

import queue
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aioice.ice
import aioice.turn
import aiortc
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

SUPPORTED_SERIES = "1.16."
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"

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
    for owner, name in ((RTCRtpReceiver, "_send_rtcp_pli"), (RTCRtpSender, "_send_keyframe"),
                        (aioice.ice, "get_host_addresses")):
        if not callable(getattr(owner, name, None)):
            problems.append(f"{getattr(owner, '__name__', owner)}.{name} is gone")
    if not isinstance(getattr(aioice.turn, "UDP_SOCKET_BUFFER_SIZE", None), int):
        problems.append("aioice.turn.UDP_SOCKET_BUFFER_SIZE is gone")
    if problems:
        raise MediaUnavailable("the media relay cannot start: " + "; ".join(problems)
                               + ". Install the pinned version: pip install 'aiortc>=1.16,<1.17'")


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
