"""The configured STUN/TURN servers, as the relay uses them and as WHIP/WHEP clients are told of them.

One list serves both, so TURN credentials must reach both: the relay's own peer connections (it
allocates relay candidates too) and the `Link` headers of its answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiortc import RTCConfiguration, RTCIceServer

TURN_SCHEMES = ("turn:", "turns:")


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
