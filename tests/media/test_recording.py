"""Recording through the real server on loopback (live/media/recording.py): real aiortc studios
publish, the relay writes what it forwards, and the files are opened (and, here only, decoded)
with PyAV to check what they hold."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx2 as httpx
import pytest
from aiortc.mediastreams import AudioStreamTrack

from live.domain import Role
from live.media import mux, recording
from live.media.client import Peer, TestPatternTrack, ToneTrack, publish, watch
from tests.media.conftest import SESSION, MediaServer, frames, serving
from tests.media.test_channels import channel, interpreter_token
from tests.waiting import wait_for

FPS = 30
AUDIO_PER_SECOND = 50  # 20 ms Opus frames
# What a file may lack of what the studio sent: the frames before its connection became the
# broadcast's source and before the keyframe the recorder asks for then (a PLI's round trip on
# loopback, well under 0.5 s), and those in flight when it left. One second of each is generous
# and still fails a recorder that loses a stream or a good share of it.
MISSING_VIDEO, MISSING_AUDIO = FPS, AUDIO_PER_SECOND


class Counted(TestPatternTrack):
    """The studio's picture, counting the frames it hands its encoder (one packet each)."""

    def __init__(self) -> None:
        super().__init__(320, 240, fps=FPS)
        self.count = 0

    async def recv(self) -> Any:
        frame = await super().recv()
        self.count += 1
        return frame


class CountedAudio(AudioStreamTrack):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> Any:
        frame = await super().recv()
        self.count += 1
        return frame


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MediaServer]:
    monkeypatch.setattr(recording, "GRACE", 0.5)  # the test need not wait for a studio's return
    monkeypatch.setattr(recording, "CHECK_INTERVAL", 0.2)
    with serving(recordings=tmp_path) as server:
        yield server


def files(server: MediaServer, suffix: str = "") -> list[Path]:
    directory = server.relay.settings.recordings
    assert directory is not None
    return sorted(p for p in Path(directory).iterdir() if p.name.endswith(suffix))


def finished(server: MediaServer) -> list[Path]:
    return [p for p in files(server) if not p.name.endswith(".part")]


def packets(path: Path) -> dict[int, int]:
    """Packets per stream index (the demuxer's empty flush packets left out)."""
    counts: dict[int, int] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size:
                counts[packet.stream.index] = counts.get(packet.stream.index, 0) + 1
    return counts


async def readout(server: MediaServer) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{server.base_url}/sessions/{SESSION}/broadcast", headers={
            "authorization": f"Bearer {server.token(Role.STUDIO)}"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_a_session_on_air_is_recorded_as_sent_without_reencoding(
        recorded: MediaServer) -> None:
    video, audio = Counted(), CountedAudio()
    studio = await publish(recorded.whip(), recorded.token(Role.STUDIO), [video, audio])
    await wait_for(lambda: files(recorded, ".webm.part"), 10, "a recording started")
    await asyncio.sleep(3)
    await studio.close()
    sent_video, sent_audio = video.count, audio.count
    (path,) = await wait_for(lambda: finished(recorded), 10, "the file finished")
    assert path.name.startswith(f"{SESSION}_") and path.suffix == ".webm"

    with av.open(str(path)) as container:
        kinds = [(s.type, s.codec_context.name) for s in container.streams]
        assert kinds == [("video", "vp8"), ("audio", "opus")]
        assert container.duration is not None
        duration = container.duration / av.time_base
    counts = packets(path)
    assert sent_video - MISSING_VIDEO <= counts[0] <= sent_video, (counts, sent_video)
    assert sent_audio - MISSING_AUDIO <= counts[1] <= sent_audio, (counts, sent_audio)
    # The file lasts as long as what it holds (± a second: what it lacks, see above).
    assert abs(duration - counts[0] / FPS) < 1.0, (duration, counts)
    assert 2.0 < duration < sent_video / FPS + 0.5

    # It plays: every picture and every audio packet decodes (decoding in the test only).
    with av.open(str(path)) as container:
        pictures = sum(1 for _ in container.decode(video=0))
    with av.open(str(path)) as container:
        sounds = sum(1 for _ in container.decode(audio=0))
    assert pictures == counts[0] and sounds == counts[1]
    status = recorded.relay.recorder.figures()  # type: ignore[union-attr]
    assert status["recording_bytes_total"] >= path.stat().st_size // 2
    assert status["recording_dropped_total"] == 0


async def test_an_interpretation_channel_on_air_is_an_extra_audio_track(
        recorded: MediaServer) -> None:
    interpreter = await publish(channel(recorded, "en"), interpreter_token(recorded, "en"),
                                [ToneTrack()])
    await wait_for(lambda: recorded.relay.broadcast(f"{SESSION}@en").live, 10, "the booth on air")
    studio = await publish(recorded.whip(), recorded.token(Role.STUDIO),
                           [TestPatternTrack(160, 120, fps=15), AudioStreamTrack()])
    try:
        await wait_for(lambda: files(recorded, ".part"), 10, "a recording started")
        await asyncio.sleep(2)
    finally:
        await studio.close()
        await interpreter.close()
    (path,) = await wait_for(lambda: finished(recorded), 10, "the file finished")
    with av.open(str(path)) as container:
        audio = [s for s in container.streams if s.type == "audio"]
        assert len(audio) == 2
        assert audio[1].metadata.get("language") == "en"
        floor_index, channel_index = audio[0].index, audio[1].index
    counts = packets(path)
    assert counts[channel_index] > AUDIO_PER_SECOND, counts  # 2 s of the booth, at least 1 s
    assert counts[floor_index] > AUDIO_PER_SECOND, counts


