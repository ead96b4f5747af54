"""Two ASGI middlewares at the door: the Host header check, and connection limits.

Host check (DNS rebinding): a page on an attacker's domain can have its name resolve to this
server's address, or to 127.0.0.1 on an organiser's laptop, and then read `/metrics`, pages and
exports as if it were same-origin. The browser still sends the attacker's name in `Host`, so any
request for a name that is not ours (the public URL's, the listening address, `localhost` and
loopback addresses, or `allowed_hosts`) is answered 421 Misdirected Request, WebSocket handshakes
included.

Connection limits (floods): one process holds at most `max_connections` HTTP requests in progress
and WebSocket connections together, and one network address at most `max_connections_per_address`
of them (an IPv6 client is counted by its /64: one host gets a whole /64 and can pick any address
in it). The address is the client's as uvicorn resolved it: `X-Forwarded-For` only from a trusted
proxy. Loopback peers (this machine, the benchmarks, a local proxy that forwarded nothing) are not
limited per address, only in total. Beyond a limit: HTTP 429 (this address) or 503 (this process)
with Retry-After; a WebSocket handshake gets the same status before it is accepted. Idle
keep-alive connections are not requests: the request head deadline (live/web/slowloris.py) and
uvicorn's keep-alive timeout bound those.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from live.config import Settings
from live.limits import address_group as budget_group
from live.limits import is_loopback

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
RETRY_AFTER = 5  # seconds, in 429 and 503 answers
LOG_EVERY = 10.0  # seconds between two warnings about refused connections


def host_name(header: str | None) -> str | None:
    """The name in a Host header, lower case, without port or trailing dot; None if unreadable."""
    if not header or len(header) > 300:
        return None
    try:
        name = urlsplit(f"//{header}").hostname
    except ValueError:  # a bad port or bracket
        return None
    return name.rstrip(".") if name else None


def _loopback_literal(name: str | None) -> bool:
    """127.0.0.0/8 or ::1 written as an address: no DNS name, so nothing to rebind."""
    try:
        return name is not None and ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names we answer for; None when the check is off (`allowed_hosts` has "*")."""
    if "*" in settings.allowed_hosts:
        return None
    names = set(LOOPBACK_NAMES)
    for url_host in (host_name(urlsplit(settings.base_url).netloc), settings.host.lower()):
        if url_host and url_host not in WILDCARD_HOSTS:
            names.add(url_host)
    names.update(filter(None, (host_name(h) for h in settings.allowed_hosts)))
    return frozenset(names)


def address_group(host: str | None) -> str | None:
    """Whom a client counts as: its IPv4 address, its IPv6 /64, as for the vote budgets
    (live.limits); None for loopback (not limited per address)."""
    if not host or is_loopback(host):
        return None
    return budget_group(host)


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str,
                 retry_after: int | None = None) -> None:
    """Answer `status` with a plain text body, to an HTTP request or a WebSocket handshake."""
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    body = (message + "\n").encode()
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # a server without the extension: refused before accept, the client sees 403
        await send({"type": "websocket.close", "code": 1008})


class HostCheck:
    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: a WebSocket that passes holds no frame of this layer for its lifetime.
        if self.allowed is not None and scope["type"] in ("http", "websocket"):
            header = next((v for k, v in scope["headers"] if k == b"host"), None)
            name = host_name(header.decode("latin-1")) if header is not None else None
            if name not in self.allowed and not _loopback_literal(name):
                return refuse(scope, receive, send, 421,
                              "misdirected request: this server does not answer for that Host")
        return self.app(scope, receive, send)


class ConnectionLimits:
    def __init__(self, app: ASGIApp, per_address: int, total: int) -> None:
        self.app = app
        self.per_address, self.total = per_address, total
        self.open = 0
        self.by_address: dict[str, int] = {}
        self._refused = 0
        self._logged_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        group = address_group(client[0] if client else None)
        if self.open >= self.total:
            self._note_refusal("this process")
            await refuse(scope, receive, send, 503, "too many connections: try again shortly",
                         RETRY_AFTER)
            return
        if group is not None and self.by_address.get(group, 0) >= self.per_address:
            self._note_refusal(group)
            await refuse(scope, receive, send, 429,
                         "too many connections from your network address: try again shortly",
                         RETRY_AFTER)
            return
        self.open += 1
        if group is not None:
            self.by_address[group] = self.by_address.get(group, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
            if group is not None:
                left = self.by_address[group] - 1
                if left:
                    self.by_address[group] = left
                else:
                    del self.by_address[group]  # the map holds only addresses with connections

    def _note_refusal(self, whose: str) -> None:
        """A warning now and then, not one per refused connection: a flood would fill the log."""
        self._refused += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY:
            log.warning("connection limit reached (%s): %d refused since the last warning",
                        whose, self._refused)
            self._refused, self._logged_at = 0, now
