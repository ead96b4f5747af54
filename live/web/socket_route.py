"""The session WebSocket, handed to its endpoint straight from the middleware chain."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

SESSION_SOCKET = re.compile(r"/ws/sessions/([^/]+)")  # the router's {session_id}


class SessionSocketRoute:
    """`/ws/sessions/{session_id}` WebSockets go to `endpoint`; everything else to the app.

    Why not a `WebSocketRoute`: a participant's WebSocket lives for hours, and every coroutine
    between the server and the endpoint lives as long. Starlette's exception middleware, router,
    route and handler wrappers are eight of them, about 5 KB per idle connection (measured with
    tracemalloc, 2,000 connections; docs/performance.md), for nothing a WebSocket needs: the
    endpoint answers its own errors. This layer is no coroutine either: it returns the endpoint's.
    """

    def __init__(self, app: ASGIApp, endpoint: Callable[[WebSocket], Awaitable[None]]) -> None:
        self.app = app
        self.endpoint = endpoint

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            match = SESSION_SOCKET.fullmatch(scope["path"])
            if match is not None:
                scope["path_params"] = {"session_id": match[1]}
                return self.endpoint(WebSocket(scope, receive, send))
        return self.app(scope, receive, send)
