"""Checking the offers (and trickled candidates) that studios and viewers send.

Everything here is input from the network: a malformed offer must become a 400, never an exception
deep inside aiortc. aiortc parses the SDP; this module adds the checks the relay depends on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiortc import RTCIceCandidate
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


def _lines(body: bytes, limit: int = MAX_SDP_BYTES) -> list[str]:
    if len(body) > limit:
        raise BadOffer(f"the SDP is larger than {limit} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadOffer("the SDP is not UTF-8 text") from None
    return [line for line in text.replace("\r\n", "\n").split("\n") if line]


def candidate_allowed(candidate_line: str, loopback_only: bool) -> bool:
    """With a relay that listens on loopback only, other addresses cannot answer: never probe them
    (nor resolve mDNS names, which would send multicast)."""
    if not loopback_only:
        return True
    fields = candidate_line.split()
    if len(fields) < 8:
        return False
    try:
        return ipaddress.ip_address(fields[4]).is_loopback
    except ValueError:
        return False


def parse_offer(body: bytes, *, directions: frozenset[str], loopback_only: bool) -> Offer:
    """Parse and check an offer whose media sections must have one of `directions`."""
    lines = _lines(body)
    if not lines or lines[0] != "v=0":
        raise BadOffer("not an SDP offer (it must start with v=0)")
    kept = [line for line in lines if not line.startswith("a=candidate:")
            or candidate_allowed(line[len("a=candidate:"):], loopback_only)]
    sdp = "\r\n".join(kept) + "\r\n"
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc raises whatever its parsing hits
        raise BadOffer(f"the SDP cannot be parsed ({type(exc).__name__})") from None
    media = [m for m in parsed.media if m.kind in ("audio", "video")]
    kinds = tuple(m.kind for m in media)
    if not media:
        raise BadOffer("the offer has no audio or video")
    if len(set(kinds)) != len(kinds):
        raise BadOffer("the offer may carry one audio and one video track at most")
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
    return Offer(sdp, kinds, video_ssrc, ice.usernameFragment or "", ice.password or "")


@dataclass(frozen=True, slots=True)
class Fragment:
    """An RFC 8840 trickle-ice-sdpfrag: new candidates, or new credentials (an ICE restart)."""

    ice_ufrag: str | None
    ice_pwd: str | None
    candidates: tuple[RTCIceCandidate, ...]
    complete: bool


def parse_fragment(body: bytes, *, loopback_only: bool) -> Fragment:
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
            value = line[len("a=candidate:"):]
            if not candidate_allowed(value, loopback_only):
                continue
            try:
                candidate = candidate_from_sdp(value)
            except (AssertionError, ValueError, IndexError):
                raise BadOffer("a candidate line cannot be parsed") from None
            candidate.sdpMid = mid
            candidates.append(candidate)
        elif not (line.startswith(("a=", "m=", "c=")) and len(line) > 2):
            raise BadOffer("not a trickle-ice-sdpfrag")
    return Fragment(ufrag, pwd, tuple(candidates), complete)
