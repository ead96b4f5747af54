"""Offer checks that the HTTP tests do not reach: candidates a loopback relay must never probe."""

from __future__ import annotations

import pytest

from live.media.sdp import BadOffer, CandidatePolicy, candidate_allowed, parse_fragment, parse_offer

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
LOOPBACK = CandidatePolicy.for_relay(("127.0.0.1",), private=False)
INTERNET = CandidatePolicy.for_relay(None, private=False)  # every interface but loopback
LAN = CandidatePolicy.for_relay(None, private=True)


def test_a_loopback_relay_keeps_loopback_candidates_only() -> None:
    offer = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}), policy=LOOPBACK)
    assert "127.0.0.1 50000" in offer.sdp
    assert "192.168.1.20" not in offer.sdp and ".local" not in offer.sdp
    assert "203.0.113.5" not in offer.sdp
    public = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}), policy=INTERNET)
    assert "203.0.113.5" in public.sdp
    assert "192.168.1.20" not in public.sdp and ".local" not in public.sdp
    assert "127.0.0.1 50000" not in public.sdp
    lan = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}), policy=LAN)
    assert "192.168.1.20" in lan.sdp and ".local" in lan.sdp and "203.0.113.5" in lan.sdp
    assert "127.0.0.1 50000" not in lan.sdp


def test_keyframe_requests_go_to_the_primary_ssrc_not_rtx() -> None:
    offer = parse_offer(OFFER.encode(), directions=frozenset({"sendonly"}), policy=LOOPBACK)
    assert offer.video_ssrc == 1111
    assert offer.kinds == ("video",) and offer.ice_ufrag == "abcd"
    bare = OFFER.replace("a=ssrc-group:FID 1111 2222\n", "").replace("a=ssrc:1111 cname:x\n", "")
    assert parse_offer(bare.encode(), directions=frozenset({"sendonly"}),
                       policy=LOOPBACK).video_ssrc == 2222


def test_wrong_direction_is_refused() -> None:
    with pytest.raises(BadOffer, match="sendonly"):
        parse_offer(OFFER.encode(), directions=frozenset({"recvonly"}), policy=LOOPBACK)


@pytest.mark.parametrize("line", ["", "1 1 udp", "1 1 udp 1 not-an-ip 9 typ host"])
def test_malformed_candidates_are_not_probed(line: str) -> None:
    assert not candidate_allowed(line, LOOPBACK)


def test_fragments() -> None:
    fragment = parse_fragment(
        b"a=ice-ufrag:abcd\r\na=ice-pwd:x\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
        b"a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
        b"a=candidate:2 1 udp 2130706431 10.0.0.2 50000 typ host\r\na=end-of-candidates\r\n",
        policy=LOOPBACK)
    assert fragment.ice_ufrag == "abcd" and fragment.complete
    assert [(c.ip, c.sdpMid) for c in fragment.candidates] == [("127.0.0.1", "0")]
    with pytest.raises(BadOffer):
        parse_fragment(b"a=candidate:1 1 udp x\r\n", policy=INTERNET)
    with pytest.raises(BadOffer):
        parse_fragment(b"hello world\r\n", policy=INTERNET)


PRIVATE = ["10.1.2.3", "172.16.0.9", "172.31.255.1", "192.168.1.20", "100.64.0.1", "100.127.9.9",
           "169.254.10.1", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:10.0.0.7",
           "64:ff9b::c0a8:0101", "abcd-1234.local"]
NEVER = ["0.0.0.0", "0.1.2.3", "::", "224.0.0.251", "ff02::fb", "255.255.255.255", "240.0.0.1",
         "example.org"]
LOOPBACKS = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]
PUBLIC = ["203.0.113.7", "198.51.100.4", "192.0.2.33", "2001:db8::5", "172.32.0.1", "100.128.0.1"]


@pytest.mark.parametrize(("policy", "allowed"), [
    (INTERNET, PUBLIC),
    (LAN, PUBLIC + PRIVATE),
    (LOOPBACK, LOOPBACKS),
    (CandidatePolicy.for_relay(("127.0.0.1",), private=True), LOOPBACKS),
    (CandidatePolicy.for_relay(("127.0.0.1", "192.0.2.10"), private=False), PUBLIC + LOOPBACKS),
])
def test_one_rule_decides_which_candidates_the_relay_tries(policy: CandidatePolicy,
                                                            allowed: list[str]) -> None:
    for host in PRIVATE + NEVER + LOOPBACKS + PUBLIC:
        line = f"1 1 udp 2130706431 {host} 50000 typ host"
        assert candidate_allowed(line, policy) == (host in allowed), (policy, host)


def test_trickled_private_candidates_are_dropped_as_offered_ones_are() -> None:
    body = "".join(f"a=candidate:{i} 1 udp 2130706431 {host} 5000{i} typ host\r\n"
                   for i, host in enumerate(PRIVATE[:5] + ["127.0.0.1", "203.0.113.7"]))
    fragment = parse_fragment(b"a=mid:0\r\n" + body.encode(), policy=INTERNET)
    assert [c.ip for c in fragment.candidates] == ["203.0.113.7"]
    lan = parse_fragment(b"a=mid:0\r\n" + body.encode(), policy=LAN)
    assert [c.ip for c in lan.candidates] == PRIVATE[:5] + ["203.0.113.7"]
