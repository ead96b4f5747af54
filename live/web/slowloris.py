"""A deadline for the request head: a connection that sends nothing, or dribbles its headers, is cut.

What uvicorn 0.55 does by itself, with h11 and with httptools alike: nothing arms a timer when a
connection is made, so a client that connects and sends nothing holds its socket (and a file
descriptor) forever; a client that sends its request head one byte at a time is held as long as
it keeps dribbling, since every byte received cancels the only timer there is (the keep-alive
timeout, armed after a response). Thousands of such sockets cost the attacker nothing and exhaust
the server's descriptors: the "slowloris" attack.

This protocol, uvicorn's h11 one with one addition, gives every connection `head_timeout` seconds
from its opening, and from each response on a keep-alive connection, to deliver a whole request
head; past that it is closed. Once a head is complete the request belongs to the application (a
slow body is the endpoint's business), and a WebSocket, once upgraded, to its own protocol, which
has its own liveness (pings, and the Hello deadline in live/web/ws.py).

h11 is chosen explicitly (`uvicorn_options` passes this class), not left to uvicorn's "auto",
which would switch to httptools if it happened to be installed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class HeadDeadlineProtocol(H11Protocol):
    head_timeout = 5.0  # set by `head_deadline_protocol`
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm_head_deadline()  # now or never: the timer would keep this object 5 s more
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()  # the next request on this connection is due in time too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_overdue)

    def _disarm_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return  # closed already, or upgraded to a WebSocket
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its head came in time
        log.debug("closing a connection that sent no complete request head in %.1f s",
                  self.head_timeout)
        self.transport.close()


def head_deadline_protocol(timeout: float) -> type[HeadDeadlineProtocol]:
    """The protocol class for uvicorn's `http` option, with this deadline."""
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout": timeout})
