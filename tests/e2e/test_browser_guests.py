"""Remote guests in Debian's Chromium with fake devices: the studio makes a guest link, the guest
checks their devices and waits backstage, the studio sees them and brings them on air, and the
participant's picture becomes the composition made in the studio's browser; the guest hears the
return feed (the room without themself); a guest whose connection drops comes back by itself; a
guest link of another session, or an expired one, is refused."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

from playwright.async_api import Browser, Page, Response, expect

from tests.conftest import SESSION, token_of
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_media import CSP_PROBE, Pages, playing
from tests.media.conftest import MediaServer
from tests.waiting import wait_for
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

OTHER_SESSION = "pleniere-aict"  # streamed too
# The composition's background (static/js/composer.js) shows above and below two side-by-side
# tiles: a participant sees it at the top of the picture once a guest is on air.
PROGRAMME_TOP = """
(() => {
  const video = document.querySelector('[data-testid=player-video]');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(video, 0, 0);
  const [r, g, b] = ctx.getImageData(Math.floor(canvas.width / 2), 4, 1, 1).data;
  return {r, g, b, width: canvas.width, height: canvas.height};
})()
"""
# The loudest the return feed's audio gets over a second and a half (the fake microphone beeps).
RETURN_LEVEL = """
new Promise((resolve) => {
  const stream = document.getElementById('guest-return').srcObject;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  ctx.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let peak = 0;
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    for (const v of samples) peak = Math.max(peak, Math.abs(v));
  }, 20);
  setTimeout(() => { clearInterval(timer); ctx.close(); resolve(peak); }, 1500);
})
"""


def dark(pixel: dict[str, Any]) -> bool:
    return max(pixel["r"], pixel["g"], pixel["b"]) < 40


async def open_guest(pages: Pages, link: str, name: str = "guest") -> Page:
    page = await pages.new_page(name, {"width": 1024, "height": 800}, CSP_PROBE)

    def on_response(response: Response) -> None:
        if response.request.method == "POST" and re.search(r"/wh[ie]p$", response.url):
            pages.answers.append(response)  # check_clean looks at their candidates
        if response.status >= 400:
            pages.problems.append(f"{name} HTTP {response.status}: {response.request.method} "
                                  f"{response.url.split('?')[0]}")

    page.on("response", on_response)
    await page.goto(link)
    return page


async def test_a_guest_waits_goes_on_air_hears_the_room_drops_and_comes_back(
        media_server: MediaServer, media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-guests-failure"):
        studio = await pages.open("studio", {"width": 1280, "height": 1000})
        await studio.get_by_test_id("studio-go-live").click()
        participant = await pages.open("participant", {"width": 800, "height": 900})
        await playing(participant)
        assert not dark(await participant.evaluate(PROGRAMME_TOP))  # the room's camera alone

        # The studio makes the guest's link.
        await studio.get_by_test_id("guest-name-input").fill("Anna Schmidt")
        await studio.get_by_test_id("guest-create").click()
        link_field = studio.get_by_test_id("guest-link")
        await expect(link_field).not_to_have_value("", timeout=5_000)
        link = await link_field.input_value()
        assert link.startswith(f"{media_server.base_url}/guest/{SESSION}?t=")

        # The guest checks their devices, then waits backstage, seeing the programme.
        guest = await open_guest(pages, link)
        stage = guest.get_by_test_id("guest-stage")
        await expect(stage).to_have_attribute("data-stage", "check")
        await guest.get_by_test_id("guest-devices").click()
        await expect(guest.get_by_test_id("guest-ready")).to_be_enabled(timeout=10_000)
        await assert_accessible(guest, "guest device check")
        await guest.get_by_test_id("guest-ready").click()
        await expect(stage).to_have_attribute("data-stage", "waiting", timeout=10_000)
        await expect(stage).to_have_text("En coulisses : le studio vous fera passer à l'antenne.")
        await expect(guest.get_by_test_id("guest-hearing")).to_have_attribute(
            "data-hearing", "programme")
        await guest.wait_for_function(
            "() => document.getElementById('guest-programme').videoWidth > 0", timeout=15_000)

        # The studio sees the guest, with their picture and its quality.
        card = studio.get_by_test_id("guest-card")
        await expect(card).to_have_attribute("data-status", "waiting", timeout=10_000)
        await expect(card.get_by_test_id("guest-name")).to_have_text("Anna Schmidt")
        await expect(card).to_have_attribute("data-feed", "live", timeout=15_000)
        await studio.wait_for_function(
            "() => document.querySelector('[data-testid=guest-preview]').videoWidth > 0", timeout=10_000)
        await expect(card.get_by_test_id("guest-quality")).to_contain_text("kbit/s", timeout=10_000)
        await expect(studio.get_by_test_id("guest-return")).to_have_attribute(
            "data-state", "live", timeout=15_000)
        await assert_accessible(studio, "studio with a guest backstage")

        # On air: the participant sees the composition; the guest hears the room, not themself.
        await card.get_by_test_id("guest-on-air").click()
        await expect(stage).to_have_attribute("data-stage", "on_air", timeout=10_000)
        await expect(card).to_have_attribute("data-status", "on_air")

        async def composed() -> bool:
            return dark(await participant.evaluate(PROGRAMME_TOP))

        await wait_for(composed, 10, "the participant's picture to be the composition")
        await expect(guest.get_by_test_id("guest-hearing")).to_have_attribute(
            "data-hearing", "return", timeout=10_000)
        assert await guest.evaluate("document.getElementById('guest-programme').muted")
        peak = await guest.evaluate(RETURN_LEVEL)
        assert peak > 0.01, f"the return feed is silent (peak {peak})"
        await assert_accessible(guest, "guest on air")

        # The guest's connection drops (the server ends it): their page connects again, and the
        # studio's preview comes back, without anyone doing anything.
        whips = [a for a in pages.answers if a.status == 201 and "/guests/" in a.url
                 and a.url.endswith("/whip")]
        assert len(whips) == 1, [a.url for a in pages.answers]
        location = await whips[0].header_value("location")
        token = link.split("?t=")[1]
        status = await guest.evaluate(
            "([where, token]) => fetch(where, {method: 'DELETE', headers: "
            "{Authorization: 'Bearer ' + decodeURIComponent(token)}}).then((r) => r.status)",
            [location, token])
        assert status == 200
        sending = guest.get_by_test_id("guest-sending")
        await expect(sending).not_to_have_attribute("data-state", "live", timeout=10_000)
        await expect(sending).to_have_attribute("data-state", "live", timeout=20_000)
        await expect(card).to_have_attribute("data-feed", "live", timeout=15_000)
        await expect(stage).to_have_attribute("data-stage", "on_air")

        # The moderators' message and countdown reach a remote speaker too, acknowledged there.
        moderator = await Client(media_server.base_url.replace("http://", "ws://"), SESSION,
                                 token_of(media_server.link("moderator", SESSION))).connect()
        try:
            await moderator.ok("SendStageMessage", text="Une minute, puis questions")
            await moderator.ok("SetStageTimer", seconds=60)
            await expect(guest.get_by_test_id("stage-message")).to_have_text(
                "Une minute, puis questions")
            await expect(guest.get_by_test_id("stage-timer")).to_be_visible()
            await guest.get_by_test_id("stage-message-seen").click()
            await moderator.wait_for(lambda: (moderator.view.get("speaker") or {}).get(
                "message", {}).get("acknowledged_at"))
        finally:
            await moderator.close()

        # Off air: back backstage, hearing the programme; the participant sees the room again.
        await card.get_by_test_id("guest-off-air").click()
        await expect(stage).to_have_attribute("data-stage", "off_air", timeout=10_000)
        await expect(guest.get_by_test_id("guest-hearing")).to_have_attribute(
            "data-hearing", "programme")

        async def room_again() -> bool:
            return not dark(await participant.evaluate(PROGRAMME_TOP))

        await wait_for(room_again, 10, "the participant's picture to be the room's camera again")
        await pages.check_clean()


async def test_a_clean_feed_shows_the_guest_alone(media_server: MediaServer,
                                                  media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-guests-clean-failure"):
        guest_link = media_server.guest_link(SESSION, "Kofi Mensah")
        guest = await open_guest(pages, guest_link)
        await guest.get_by_test_id("guest-devices").click()
        await guest.get_by_test_id("guest-ready").click()
        await expect(guest.get_by_test_id("guest-sending")).to_have_attribute(
            "data-state", "live", timeout=15_000)
        grant = media_server.signer.verify(unquote(guest_link.split("?t=")[1]), time.time())
        studio_token = media_server.link("studio", SESSION).split("?t=")[1]
        clean = await pages.new_page("clean", {"width": 1280, "height": 720}, CSP_PROBE)
        await clean.goto(f"{media_server.base_url}/guest/{SESSION}/{grant.guest}/clean"
                         f"?t={studio_token}")
        await clean.wait_for_function(
            "() => document.getElementById('clean-video').videoWidth > 0", timeout=15_000)
        assert not await clean.evaluate("document.getElementById('clean-video').muted")
        await assert_accessible(clean, "clean feed")
        await pages.check_clean()


async def test_a_guest_link_of_another_session_or_expired_is_refused(
        media_server: MediaServer, media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-guests-refused-failure"):
        other = media_server.guest_link(OTHER_SESSION, "Lena Berg")
        wrong = other.replace(f"/guest/{OTHER_SESSION}?", f"/guest/{SESSION}?")
        page = await open_guest(pages, wrong, "wrong-session")
        await expect(page.locator("h1")).to_be_visible()
        await expect(page.get_by_test_id("guest-stage")).to_have_count(0)
        expired = media_server.guest_link(SESSION, "Lena Berg", expires=int(time.time()) - 60)
        page = await open_guest(pages, expired, "expired")
        await expect(page.get_by_test_id("guest-stage")).to_have_count(0)
        # The refusals, and nothing else: each page's own status, and its console error for it.
        assert sorted(p.split(":")[0] for p in pages.problems) == [
            "expired HTTP 401", "expired console", "wrong-session HTTP 403",
            "wrong-session console"], pages.problems
