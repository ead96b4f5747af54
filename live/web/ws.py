"""One WebSocket client: handshake, a reader, a writer draining a bounded queue.

The service never waits for a client: `deliver` only queues. A client whose queue overflows, or whose
socket does not take a message within the write deadline, is closed (4008) and resumes on reconnect.

Most connections are idle most of the time, and there may be thousands per process, so an idle one
holds as little as possible: no writer task (one is started when a message is queued and ends once
the queue is empty), no event, no empty queue (a deque costs ~600 bytes even empty), `__slots__`;
and under the production server the handshake's headers are gone once it is accepted
(live/web/lean_socket.py): read them before `accept`, or keep what you need.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from live import metrics
from live import protocol as p
from live.domain import Actor, DomainError, Role
from live.domain.ratelimit import TokenBucket
from live.domain.state import CAPTION_CHARS
from live.service import Service
from live.views import Audience
from live.web.auth import AUDIENCE_OF_ROLE, InvalidToken, Signer
from live.web.identity import Identities, Refused
from live.web.lean_socket import SEND_NOW

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000  # discrete messages waiting for one client before it is dropped
WRITE_DEADLINE = 10.0  # seconds one send may take
HELLO_TIMEOUT = 10.0
MESSAGE_BURST, MESSAGES_PER_SECOND = 30, 10.0  # per connection
FLOOD_STRIKES = 50  # refused messages in a row before the connection is closed
ATTACHING = sys.maxsize  # no queue limit while the service sends the snapshot or the replay


class ClientSession:
    __slots__ = ("_abandoned", "_allowance", "_bucket", "_closed", "_closing", "_expiry",
                 "_finished", "_queue", "_reader", "_receiving", "_send_now", "_slots", "_strikes",
                 "_writer",
                 "actor", "audience", "booth", "identities", "participant_id", "role", "service",
                 "session_id", "signer", "ws")

    def __init__(self, ws: WebSocket, service: Service, signer: Signer, session_id: str,
                 identities: Identities | None = None) -> None:
        self.ws = ws
        self.service = service
        self.signer = signer
        self.identities = identities or Identities(signer, service.store, limits=service.limits)
        self.session_id = session_id
        self.audience = Audience.STAGE
        self.role: str | None = None  # the link's, once its Hello is checked (the control room)
        self.participant_id: str | None = None
        self.booth: str | None = None  # an interpreter's language: its booth's chat
        self.actor: Actor | None = None
        # Messages waiting for the socket, and the latest tally / presence (newer replaces older);
        # both exist only while something waits, and so does the writer that sends them.
        self._queue: deque[str] | None = None
        self._slots: dict[str, str] | None = None
        self._writer: asyncio.Task[None] | None = None
        # Room beyond QUEUE_LIMIT for what `attach` queues at once (up to the hub's whole history
        # of missed events), until the queue has been empty once: a client resuming after a long
        # absence would otherwise be dropped by its own replay, and again on every reconnect.
        self._allowance = 0
        self._closing: tuple[int, str] | None = None
        self._closed = False
        self._finished = False  # the connection is over: the writer stops
        self._reader: asyncio.Task[Any] | None = None  # the task running `run`
        self._receiving = False  # the reader waits for a frame (and does nothing else)
        self._abandoned = False  # the peer took not even the close frame: the reader was stopped
        self._bucket = TokenBucket(MESSAGE_BURST, MESSAGES_PER_SECOND)
        self._strikes = 0
        self._expiry: asyncio.TimerHandle | None = None  # closes the connection when its link expires
        # Written at once when nothing waits before it (the server's extension, lean_socket.py);
        # else queued for the writer, as under any other ASGI server.
        self._send_now: Callable[[str], bool] | None = ws.scope.get("extensions", {}).get(SEND_NOW)

    # -- Subscriber -------------------------------------------------------------------------------

    def _sent_at_once(self, text: str) -> bool:
        """Whether `text` went out now: nothing queued before it, no writer busy, room on the
        socket. A task and a timer per message cost more than the send in a room of 5,000."""
        return (self._writer is None and self._send_now is not None and not self._finished
                and self._send_now(text))

    def deliver(self, text: str) -> None:
        if self._closing is not None:
            return
        if self._queue is None and self._sent_at_once(text):
            return
        if self._queue is None:
            self._queue = deque()
        elif len(self._queue) >= QUEUE_LIMIT + self._allowance:
            log.info("session %s: dropping a slow client", self.session_id)
            self._close_soon(p.CLOSE_SLOW_CLIENT, "slow client: reconnect and resume")
            return
        self._queue.append(text)
        self._start_writer()

    def deliver_latest(self, slot: str, text: str) -> None:
        if self._closing is None:
            if self._slots is None and self._queue is None and self._sent_at_once(text):
                return
            if self._slots is None:
                self._slots = {}
            self._slots[slot] = text
            self._start_writer()

    def _close_soon(self, code: int, reason: str) -> None:
        if self._closing is None:
            metrics.connection_closing(code)
            self._closing = (code, reason)
            self._queue = None  # what was waiting is not sent: the client resumes from what it has
            self._start_writer()  # it sends the close

    def _start_writer(self) -> None:
        """Start the writer unless one runs: it sends what waits, then ends.

        No await separates the writer's last look at the queue from its exit, nor a `deliver` from
        this check, so a queued message always has a writer coming for it.
        """
        if self._writer is None and not self._finished:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    # -- lifecycle --------------------------------------------------------------------------------

    async def run(self) -> None:
        self._reader = asyncio.current_task()
        await self.ws.accept()
        try:
            # Only the resume point outlives the handshake: this frame stays alive as long as the
            # connection, so it keeps no reference to the Hello (its token and identity).
            resume = self._resume_point(await self._hello())
            self._allowance = ATTACHING
            try:
                await self.service.attach(self.session_id, self, resume)
            finally:
                self._allowance = len(self._queue) if self._queue else 0
            await self._read_loop()
        except p.ProtocolError as exc:
            log.info("session %s: protocol error: %s", self.session_id, exc.reason)
            await self._drain(1.0)  # let the client read the errors that led here
            self._close_soon(exc.code, exc.reason)
        except WebSocketDisconnect:
            pass
        except asyncio.CancelledError:
            if not self._abandoned:
                raise
            if self._reader is not None:
                self._reader.uncancel()  # ours, and handled: later timeouts in this task still work
        except Exception:
            log.exception("session %s: connection failed", self.session_id)
            self._close_soon(p.CLOSE_SERVER_ERROR, "server error")
        finally:
            if self._expiry is not None:
                self._expiry.cancel()
            self.signer.unwatch(self)
            self.service.detach(self.session_id, self)
            await self._stop_writer()
            await self._close_socket()

    async def _stop_writer(self) -> None:
        """End the writer: it flushes nothing more, and closes the socket if a close is pending.

        The flag, not only cancel(), ends it: on Python 3.11 a cancel that lands as a send completes
        can be swallowed, which once left a writer (and uvicorn's shutdown) waiting forever.
        """
        self._finished = True
        writer = self._writer
        if writer is None:
            return
        if self._closing is None:
            writer.cancel()
        _, pending = await asyncio.wait({writer}, timeout=WRITE_DEADLINE)
        for task in pending:
            task.cancel()

    async def _drain(self, timeout: float) -> None:
        """Wait (at most `timeout`) for the writer to send what is queued: it ends when done."""
        if self._writer is not None:
            await asyncio.wait({self._writer}, timeout=timeout)

    async def _receive_frame(self) -> dict[str, Any]:
        self._receiving = True
        try:
            message = await self.ws.receive()
        finally:
            self._receiving = False
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            raise p.ProtocolError(p.CLOSE_UNSUPPORTED_DATA, "binary frames are not supported")
        # uvicorn enforces the limit first (ws_max_size); this holds under any other ASGI server.
        if len(text) * 4 > p.MAX_FRAME_BYTES and len(text.encode()) > p.MAX_FRAME_BYTES:
            raise p.ProtocolError(p.CLOSE_TOO_BIG, "frame too large")
        return p.decode_frame(text)

    async def _hello(self) -> dict[str, Any]:
        try:
            hello = await asyncio.wait_for(self._receive_frame(), HELLO_TIMEOUT)
        except TimeoutError:
            raise p.ProtocolError(p.CLOSE_HELLO_EXPECTED, "no Hello in time") from None
        if hello["type"] != "Hello":
            raise p.ProtocolError(p.CLOSE_HELLO_EXPECTED, "the first frame must be Hello")
        if hello.get("v") != p.VERSION:
            raise p.ProtocolError(p.CLOSE_BAD_VERSION, f"protocol version {p.VERSION} only")
        if not self.service.knows(self.session_id):
            raise p.ProtocolError(p.CLOSE_UNKNOWN_SESSION, "unknown session")
        try:
            grant = self.signer.verify(hello.get("token"), time.time())
        except InvalidToken as exc:
            raise p.ProtocolError(p.CLOSE_UNAUTHORIZED, str(exc)) from None
        if not grant.covers(self.session_id):
            raise p.ProtocolError(p.CLOSE_UNAUTHORIZED, "token not valid for this session")
        self._expiry = asyncio.get_running_loop().call_later(
            max(0.0, grant.expires - time.time()), self._close_soon, p.CLOSE_UNAUTHORIZED, "token expired")
        self.signer.watch(self, grant, self.session_id,  # its link revoked: closed as if expired
                          lambda: self._close_soon(p.CLOSE_UNAUTHORIZED, "link revoked"))
        self.audience = AUDIENCE_OF_ROLE[grant.role]
        self.role = grant.role.value
        welcome: dict[str, Any] = {"type": "Welcome", "v": p.VERSION, "role": grant.role.value,
                                   "session": self.session_id,
                                   "limits": {"question_chars": 500, "caption_chars": CAPTION_CHARS,
                                              "frame_bytes": p.MAX_FRAME_BYTES}}
        registered = False
        session = self.service.programme.session(self.session_id)
        if (grant.role is Role.INTERPRETER and session is not None
                and grant.language in session.interpretations):
            # The booth is the link's language: the interpreter is told that booth's chat, and
            # writes in it (live/domain/booth.py), whatever a command says.
            self.booth = grant.language
            welcome["booth"] = grant.language
        if self.audience is Audience.PARTICIPANT:
            try:
                identity = await self.identities.admit(
                    grant, hello.get("participant"), self.ws.client.host if self.ws.client else None)
            except Refused as exc:
                raise p.ProtocolError(exc.code, exc.reason) from None
            self.participant_id, registered = identity.participant_id, identity.registered
            welcome["participant"] = {"id": identity.participant_id, "key": identity.key}
            if identity.profile is not None:
                welcome["registrant"] = identity.profile  # pre-fills the page's name fields
        if grant.role is Role.GUEST:
            welcome["guest"] = {"id": grant.guest, "name": grant.name}
        self.actor = Actor(grant.role, self.participant_id, registered, self.booth,
                           grant.guest, grant.name)
        self.deliver(p.encode(welcome))
        return hello

    @staticmethod
    def _resume_point(hello: dict[str, Any]) -> tuple[str, int] | None:
        resume = hello.get("resume")
        if isinstance(resume, dict):
            epoch, seq = resume.get("epoch"), resume.get("seq")
            if isinstance(epoch, str) and isinstance(seq, int) and not isinstance(seq, bool):
                return epoch, seq
        return None

    async def _read_loop(self) -> None:
        while self._closing is None:
            frame = await self._receive_frame()
            if self._closing is not None:
                break  # decided while we waited (token expired, slow client): run nothing more
            ref = p.message_ref(frame)
            if not self._bucket.take(time.monotonic()):
                self._strikes += 1
                if self._strikes >= FLOOD_STRIKES:
                    raise p.ProtocolError(p.CLOSE_POLICY, "message flood")
                self._error(ref, "rate_limited", "too many messages: slow down")
                continue
            self._strikes = 0
            if frame["type"] == "Ping":
                self.deliver(p.encode({"type": "Pong", "ref": ref}))
                continue
            await self._command(frame, ref)

    async def _command(self, frame: dict[str, Any], ref: str | None) -> None:
        assert self.actor is not None
        try:
            command = p.parse_command(frame)
            client = self.ws.client.host if self.ws.client else None
            seq = await self.service.execute(self.session_id, command, self.actor, client=client)
        except p.InvalidCommand as exc:
            self._error(ref, exc.code, exc.message)
        except DomainError as exc:
            if exc.code in ("forbidden", "banned"):
                log.info("session %s: %s refused %s: %s", self.session_id, self.actor.label,
                         frame["type"], exc.code)
            self._error(ref, exc.code, exc.message, retry_after=exc.retry_after, limit=exc.limit)
        except (RedisError, OSError):
            log.warning("session %s: store unavailable", self.session_id, exc_info=True)
            self._error(ref, "unavailable", "storage unavailable: try again")
        else:
            self.deliver(p.encode({"type": "Ack", "ref": ref, "seq": seq}))

    def _error(self, ref: str | None, code: str, message: str, **details: int | None) -> None:
        """`details`: `retry_after` (seconds) or `limit` (characters), sent when known."""
        frame: dict[str, Any] = {"type": "Error", "ref": ref, "code": code, "message": message}
        frame.update({k: v for k, v in details.items() if v is not None})
        self.deliver(p.encode(frame))

    async def _write(self) -> None:
        """Send the queue, then the latest slots; end once nothing waits, or close if asked to."""
        try:
            while self._closing is None and not self._finished:
                if self._queue:
                    text = self._queue.popleft()
                elif self._slots:
                    text = self._slots.popitem()[1]
                else:
                    self._queue = self._slots = None  # idle again: keep nothing
                    if self._allowance != ATTACHING:  # the Welcome went out before the replay
                        self._allowance = 0
                    return
                try:
                    async with asyncio.timeout(WRITE_DEADLINE):
                        await self.ws.send_text(text)
                except TimeoutError:
                    self._close_soon(p.CLOSE_SLOW_CLIENT, "write deadline exceeded")
                except (WebSocketDisconnect, OSError, RuntimeError) as exc:
                    # The peer went away mid-send: the reader sees it too and ends the session.
                    log.debug("session %s: send failed: %r", self.session_id, exc)
                    self._finished = True
                except Exception:  # a message that cannot be sent: say so, rather than go deaf
                    log.exception("session %s: send failed", self.session_id)
                    self._close_soon(p.CLOSE_SERVER_ERROR, "server error")
            # Still the session's writer while it closes: `run` waits for it (`_stop_writer`)
            # instead of returning, and uvicorn dropping the socket, before the close frame.
            await self._close_socket()
        finally:
            self._writer = None

    async def _close_socket(self) -> None:
        """Close once, with the recorded code; the reader then sees the disconnect and ends.

        A peer that stopped reading leaves no room for the close frame either (uvicorn waits for
        the socket's buffer to drain first), and the reader waits for frames that may never come:
        past the write deadline, the reader is stopped, so the connection leaves the hub and its
        memory is freed rather than kept until the peer goes away.
        """
        if self._closing is not None and not self._closed:
            self._closed = True
            try:
                async with asyncio.timeout(WRITE_DEADLINE):
                    await self.ws.close(self._closing[0], self._closing[1][:120])
            except TimeoutError:
                log.info("session %s: the peer takes nothing, not even the close: ending",
                         self.session_id)
                reader = self._reader
                if self._receiving and reader is not None and reader is not asyncio.current_task():
                    self._abandoned = True
                    reader.cancel()
            except Exception as exc:
                log.debug("session %s: close failed: %r", self.session_id, exc)
