"""What an idle WebSocket keeps on the server (live/web/lean_socket.py, live/web/socket_route.py):
the queue and flag that replace asyncio's, and, on the real server with the production options,
a connection past its handshake holding no headers and no frame of the router."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from live.config import Settings
from live.web.lean_socket import SEND_NOW, Flag, Inbox, LeanWebSocketProtocol
from tests.conftest import SESSION, RunningServer, ServerThread, free_port, token_of
from tests.waiting import holds_for, wait_for
from tests.wsclient import Client


async def test_the_inbox_hands_messages_in_order_and_wakes_its_reader() -> None:
    inbox = Inbox()
    assert inbox.empty()
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    assert inbox.qsize() == 2
    assert await inbox.get() == "a"
    assert await inbox.get() == "b"
    reader = asyncio.create_task(inbox.get())
    await holds_for(lambda: not reader.done(), 0.05, "the reader waits")
    inbox.put_nowait("c")
    assert await reader == "c"
    assert inbox.empty()


async def test_a_cancelled_read_leaves_the_inbox_usable() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    inbox.put_nowait("next")  # no stale waiter to wake
    assert await asyncio.wait_for(inbox.get(), 1) == "next"


async def test_the_inbox_refuses_a_second_reader() -> None:
    inbox = Inbox()
    first = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="one reader"):
        await inbox.get()
    first.cancel()


async def test_the_flag_lets_waiters_through_only_while_set() -> None:
    flag = Flag(is_set=True)
    assert await flag.wait()
    flag.clear()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await holds_for(lambda: not any(w.done() for w in waiters), 0.05, "the waiters wait")
    flag.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    flag.clear()
    cancelled = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    flag.set()  # the cancelled waiter is gone, nothing to wake
    assert flag.is_set()


@pytest.fixture
def served() -> Iterator[tuple[ServerThread, RunningServer]]:
    thread = ServerThread(Settings(port=free_port()))
    with thread as server:
        yield thread, server


def socket_protocols(thread: ServerThread) -> list[Any]:
    return [c for c in thread.server.server_state.connections
            if isinstance(c, LeanWebSocketProtocol)]


async def test_an_idle_connection_keeps_no_headers_and_no_router_frame(
        served: tuple[ServerThread, RunningServer]) -> None:
    thread, server = served
    client = Client(server.ws_base, SESSION, token_of(server.link("participant", SESSION)))
    await client.connect()
    try:
        [protocol] = socket_protocols(thread)
        assert isinstance(protocol.queue, Inbox) and isinstance(protocol.writable, Flag)
        assert not hasattr(protocol, "request") and not hasattr(protocol, "response")
        assert protocol.scope["headers"] == []
        # The coroutines the connection holds, outermost first: the endpoint follows the
        # connection limits directly, with none of Starlette's router in between.
        names = []
        task = next(t for t in thread.server.server_state.tasks if not t.done())
        coro: Any = task.get_coro()
        while hasattr(coro, "cr_await"):  # down to what the innermost awaits (a future)
            names.append(coro.__qualname__)
            coro = coro.cr_await
        assert "Router.__call__" not in names and "ExceptionMiddleware.__call__" not in names
        after_limits = names[names.index("ConnectionLimits.__call__") + 1]
        assert after_limits == "create_app.<locals>.websocket", names
        # …and the connection works: a question goes through.
        await client.ok("AskQuestion", text="Où en est le budget ?", anonymous=True)
        await wait_for(lambda: client.question("Où en est le budget ?"), 5, "the question")
    finally:
        await client.close()


async def test_a_message_that_cannot_go_at_once_waits_its_turn(
        served: tuple[ServerThread, RunningServer]) -> None:
    """Messages are written at once (`send_now`) while the socket takes them; when its buffer is
    full they queue for the writer, and go out in order once there is room."""
    thread, server = served
    client = Client(server.ws_base, SESSION, token_of(server.link("participant", SESSION)))
    await client.connect()
    [protocol] = socket_protocols(thread)
    assert SEND_NOW in protocol.scope["extensions"]

    def pongs() -> list[str]:
        return [m["ref"] for m in client.messages if m["type"] == "Pong"]

    await client.ws.send(json.dumps({"type": "Ping", "ref": "now"}))
    await client.wait_for(lambda: pongs() == ["now"])
    protocol.loop.call_soon_threadsafe(protocol.pause_writing)  # as the transport says when full
    for i in range(3):
        await client.ws.send(json.dumps({"type": "Ping", "ref": f"p{i}"}))
    await holds_for(lambda: pongs() == ["now"], 0.3, "nothing more goes out while it is full")
    protocol.loop.call_soon_threadsafe(protocol.resume_writing)
    await client.wait_for(lambda: pongs() == ["now", "p0", "p1", "p2"])
    await client.close()
    await wait_for(lambda: protocol not in thread.server.server_state.connections, 5, "closed")
    assert SEND_NOW not in protocol.scope["extensions"]  # nothing left pointing back at it


async def test_a_text_that_cannot_be_written_is_refused_not_raised(
        served: tuple[ServerThread, RunningServer]) -> None:
    """`send_now` runs inside a fan-out to every subscriber: it answers False, never raises."""
    thread, server = served
    client = Client(server.ws_base, SESSION, token_of(server.link("participant", SESSION)))
    await client.connect()
    [protocol] = socket_protocols(thread)
    result: concurrent.futures.Future[bool] = concurrent.futures.Future()
    protocol.loop.call_soon_threadsafe(lambda: result.set_result(protocol.send_now("\ud800")))
    assert result.result(5) is False  # a lone surrogate: no UTF-8 for it
    await client.ws.send(json.dumps({"type": "Ping", "ref": "still"}))
    await client.wait_for(lambda: any(m.get("ref") == "still" for m in client.messages))
    await client.close()


async def test_another_websocket_path_is_refused_as_before(
        served: tuple[ServerThread, RunningServer]) -> None:
    _, server = served
    for path in (f"/ws/sessions/{SESSION}/more", "/ws/other"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(server.ws_base + path):
                pass
        assert refused.value.response.status_code == 403, path
