"""Checking the offers (and trickled candidates) that studios and viewers send.

Everything here is input from the network: a malformed offer must become a 400, never an exception
deep inside aiortc. aiortc parses the SDP; this module adds the checks the relay depends on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiortc import RTCIceCandidate
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.sdp import SessionDescription, candidate_from_sdp

MAX_SDP_BYTES = 32 * 1024  # real offers are 3-8 KB; this bounds what aiortc is asked to parse


class BadOffer(ValueError):
    """The offer (or fragment) cannot be used; the message is safe to send back."""


@dataclass(frozen=True, slots=True)
class Offer:
    sdp: str  # with the candidates this relay will not try removed
    kinds: tuple[str, ...]  # "audio"/"video", in m-line order
    video_ssrc: int | None  # the studio's primary video SSRC, where keyframe requests go
    ice_ufrag: str
    ice_pwd: str
    # Every media section in one BUNDLE group: the answer then uses one transport for all.
    bundled: bool = False


def _lines(body: bytes, limit: int = MAX_SDP_BYTES) -> list[str]:
    if len(body) > limit:
        raise BadOffer(f"the SDP is larger than {limit} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadOffer("the SDP is not UTF-8 text") from None
    return [line for line in text.replace("\r\n", "\n").split("\n") if line]


# Addresses a relay on the internet must never send to on a client's say-so: a candidate is where
# the relay sends STUN checks, so one pointing into the relay's own networks would make it probe
# (or, with TURN, reach) machines behind its firewall. LAN events allow them (a setting).
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
    "fc00::/7", "fe80::/10"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the IPv4 address is in the last 32 bits
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
MDNS_SUFFIX = ".local"


@dataclass(frozen=True, slots=True)
class CandidatePolicy:
    """Which remote ICE candidates the relay may try: one rule for offers and trickled candidates.

    `loopback`: the relay offers a loopback address, so loopback candidates can answer; with
    `loopback_only` (every media address is loopback: tests, rehearsals) nothing else can, and
    nothing else is tried. `private`: private, CGNAT and link-local addresses, and mDNS names
    (which a browser uses to hide a LAN address, and which are resolved by multicast on the
    relay's own LAN), are tried: an event on a LAN.
    """

    loopback: bool = False
    loopback_only: bool = False
    private: bool = False

    @classmethod
    def for_relay(cls, media_addresses: tuple[str, ...] | None, private: bool) -> CandidatePolicy:
        loopback = [ipaddress.ip_address(a).is_loopback for a in media_addresses or ()]
        return cls(loopback=any(loopback), loopback_only=bool(loopback) and all(loopback),
                   private=private)

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host.endswith(MDNS_SUFFIX) and self.private and not self.loopback_only
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            elif address in NAT64:
                address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.is_loopback:
            return self.loopback
        if self.loopback_only or address.is_unspecified or address.is_multicast \
                or address.is_reserved or address in THIS_NETWORK:
            return False  # never a peer's address
        return self.private or not any(address in network for network in PRIVATE_NETWORKS)


def candidate_allowed(candidate_line: str, policy: CandidatePolicy) -> bool:
    """A candidate line (after `a=candidate:`) the relay may try; a malformed one is not tried."""
    fields = candidate_line.split()
    return len(fields) >= 8 and policy.allows(fields[4])


def parse_offer(body: bytes, *, directions: frozenset[str], policy: CandidatePolicy,
                audio_sections: int = 1) -> Offer:
    """Parse and check an offer whose media sections must have one of `directions`; a player's
    may carry a second audio section (the floor under an interpretation: live/media/channels.py)."""
    lines = _lines(body)
    if not lines or lines[0] != "v=0":
        raise BadOffer("not an SDP offer (it must start with v=0)")
    kept = [line for line in lines if not line.startswith("a=candidate:")
            or candidate_allowed(line[len("a=candidate:"):], policy)]
    sdp = "\r\n".join(kept) + "\r\n"
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc raises whatever its parsing hits
        raise BadOffer(f"the SDP cannot be parsed ({type(exc).__name__})") from None
    media = [m for m in parsed.media if m.kind in ("audio", "video")]
    kinds = tuple(m.kind for m in media)
    if not media:
        raise BadOffer("the offer has no audio or video")
    if kinds.count("video") > 1 or kinds.count("audio") > audio_sections:
        audio = "one audio track" if audio_sections == 1 else f"{audio_sections} audio tracks"
        raise BadOffer(f"the offer may carry {audio} and one video track at most")
    for m in media:
        if m.ice is None or m.dtls is None or not m.dtls.fingerprints:
            raise BadOffer(f"the {m.kind} section lacks ICE credentials or a DTLS fingerprint")
        if m.direction not in directions:
            raise BadOffer(f"the {m.kind} section is {m.direction}; expected "
                           + " or ".join(sorted(directions)))
        if not m.rtp.codecs:
            raise BadOffer(f"the {m.kind} section offers no codec")
    video_ssrc = None
    for m in media:
        if m.kind == "video":
            groups = [g for g in m.ssrc_group if g.semantic == "FID" and g.items]
            if groups:
                video_ssrc = int(groups[0].items[0])
            elif m.ssrc:
                video_ssrc = m.ssrc[0].ssrc
    ice = media[0].ice
    assert ice is not None
    bundle = next((set(g.items) for g in parsed.group if g.semantic == "BUNDLE"), set())
    bundled = all(m.rtp.muxId in bundle for m in media)
    if kinds.count("audio") > 1 and not bundled:
        raise BadOffer("an offer with two audio sections must bundle them (a=group:BUNDLE)")
    return Offer(sdp, kinds, video_ssrc, ice.usernameFragment or "", ice.password or "",
                 bundled)


@dataclass(frozen=True, slots=True)
class Fragment:
    """An RFC 8840 trickle-ice-sdpfrag: new candidates, or new credentials (an ICE restart)."""

    ice_ufrag: str | None
    ice_pwd: str | None
    candidates: tuple[RTCIceCandidate, ...]
    complete: bool


def parse_fragment(body: bytes, *, policy: CandidatePolicy) -> Fragment:
    ufrag = pwd = mid = None
    candidates: list[RTCIceCandidate] = []
    complete = False
    for line in _lines(body, limit=16 * 1024):
        if line.startswith("a=ice-ufrag:"):
            ufrag = line.split(":", 1)[1].strip()
        elif line.startswith("a=ice-pwd:"):
            pwd = line.split(":", 1)[1].strip()
        elif line.startswith("a=mid:"):
            mid = line.split(":", 1)[1].strip()
        elif line == "a=end-of-candidates":
            complete = True
        elif line.startswith("a=candidate:"):
            try:
                candidate = candidate_from_sdp(line[len("a=candidate:"):])
            except (AssertionError, ValueError, IndexError):
                raise BadOffer("a candidate line cannot be parsed") from None
            if mid is None:  # aiortc cannot place it (and would raise)
                raise BadOffer("a candidate must follow the a=mid of its media section")
            if not policy.allows(candidate.ip):
                continue  # as in offers: never tried
            candidate.sdpMid = mid
            candidates.append(candidate)
        elif not (line.startswith(("a=", "m=", "c=")) and len(line) > 2):
            raise BadOffer("not a trickle-ice-sdpfrag")
    return Fragment(ufrag, pwd, tuple(candidates), complete)


def negotiated_codecs(answer: str) -> dict[str, RTCRtpCodecParameters]:
    """The codec each media section of our answer settled on (the first one listed)."""
    return {m.kind: m.rtp.codecs[0] for m in SessionDescription.parse(answer).media
            if m.kind in ("audio", "video") and m.rtp.codecs}