async def test_a_reconnecting_studio_continues_the_file_and_a_codec_change_starts_another(
        recorded: MediaServer) -> None:
    relay = recorded.relay
    first = await publish(recorded.whip(), recorded.token(Role.STUDIO),
                          [TestPatternTrack(320, 240), AudioStreamTrack()], video_codec="video/VP8")
    await wait_for(lambda: files(recorded, ".part"), 10, "a recording started")
    source = relay.broadcast(SESSION).source
    # The page reloaded: a new connection replaces the first, same codec, same file.
    second = await publish(recorded.whip(), recorded.token(Role.STUDIO),
                           [TestPatternTrack(320, 240), AudioStreamTrack()], video_codec="video/VP8")
    await wait_for(lambda: relay.broadcast(SESSION).source not in (None, source), 10, "replaced")
    await asyncio.sleep(1)
    assert len(files(recorded)) == 1 and not finished(recorded)
    # An encoder sending H.264 now: the VP8 file is finished, a Matroska one starts.
    third = await publish(recorded.whip(), recorded.token(Role.STUDIO),
                          [TestPatternTrack(320, 240), AudioStreamTrack()], video_codec="video/H264")
    try:
        await wait_for(lambda: files(recorded, ".mkv.part"), 10, "an H.264 recording")
        await asyncio.sleep(2)
    finally:
        for peer in (first, second, third):
            await peer.close(delete=peer is third)
    done = await wait_for(lambda: len(finished(recorded)) == 2 and finished(recorded), 10,
                          "both files finished")
    (webm,), (mkv,) = ([p for p in done if p.suffix == suffix] for suffix in (".webm", ".mkv"))
    with av.open(str(mkv)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "opus"]
        pictures = sum(1 for _ in container.decode(video=0))
    assert pictures > FPS  # 2 s recorded: at least one
    webm_counts = packets(webm)
    assert webm_counts[0] > FPS  # both connections' frames, one file


async def on_air_with_a_viewer(recorded: MediaServer) -> tuple[Peer, Peer, recording.Recorder]:
    """A small studio on air, recorded, and one participant watching it."""
    studio = await publish(recorded.whip(), recorded.token(Role.STUDIO),
                           [TestPatternTrack(160, 120, fps=15), AudioStreamTrack()])
    await wait_for(lambda: recorded.relay.broadcast(SESSION).live, 10, "the studio on air")
    viewer = await watch(recorded.whep(), recorded.token(Role.PARTICIPANT))
    recorder = recorded.relay.recorder
    assert recorder is not None
    return studio, viewer, recorder


async def test_low_disk_stops_recording_with_an_alarm_and_viewers_carry_on(
        recorded: MediaServer) -> None:
    studio, viewer, recorder = await on_air_with_a_viewer(recorded)
    try:
        await wait_for(lambda: files(recorded, ".part"), 10, "a recording started")
        assert (await readout(recorded))["recording"]["alarm"] is False
        recorder.min_free = 1 << 62  # more than any disk has: the next check finds it short
        await wait_for(lambda: finished(recorded), 5, "the file finished at the alarm")
        state = await readout(recorded)
        assert state["recording"] == {"alarm": True, "file": None, "bytes": 0, "dropped": 0,
                                      "failed": None}

        async def alarm_metric() -> str | None:
            async with httpx.AsyncClient(timeout=5) as http:
                text = (await http.get(f"{recorded.base_url}/metrics")).text
            return next((line for line in text.splitlines()
                         if line.startswith("tribune_recording_alarm{")), None)

        line = await wait_for(alarm_metric, 5, "the alarm in /metrics")
        assert line.endswith(" 1"), line
        before = frames(viewer)
        await asyncio.sleep(1)
        assert frames(viewer) > before + 5  # forwarding goes on
        assert len(files(recorded)) == 1  # and no new file is opened
    finally:
        await viewer.close()
        await studio.close()


async def test_a_stalled_writer_never_stalls_forwarding(
        recorded: MediaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    stuck = threading.Event()
    monkeypatch.setattr(mux, "QUEUE_FRAMES", 20)
    original = mux.FileWriter._mux

    def blocked(self: mux.FileWriter, *args: Any) -> None:
        stuck.wait(30)  # a disk that no longer answers
        original(self, *args)

    monkeypatch.setattr(mux.FileWriter, "_mux", blocked)
    studio, viewer, recorder = await on_air_with_a_viewer(recorded)
    try:
        await wait_for(lambda: recorder.figures()["recording_dropped_total"] > 0, 10,
                       "frames dropped for the stuck writer")
        before, started = frames(viewer), time.monotonic()
        await asyncio.sleep(1.5)
        assert frames(viewer) >= before + 15, (frames(viewer), before, time.monotonic() - started)
        assert (await readout(recorded))["recording"]["dropped"] > 0
    finally:
        stuck.set()
        await viewer.close()
        await studio.close()
    await wait_for(lambda: finished(recorded), 10, "the file finished once the disk answered")
