"""The feed protocol between relay workers, on its own: frames and codecs survive the wire, the
handshake only admits a holder of the secret, and bad input is a FeedError, not a crash."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import struct

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


async def test_a_frame_crosses_the_wire_with_its_kind_flag_and_timestamp() -> None:
    data = bytes(range(256)) * 40
    wire = feed.frame_header("video", True, 2**40 + 3000, len(data)) + data
    kind, payload = await feed.read_message(reader_of(wire))
    assert kind == feed.FRAME
    assert feed.unpack_frame(payload) == ("video", True, 2**40 + 3000, data)
    kind, payload = await feed.read_message(reader_of(feed.frame_header("audio", False, -5, 0)))
    assert feed.unpack_frame(payload) == ("audio", False, -5, b"")


async def test_lengths_over_the_limit_and_unknown_types_are_refused_before_reading_them() -> None:
    with pytest.raises(FeedError, match="limit"):
        await feed.read_message(reader_of(struct.pack("!IB", feed.MAX_MESSAGE + 1, feed.FRAME)))
    with pytest.raises(FeedError, match="type"):
        await feed.read_message(reader_of(struct.pack("!IB", 0, 99)))
    with pytest.raises(FeedError):
        feed.unpack_frame(b"\x07\x00" + bytes(8))  # no such media kind
    with pytest.raises(asyncio.IncompleteReadError):
        await feed.read_message(reader_of(struct.pack("!IB", 10, feed.FRAME) + b"short"))


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
            requests.append(await feed.accept_request(reader, writer, KEY))
            writer.write(feed.pack_json(feed.REPLY, {"status": 200}))
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
                recorded = feed.pack(feed.REQUEST,
                                     hmac.new(KEY, challenge + body, hashlib.sha256).digest() + body)
            writer.write(recorded)
            answer = await reader.read()
            writer.close()
            assert (answer != b"") == (attempt == 0)
        assert len(errors) == 2 and requests[-1] == {"op": "stats"}
    finally:
        server.close()
        await server.wait_closed()
