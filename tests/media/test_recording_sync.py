"""A recording's timing (live/media/recording.py), the issue's measures: the file lasts the time on
air within 2 %, and its sound and picture stay together within 100 ms. The studio flashes its
picture and beeps at the same wall-clock instants; decoding the file (in the test only) finds each
flash and each beep, and compares where they landed."""

from __future__ import annotations

import array
import asyncio
import fractions
import math
import time
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from live.domain import Role
from live.media import recording
from live.media.client import publish
from tests.media.conftest import SESSION, serving
from tests.waiting import wait_for

PERIOD, FLASH = 1.0, 0.2  # a flash (and a beep) of 200 ms every second
RATE, SAMPLES, FPS = 48000, 960, 30


def marked(started: float, at: float) -> bool:
    return (at - started) % PERIOD < FLASH


class Flashes(VideoStreamTrack):
    def __init__(self, started: float) -> None:
        super().__init__()
        self.started, self.count = started, 0

    async def recv(self) -> av.VideoFrame:
        due = self.started + self.count / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = av.VideoFrame(160, 120, "yuv420p")
        frame.planes[0].update(bytes([235 if marked(self.started, due) else 16]) * (160 * 120))
        for plane in (frame.planes[1], frame.planes[2]):
            plane.update(bytes([128]) * (80 * 60))
        frame.pts, frame.time_base = self.count * 3000, fractions.Fraction(1, 90000)
        self.count += 1
        return frame


class Beeps(AudioStreamTrack):
    def __init__(self, started: float) -> None:
        super().__init__()
        self.started, self.count = started, 0
        tone = [int(12000 * math.sin(2 * math.pi * 1000 * i / RATE)) for i in range(SAMPLES)]
        self.beep, self.silence = array.array("h", tone).tobytes(), bytes(SAMPLES * 2)

    async def recv(self) -> av.AudioFrame:
        due = self.started + self.count * SAMPLES / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(self.beep if marked(self.started, due) else self.silence)
        frame.sample_rate, frame.pts = RATE, self.count * SAMPLES
        frame.time_base = fractions.Fraction(1, RATE)
        self.count += 1
        return frame


def onsets(times: list[tuple[float, bool]]) -> list[float]:
    """When each marked stretch starts (a frame marked after an unmarked one)."""
    return [t for (t, on), (_, before) in zip(times[1:], times, strict=False) if on and not before]


def luma(frame: av.VideoFrame) -> float:
    plane = bytes(frame.planes[0])
    return sum(plane) / len(plane)


def loudness(frame: av.AudioFrame) -> float:
    """The frame's peak, 0 to 1 (Opus decodes to float samples; s16 scaled)."""
    data = bytes(frame.planes[0])
    if frame.format.name.startswith("flt"):
        return max((abs(x) for x in array.array("f", data)), default=0.0)
    return max((abs(x) for x in array.array("h", data)), default=0) / 32768


def file_onsets(path: Path) -> tuple[list[float], list[float], float]:
    with av.open(str(path)) as container:
        duration = float(container.duration or 0) / av.time_base
        pictures = [(float(f.time), luma(f) > 120) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        sounds: list[tuple[float, bool]] = []
        for f in container.decode(audio=0):
            sounds.append((float(f.time), loudness(f) > 0.1))
    return onsets(pictures), onsets(sounds), duration


async def test_a_recording_lasts_its_time_on_air_with_sound_and_picture_together(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recording, "GRACE", 0.5)
    with serving(recordings=tmp_path) as server:
        started = time.monotonic() + 0.5
        studio = await publish(server.whip(), server.token(Role.STUDIO),
                               [Flashes(started), Beeps(started)])
        await wait_for(lambda: server.relay.broadcast(SESSION).live, 10, "on air")
        # On air with something to send: the tracks start at `started`, the connection may come
        # up before (a studio connected with nothing to send has nothing to record).
        on_air_from = max(time.monotonic(), started)
        await asyncio.sleep(12)  # 2 %: 240 ms, more than the frames in flight when it stops
        await studio.close()
        on_air = time.monotonic() - on_air_from

        def done() -> list[Path]:
            return [p for p in tmp_path.iterdir() if p.suffix == ".webm"]

        (path,) = await wait_for(done, 10, "the file finished")
        flashes, beeps, duration = await asyncio.to_thread(file_onsets, path)

    # The file starts on the first keyframe after the studio is on air (a PLI away on loopback).
    assert abs(duration - on_air) <= 0.02 * on_air, (duration, on_air)
    assert len(flashes) >= 10 and len(beeps) >= 10, (flashes, beeps)
    pairs: list[tuple[float, Any]] = [(f, min(beeps, key=lambda b, f=f: abs(b - f)))
                                      for f in flashes]
    drift = [abs(f - b) for f, b in pairs]
    assert max(drift) < 0.1, pairs  # each flash heard with its beep, within 100 ms
