"""The start-up check of the aiortc internals the relay relies on."""

from __future__ import annotations

import aioice.turn
import aiortc
import pytest
from aiortc import RTCRtpSender

from live.media import internals
from live.media.internals import MediaUnavailable


def test_the_pinned_aiortc_passes() -> None:
    internals.check()


@pytest.mark.parametrize("breakage", ["version", "pli", "keyframe_hook", "buffer_size"])
def test_a_moved_internal_stops_the_start_with_the_fix(monkeypatch: pytest.MonkeyPatch,
                                                       breakage: str) -> None:
    if breakage == "version":
        monkeypatch.setattr(aiortc, "__version__", "1.17.0")
    elif breakage == "pli":
        monkeypatch.delattr(aiortc.RTCRtpReceiver, "_send_rtcp_pli")
    elif breakage == "keyframe_hook":
        monkeypatch.delattr(RTCRtpSender, "_send_keyframe")
    else:
        monkeypatch.delattr(aioice.turn, "UDP_SOCKET_BUFFER_SIZE")
    with pytest.raises(MediaUnavailable, match=r"pip install 'aiortc>=1.16,<1.17'"):
        internals.check()
