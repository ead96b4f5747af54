"""A broadcast that starts and ends like one, in Debian's Chromium with the fake camera: a waiting
player gets its first frame within 1.5 s of the studio going on air, told over the page's WebSocket
rather than by its readout poll; and a studio whose connection drops (no WHIP DELETE) leaves the
player saying "signal lost", not "ended" (the deliberate stop is in test_browser_media.py)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Route, expect

from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_media import Pages, playing
from tests.media.conftest import MediaServer

pytestmark = REQUIRES_CHROMIUM

QUICK_START_MS = 1500  # the bound: WHIP 201 → the player's first frame

# Every fetch with its start and end (Date.now(): the pages share the machine's clock), and when
# the player's video had its first frame.
TIMINGS = """
window.__fetches = [];
window.__firstFrameAt = null;
const realFetch = window.fetch;
window.fetch = async function (input, init) {
  const url = new URL(String(input instanceof Request ? input.url : input), location.href);
  const method = (init && init.method) || (input instanceof Request ? input.method : "GET");
  const entry = {start: Date.now(), end: null, method, path: url.pathname, status: null};
  window.__fetches.push(entry);
  const response = await realFetch.call(this, input, init);
  entry.end = Date.now();
  entry.status = response.status;
  return response;
};
document.addEventListener("loadeddata", () => {
  if (window.__firstFrameAt === null) window.__firstFrameAt = Date.now();
}, true);
"""


async def test_a_waiting_player_starts_at_once_when_the_studio_goes_live(
        media_server: MediaServer, media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-broadcast-start-failure"):
        participant = await pages.open("participant", {"width": 360, "height": 740},
                                       init_script=TIMINGS)
        status = participant.get_by_test_id("player-status")
        await expect(status).to_have_attribute("data-state", "waiting", timeout=10_000)
        studio = await pages.open("studio", {"width": 1280, "height": 900}, init_script=TIMINGS)
        # Going live just after a readout poll: the poll alone would take 3 to 6 s more.
        await participant.wait_for_function(
            "window.__fetches.some((f) => f.path.endsWith('/broadcast') && f.end)")
        await studio.get_by_test_id("studio-go-live").click()
        await playing(participant)

        fetches: list[dict[str, Any]] = await participant.evaluate("window.__fetches")
        studio_fetches: list[dict[str, Any]] = await studio.evaluate("window.__fetches")
        live_at = next(f["end"] for f in studio_fetches
                       if f["method"] == "POST" and f["path"].endswith("/whip")
                       and f["status"] == 201)
        first_frame = await participant.evaluate("window.__firstFrameAt")
        whep = [f for f in fetches if f["method"] == "POST" and f["path"].endswith("/whep")]
        assert whep and whep[-1]["status"] == 201, whep
        # Told, not polled: no readout request between going live and asking for the video, and
        # no 409 (it asked once the studio was on air).
        polls = [f for f in fetches if f["path"].endswith("/broadcast")
                 and live_at <= f["start"] <= whep[-1]["start"]]
        assert polls == [], (live_at, polls, whep)
        assert all(f["status"] == 201 for f in whep), whep
        delay = first_frame - live_at
        assert 0 < delay <= QUICK_START_MS, f"first frame {delay} ms after the WHIP 201"
        await pages.check_clean()


async def test_a_studio_that_drops_is_signal_lost_not_the_end(
        media_server: MediaServer, media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-broadcast-drop-failure"):
        participant = await pages.open("participant", {"width": 360, "height": 740})
        studio = await pages.open("studio", {"width": 1280, "height": 900})
        await studio.get_by_test_id("studio-go-live").click()
        await playing(participant)

        # The studio's DELETE never reaches the server: its connection just goes away.
        async def lose_delete(route: Route) -> None:
            if route.request.method == "DELETE":
                await route.abort()
            else:
                await route.continue_()

        await studio.route(re.compile(rf"/sessions/{SESSION}/whip/"), lose_delete)
        await studio.get_by_test_id("studio-stop").click()
        status = participant.get_by_test_id("player-status")
        await expect(status).to_have_attribute("data-state", "stalled", timeout=10_000)
        await expect(status).to_have_text("Signal perdu, en attente du studio…")
        await assert_accessible(participant, "signal lost")
        await participant.wait_for_timeout(7_000)  # a readout poll or two: still no "ended"
        await expect(status).to_have_attribute("data-state", "stalled")
        # The aborted DELETE is a console error of the studio's, made on purpose here.
        pages.problems = [p for p in pages.problems
                          if not (p.startswith("studio console:") and "ERR_FAILED" in p)]
        await pages.check_clean()
