"""Offer checks that the HTTP tests do not reach: candidates a loopback relay must never probe."""

from __future__ import annotations

import pytest

from live.media.sdp import BadOffer, candidate_allowed, parse_fragment, parse_offer

OFFER = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=mid:0
a=sendonly
a=rtpmap:96 VP8/90000
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=ssrc-group:FID 1111 2222
a=ssrc:1111 cname:x
a=ssrc:2222 cname:x
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=fingerprint:sha-256 {FINGERPRINT}
a=setup:actpass
a=rtcp-mux
a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host
a=candidate:2 1 udp 2130706431 192.168.1.20 50001 typ host
a=candidate:3 1 udp 2130706431 7c0f0c3e-1d5f-4ea3-9d8f-2b7d1a8d0b8c.local 50002 typ host
a=candidate:4 1 udp 1694498815 203.0.113.5 50003 typ srflx raddr 0.0.0.0 rport 0
""".replace("{FINGERPRINT}", ":".join(["AB"] * 32))


def test_a_loopback_relay_keeps_loopback_candidates_only() -> None:
    offer = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}), loopback_only=True)
    assert "127.0.0.1 50000" in offer.sdp
    assert "192.168.1.20" not in offer.sdp and ".local" not in offer.sdp
    assert "203.0.113.5" not in offer.sdp
    everything = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}),
                             loopback_only=False)
    assert "192.168.1.20" in everything.sdp and "203.0.113.5" in everything.sdp


def test_keyframe_requests_go_to_the_primary_ssrc_not_rtx() -> None:
    offer = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}), loopback_only=True)
    assert offer.video_ssrc == 1111
    assert offer.kinds == ("video",) and offer.ice_ufrag == "abcd"
    bare = OFFER.replace("a=ssrc-group:FID 1111 2222\n", "").replace("a=ssrc:1111 cname:x\n", "")
    assert parse_offer(bare.encode(), directions=frozenset({"sendonly"}),
                       loopback_only=True).video_ssrc == 2222


def test_wrong_direction_is_refused() -> None:
    with pytest.raises(BadOffer, match="sendonly"):
        parse_offer(OFFER.encode(), directions=frozenset({"recvonly"}), loopback_only=True)


@pytest.mark.parametrize("line", ["", "1 1 udp", "1 1 udp 1 not-an-ip 9 typ host"])
def test_malformed_candidates_are_not_probed(line: str) -> None:
    assert not candidate_allowed(line, loopback_only=True)


def test_fragments() -> None:
    fragment = parse_fragment(
        b"a=ice-ufrag:abcd\r\na=ice-pwd:x\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
        b"a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
        b"a=candidate:2 1 udp 2130706431 10.0.0.2 50000 typ host\r\na=end-of-candidates\r\n",
        loopback_only=True)
    assert fragment.ice_ufrag == "abcd" and fragment.complete
    assert [(c.ip, c.sdpMid) for c in fragment.candidates] == [("127.0.0.1", "0")]
    with pytest.raises(BadOffer):
        parse_fragment(b"a=candidate:1 1 udp x\r\n", loopback_only=False)
    with pytest.raises(BadOffer):
        parse_fragment(b"hello world\r\n", loopback_only=False)
