"""The feed protocol between relay workers, on its own: frames and codecs survive the wire, the
handshake admits a holder of the secret only, at both ends, every later message is checked in its
place (forged, altered, replayed, reordered, dropped or reflected: refused), and bad input is a
FeedError, not a crash."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media import feed
from live.media.feed import FeedError

KEY = feed.feed_key("feed-tests-secret-0123456789")


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


@contextlib.asynccontextmanager
async def connected(key: bytes = KEY) -> AsyncIterator[tuple[feed.Channel, feed.Channel]]:
    """A client's channel and the server's, over a real loopback connection."""
    accepted: asyncio.Future[feed.Channel] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _, channel = await feed.accept_request(reader, writer, KEY)
            accepted.set_result(channel)
            await done.wait()
        except Exception as exc:  # the test reads it from the future
            if not accepted.done():
                accepted.set_exception(exc)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    client = await feed.open_request(address, key, {"op": "subscribe", "session": "s"})
    try:
        yield client, await accepted
    finally:
        done.set()
        client.close()
        server.close()
        await server.wait_closed()


async def test_a_frame_crosses_the_wire_with_its_kind_flag_and_timestamp() -> None:
    data = bytes(range(256)) * 40
    async with connected() as (edge, origin):
        origin.send_frame("video", True, 2**40 + 3000, data)
        origin.send_frame("audio", False, -5, b"")
        origin.send_json(feed.CODECS, {"codecs": {}})
        edge.send(feed.VIEWERS, feed.COUNT.pack(7))
        kind, payload = await edge.receive()
        assert kind == feed.FRAME and feed.unpack_frame(payload) == ("video", True, 2**40 + 3000, data)
        kind, payload = await edge.receive()
        assert feed.unpack_frame(payload) == ("audio", False, -5, b"")
        assert await edge.receive() == (feed.CODECS, b'{"codecs":{}}')
        assert await origin.receive() == (feed.VIEWERS, feed.COUNT.pack(7))


async def test_lengths_over_the_limit_and_unknown_types_are_refused_before_reading_them() -> None:
    with pytest.raises(FeedError, match="limit"):
        await feed.read_message(reader_of(struct.pack("!IB", feed.MAX_MESSAGE + 1, feed.REQUEST)))
    with pytest.raises(FeedError, match="type"):
        await feed.read_message(reader_of(struct.pack("!IB", 0, 99)))
    with pytest.raises(FeedError, match="type"):  # a stream message where a handshake is due
        await feed.read_message(reader_of(struct.pack("!IB", 0, feed.FRAME)))
    with pytest.raises(FeedError):
        feed.unpack_frame(b"\x07\x00" + bytes(8))  # no such media kind
    with pytest.raises(asyncio.IncompleteReadError):
        await feed.read_message(reader_of(struct.pack("!IB", 10, feed.REQUEST) + b"short"))
    async with connected() as (edge, origin):
        edge.writer.write(struct.pack("!IB", feed.MAX_MESSAGE + 1, feed.FRAME))
        with pytest.raises(FeedError, match="limit"):
            await origin.receive()


async def tampered(attack: Callable[[feed.Channel, feed.Channel], Awaitable[None]]) -> str:
    """Runs `attack` (writing on the edge's side); the origin's next read must refuse it."""
    async with connected() as (edge, origin):
        await attack(edge, origin)
        with pytest.raises(FeedError) as refused:
            for _ in range(3):  # the attack's messages, then whatever follows (within 2 s)
                await asyncio.wait_for(origin.receive(), 2)
        return str(refused.value)


async def test_every_message_is_authenticated_in_its_place() -> None:
    async def forged(edge: feed.Channel, origin: feed.Channel) -> None:
        edge.writer.write(feed.pack(feed.KEYFRAME) + bytes(feed.MAC_BYTES))  # no key: any MAC

    async def altered(edge: feed.Channel, origin: feed.Channel) -> None:
        header, _, mac = edge.seal(feed.VIEWERS, feed.COUNT.pack(3))
        edge.writer.writelines([header, feed.COUNT.pack(3000), mac])

    async def replayed(edge: feed.Channel, origin: feed.Channel) -> None:
        message = b"".join(edge.seal(feed.KEYFRAME))
        edge.writer.write(message)
        assert await origin.receive() == (feed.KEYFRAME, b"")  # once: fine
        edge.writer.write(message)

    async def reordered(edge: feed.Channel, origin: feed.Channel) -> None:
        first, second = edge.seal(feed.VIEWERS, feed.COUNT.pack(1)), edge.seal(feed.KEYFRAME)
        edge.writer.writelines(second + first)

    async def dropped(edge: feed.Channel, origin: feed.Channel) -> None:
        edge.seal(feed.KEYFRAME)  # never written
        edge.send(feed.VIEWERS, feed.COUNT.pack(2))

    async def reflected(edge: feed.Channel, origin: feed.Channel) -> None:
        edge.writer.writelines(origin.seal(feed.KEYFRAME))  # the origin's own, sent back to it

    async def handshake_again(edge: feed.Channel, origin: feed.Channel) -> None:
        edge.writer.write(feed.pack(feed.REQUEST, bytes(64)))

    for attack in (forged, altered, replayed, reordered, dropped, reflected):
        assert "bad MAC" in await tampered(attack), attack.__name__
    assert "type" in await tampered(handshake_again)


async def test_a_server_without_the_key_is_refused_before_anything_it_sends() -> None:
    """A fake origin (whoever answers at its address) cannot feed an edge: it cannot answer the
    client's nonce, whether it replays an ACCEPT recorded on another connection, makes one up,
    or skips it. The same server holding the key is believed (so the others fail for that)."""
    modes = ["genuine", "replayed", "made up", "skipped"]
    server_nonce = bytes(feed.CHALLENGE_BYTES)  # a fake may choose it: the client's nonce counts
    handled: list[asyncio.Task[None]] = []

    async def fake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = modes.pop(0)
        handled.append(asyncio.current_task())  # type: ignore[arg-type]
        writer.write(feed.pack(feed.CHALLENGE, server_nonce))
        _, request = await feed.read_message(reader, feed.MAX_REQUEST)
        nonce, proof = request[:feed.CHALLENGE_BYTES], request[feed.CHALLENGE_BYTES:][:32]
        if mode == "replayed":  # what the real origin answered another connection
            nonce, proof = bytes(range(16)), bytes(32)
        accept = {"genuine": feed.handshake_mac(KEY, b"accept", server_nonce, nonce, proof),
                  "replayed": feed.handshake_mac(KEY, b"accept", server_nonce, nonce, proof),
                  "made up": bytes(range(32))}.get(mode)
        if accept is not None:
            writer.write(feed.pack(feed.ACCEPT, accept))
        to_server, to_client = feed.direction_keys(KEY, server_nonce, nonce)
        writer.write(b"".join(feed.Channel(reader, writer, to_client, to_server).seal(
            feed.REPLY, b'{"status":200}')))
        await reader.read()  # until the client closes
        writer.close()

    server = await asyncio.start_server(fake, "127.0.0.1", 0)
    address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        assert await feed.call(address, KEY, {"op": "stats"}) == {"status": 200}
        for expected in ("prove", "prove", "type"):
            with pytest.raises(FeedError, match=expected):
                await feed.call(address, KEY, {"op": "stats"})
        await asyncio.wait_for(asyncio.gather(*handled), 5)  # each connection closed
    finally:
        server.close()
        await server.wait_closed()


def test_codecs_keep_what_viewers_negotiate_against() -> None:
    codecs = {"video": RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102,
                                             parameters={"packetization-mode": "1",
                                                         "profile-level-id": "42e01f"}),
              "audio": RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2,
                                             payloadType=111)}
    assert feed.codecs_from_json(feed.codecs_to_json(codecs)) == codecs
    for bad in ([], {"video": {"clockRate": 1}}, {"video": {"mimeType": "x", "clockRate": "fast"}}):
        with pytest.raises(FeedError):
            feed.codecs_from_json(bad)


async def test_the_handshake_admits_the_secret_only() -> None:
    requests: list[dict[str, object]] = []
    errors: list[Exception] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request, channel = await feed.accept_request(reader, writer, KEY)
            requests.append(request)
            channel.send_json(feed.REPLY, {"status": 200})
        except FeedError as exc:
            errors.append(exc)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    address = f"127.0.0.1:{port}"
    try:
        assert await feed.call(address, KEY, {"op": "stats", "session": "s"}) == {"status": 200}
        assert requests == [{"op": "stats", "session": "s"}]
        with pytest.raises(asyncio.IncompleteReadError):
            await feed.call(address, feed.feed_key("another-secret-0123456789"), {"op": "stats"})
        assert "bad MAC" in str(errors[-1])
        # A request recorded on one connection is worthless on the next: a new challenge.
        body = b'{"op":"stats"}'
        recorded = b""
        for attempt in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            _, challenge = await feed.read_message(reader)
            if not recorded:
                nonce = bytes(feed.CHALLENGE_BYTES)
                recorded = feed.pack(feed.REQUEST, nonce + feed.handshake_mac(
                    KEY, b"request", challenge, nonce, body) + body)
            writer.write(recorded)
            answer = await reader.read()
            writer.close()
            assert (answer != b"") == (attempt == 0)
        assert len(errors) == 2 and requests[-1] == {"op": "stats"}
    finally:
        server.close()
        await server.wait_closed()
