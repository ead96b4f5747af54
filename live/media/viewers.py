"""Who asks to watch, as the relay's viewer bounds count them (docs/media.md, "Limits")."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from live.config import Settings


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who makes a WHEP request, as its bounds count it (docs/media.md, "Limits").

    `address`: the client's network (uvicorn's client address, X-Forwarded-For believed from the
    trusted proxies only; an IPv6 client is its /64, which it may hold entirely). `link`: a digest
    of a personal token (studio, moderator, stage, admin, a registrant's participant link), None
    for the public participant link, which the whole audience shares and so cannot bound anyone."""

    address: str | None = None
    link: str | None = None

    @classmethod
    def of(cls, client_host: str | None, token: str | None, private_role: bool) -> Viewer:
        address = None
        if client_host:
            try:
                ip = ipaddress.ip_address(client_host)
            except ValueError:
                address = client_host  # not an address (a test client's name): itself
            else:
                if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                    ip = ip.ipv4_mapped  # a dual-stack socket's IPv4 client
                address = str(ipaddress.ip_network(f"{ip}/64", strict=False)) \
                    if ip.version == 6 else str(ip)
        link = hashlib.sha256(token.encode()).hexdigest()[:32] if token and private_role else None
        return cls(address, link)


def over_share(viewer: Viewer, others: Iterable[Viewer], settings: Settings) -> str | None:
    """Why `viewer` may not watch one more stream (its address's or private link's share is
    taken by `others`, the live viewers: one gone, or never connected, frees its slot), or None."""
    others = list(others)
    if viewer.address is not None and sum(v.address == viewer.address for v in others) \
            >= settings.max_viewers_per_address:
        return (f"too many video viewers from this network address (at most "
                f"{settings.max_viewers_per_address}): close one, or try again later")
    if viewer.link is not None and sum(v.link == viewer.link for v in others) \
            >= settings.max_viewers_per_token:
        return (f"this link already plays the video on {settings.max_viewers_per_token} devices: "
                "close one, or try again later")
    return None
