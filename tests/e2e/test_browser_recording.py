"""The studio page shows the recording (live/media/recording.py) in Debian's Chromium, media on
127.0.0.1: the file growing while on air, then the low-disk alarm, in red, when the free space
falls under the threshold (simulated by raising the threshold, not by filling the disk)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from live.media import recording
from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_media import Pages, playing
from tests.media.conftest import MediaServer, serving

pytestmark = REQUIRES_CHROMIUM

READOUT_POLL_MS = 8_000  # the studio page polls the server's readout every 3-6 s


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MediaServer]:
    monkeypatch.setattr(recording, "CHECK_INTERVAL", 0.2)
    with serving(recordings=tmp_path) as server:
        yield server


async def test_the_studio_sees_the_recording_and_its_low_disk_alarm(
        recorded: MediaServer, media_browser: Browser) -> None:
    context = await media_browser.new_context(viewport={"width": 1280, "height": 900},
                                               locale="fr-FR")
    try:
        studio = await context.new_page()
        errors: list[str] = []
        studio.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await studio.goto(recorded.link("studio", SESSION))
        row = studio.get_by_test_id("studio-server-recording")
        await expect(row).to_have_text("–")
        await studio.get_by_test_id("studio-go-live").click()
        await expect(row).to_have_text(re.compile(r"^En cours \([\d,]+\s?Mo\)$"),
                                       timeout=READOUT_POLL_MS + 5_000)
        assert recorded.relay.recorder is not None
        recorded.relay.recorder.min_free = 1 << 62
        await expect(row).to_have_text("Arrêté\u00a0: disque presque plein", timeout=READOUT_POLL_MS)
        await expect(row).to_have_attribute("data-kind", "error")
        await expect(row).to_have_css("color", "rgb(180, 35, 24)")  # --danger
        await studio.get_by_test_id("studio-stop").click()
        assert errors == []
    finally:
        await context.close()


async def test_a_recording_is_offered_after_the_end_and_plays_and_seeks(
        recorded: MediaServer, media_browser: Browser) -> None:
    pages = Pages(media_browser, recorded)
    async with pages.reported("browser-replay-failure"):
        participant = await pages.open("participant", {"width": 800, "height": 900})
        studio = await pages.open("studio", {"width": 1280, "height": 900})
        await studio.get_by_test_id("studio-go-live").click()
        await playing(participant)
        await participant.wait_for_timeout(6_000)  # six seconds on air
        await studio.get_by_test_id("studio-stop").click()
        await expect(participant.get_by_test_id("player-status")).to_have_attribute(
            "data-state", "ended", timeout=10_000)
        # The file is finished at the deliberate end; the player offers it within its next ask.
        link = participant.get_by_test_id("player-replay-link")
        await expect(link).to_be_visible(timeout=15_000)
        await assert_accessible(participant, "ended, with the replay")
        await pages.check_clean()  # before leaving the page: it reads the WHEP answers
        await link.click()
        await expect(participant.get_by_test_id("replay-video")).to_be_visible()
        video = participant.get_by_test_id("replay-video")
        await participant.wait_for_function(
            "() => document.getElementById('replay-video').readyState >= 1", timeout=10_000)
        duration = await video.evaluate("(v) => v.duration")
        assert 4 < duration < 12, duration  # what was on air, give or take the start and end
        # Seekable: Chromium asks for ranges; the player lands where it was told, and plays on.
        await video.evaluate("(v) => { v.muted = true; v.currentTime = 3; return v.play(); }")
        await participant.wait_for_function(
            "() => { const v = document.getElementById('replay-video');"
            " return v.currentTime > 3.3 && !v.paused; }", timeout=10_000)
        assert await video.evaluate("(v) => v.seekable.length > 0 && v.seekable.end(0) > 4")
        await assert_accessible(participant, "replay")
        assert await participant.evaluate("window.__cspViolations") == []
        assert pages.problems == []
