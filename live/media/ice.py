"""The configured STUN/TURN servers, as the relay uses them and as WHIP/WHEP clients are told of them.

TURN credentials are never a shared password: with a TURN secret (coturn's `use-auth-secret` +
`static-auth-secret`, the "TURN REST" scheme) each peer connection gets its own username
"<unix expiry>:<id>" and password base64(HMAC-SHA1(secret, username)). coturn recomputes the
password from the username and refuses it once the expiry has passed, so a credential copied out of
a browser is worth a few hours of relaying at most, and nothing that could be replayed later.

Minted credentials reach three places: the relay's own peer connections, the `Link` headers of
WHIP/WHEP answers (RFC 9725 4.6), and `GET /sessions/{id}/ice-servers` (live/media/routes.py) for
pages that create their peer connection before they have an answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCIceServer

TURN_SCHEMES = ("turn:", "turns:")
DEFAULT_TURN_TTL = 4 * 3600  # seconds: longer than a session, short enough to be worth little leaked
MIN_TURN_SECRET = 16


def turn_credentials(secret: str, expires: int, user_id: str) -> tuple[str, str]:
    """The TURN REST username and password coturn accepts until `expires` (unix seconds)."""
    username = f"{expires}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def rtc_configuration(urls: Sequence[str] = (), username: str | None = None,
                      credential: str | None = None) -> RTCConfiguration:
    # An explicit (possibly empty) list: with None, aiortc would ask a public STUN server.
    return RTCConfiguration(iceServers=[
        RTCIceServer(urls=url, username=username, credential=credential)
        if url.startswith(TURN_SCHEMES) else RTCIceServer(urls=url) for url in urls])


def link_headers(urls: Sequence[str], username: str | None = None,
                 credential: str | None = None) -> list[str]:
    """RFC 9725 4.6: one `Link` per server, with the credentials for TURN."""
    links = []
    for url in urls:
        link = f'<{url}>; rel="ice-server"'
        if url.startswith(TURN_SCHEMES) and username:
            link += (f'; username="{username}"; credential="{credential or ""}"; '
                     'credential-type="password"')
        links.append(link)
    return links


@dataclass(frozen=True, slots=True)
class IceServers:
    """The servers, and fresh TURN credentials for each peer connection that asks."""

    urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl: int = DEFAULT_TURN_TTL
    clock: Callable[[], float] = time.time

    def credentials(self, label: str) -> tuple[str, str] | None:
        """A username and password for one peer connection (None: no TURN secret configured).
        `label` says who it is for in coturn's log ("viewer", "studio", "relay"); a random
        part makes each username, and so coturn's per-user quota, this connection's own."""
        if not self.turn_secret or not any(u.startswith(TURN_SCHEMES) for u in self.urls):
            return None
        expires = int(self.clock()) + self.turn_ttl
        return turn_credentials(self.turn_secret, expires, f"{label}-{secrets.token_hex(6)}")

    def link_headers(self, label: str) -> list[str]:
        username, credential = self.credentials(label) or (None, None)
        return link_headers(self.urls, username, credential)

    def rtc_configuration(self, label: str) -> RTCConfiguration:
        username, credential = self.credentials(label) or (None, None)
        return rtc_configuration(self.urls, username, credential)

    def for_browser(self, label: str) -> dict[str, object]:
        """The JSON of GET …/ice-servers: RTCPeerConnection's `iceServers`, and for how long
        the credentials hold (the page asks again once half of it has passed)."""
        minted = self.credentials(label)
        servers: list[dict[str, str]] = []
        for url in self.urls:
            server = {"urls": url}
            if url.startswith(TURN_SCHEMES):
                if minted is None:
                    continue  # a browser refuses a TURN server without credentials
                server.update(username=minted[0], credential=minted[1])
            servers.append(server)
        return {"iceServers": servers, "ttl": self.turn_ttl}
