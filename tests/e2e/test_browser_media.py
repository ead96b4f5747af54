"""Live video end to end in Debian's Chromium, all media on 127.0.0.1: a participant waits for the
broadcast, the studio page goes live with the fake camera, the participant's player plays it (WHEP)
while the studio sees a viewer; the studio stops (the broadcast has ended) and comes back: the same
page plays again, without a reload. Then a second source in another codec takes over: the first
studio says so, and the player, whose connection the relay closes, reconnects by itself. No console
error and no CSP violation is allowed on any page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Response, expect

from tests.conftest import SESSION
from tests.e2e import chromium
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import RAW_KEY, REQUIRES_CHROMIUM
from tests.media.conftest import MediaServer
from tests.waiting import wait_for

pytestmark = REQUIRES_CHROMIUM

# Records what the Content-Security-Policy blocked (also a console error, but explicit is better).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""

# A studio whose browser offers H.264 only (the page prefers VP8): a source in another codec.
H264_ONLY = """
const setCodecPreferences = RTCRtpTransceiver.prototype.setCodecPreferences;
RTCRtpTransceiver.prototype.setCodecPreferences = function (codecs) {
  return setCodecPreferences.call(this, codecs.filter((c) => !/^video\\/vp8$/i.test(c.mimeType)));
};
"""

# whip.js's negotiate() with no wait for ICE gathering: every candidate goes by PATCH.
TRICKLE = """async (session) => {
  const { hangUp, negotiate } = await import("/static/js/whip.js");
  const token = document.body.dataset.token;
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", {direction: "recvonly"});
  pc.addTransceiver("audio", {direction: "recvonly"});
  const url = `${location.origin}/sessions/${session}/whep`;
  const { resource } = await negotiate(url, token, pc, {gatherTimeout: 0});
  let frames = 0;
  for (let i = 0; i < 50 && !frames; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0;
    });
  }
  const connected = pc.connectionState === "connected";
  await hangUp(pc, resource, token);
  return {connected, frames};
}"""

STILL_ENDED_MS = 7_000  # the player's stall timeout (3 s) and a readout poll (3–6 s)

PLAYBACK = """() => {
  const v = document.querySelector("[data-testid=player-video]");
  return {width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused,
          muted: v.muted, frames: v.getVideoPlaybackQuality().totalVideoFrames};
}"""


class Pages(chromium.Pages):
    def __init__(self, browser: Browser, server: MediaServer) -> None:
        super().__init__(browser, server)
        self.answers: list[Response] = []  # the relay's WHIP and WHEP answers

    async def open(self, role: str, viewport: dict[str, int], name: str | None = None,
                   init_script: str | None = None) -> Page:
        name = name or role
        page = await self.new_page(name, viewport, CSP_PROBE, *([init_script] if init_script else []))

        def on_response(response: Response) -> None:
            # Each one is also a console error; this says which request it was.
            if response.request.method == "POST" and re.search(r"/wh[ie]p$", response.url):
                self.answers.append(response)
            if response.status >= 400:
                self.problems.append(f"{name} HTTP {response.status}: "
                                     f"{response.request.method} {response.url.split('?')[0]}")

        page.on("response", on_response)
        await page.goto(self.server.link(role, SESSION))
        return page

    async def check_clean(self) -> None:
        # The relay offers loopback candidates only (media_addresses): no packet leaves the machine.
        assert self.answers
        for answer in self.answers:
            if answer.status == 201:
                candidates = re.findall(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) ", await answer.text(),
                                        re.M)
                assert candidates and set(candidates) == {"127.0.0.1"}, candidates
        for role, page in self.pages.items():
            violations = await page.evaluate("window.__cspViolations")
            assert violations == [], f"{role}: CSP violations {violations}"
            text = await page.locator("body").inner_text()
            assert not RAW_KEY.search(text), f"{role}: untranslated key {RAW_KEY.search(text)}"
            assert not re.search(r"\b(?:null|undefined|NaN)\b", text), f"{role}: {text}"
        assert self.problems == []


async def test_studio_goes_live_and_the_participant_watches(media_server: MediaServer,
                                                            media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-media-failure"):
        await run_media_flow(pages)
        await pages.check_clean()


async def test_another_codec_takes_over_and_the_player_reconnects(media_server: MediaServer,
                                                                  media_browser: Browser) -> None:
    pages = Pages(media_browser, media_server)
    async with pages.reported("browser-media-takeover-failure"):
        await run_takeover(pages)
        await pages.check_clean()


async def playing(page: Page) -> dict[str, Any]:
    """The player says live and its picture moves: frames and time advance."""
    status = page.get_by_test_id("player-status")
    await expect(status).to_have_attribute("data-state", "live", timeout=20_000)
    await expect(page.get_by_test_id("player-live")).to_be_visible()
    before = await page.evaluate(PLAYBACK)
    after: dict[str, Any] = {}

    async def moving() -> bool:
        after.update(await page.evaluate(PLAYBACK))
        return (after["width"] > 0 and after["height"] > 0 and not after["paused"]
                and after["time"] > before["time"] and after["frames"] > before["frames"])

    await wait_for(moving, 5, lambda: f"the picture moving: {before} then {after}")
    return after


async def run_media_flow(pages: Pages) -> None:
    # A participant on a phone arrives before the broadcast: the player says it will start.
    participant = await pages.open("participant", {"width": 360, "height": 740})
    status = participant.get_by_test_id("player-status")
    await expect(status).to_have_attribute("data-state", "waiting", timeout=10_000)
    await expect(status).to_contain_text("pas encore commencé")
    await expect(participant.get_by_test_id("player-unmute")).to_be_hidden()
    await assert_accessible(participant, "waiting for the broadcast")
    await participant.evaluate("window.__sameDocument = true")

    # The studio: the encoder settings, then live from the (fake) camera.
    studio = await pages.open("studio", {"width": 1280, "height": 900})
    whip_url = studio.get_by_test_id("studio-whip-url")
    await expect(whip_url).to_have_value(f"{pages.server.base_url}/sessions/{SESSION}/whip")
    token = studio.get_by_test_id("studio-whip-token")
    await expect(token).to_have_attribute("type", "password")
    await studio.get_by_test_id("studio-reveal").click()
    await expect(token).to_have_attribute("type", "text")
    await expect(studio.get_by_test_id("studio-reveal")).to_have_attribute("aria-pressed", "true")
    onair = studio.get_by_test_id("studio-onair")
    await expect(onair).to_have_attribute("data-state", "off")
    await studio.get_by_test_id("studio-go-live").click()
    await expect(onair).to_have_attribute("data-state", "live", timeout=10_000)
    await expect(studio.get_by_test_id("studio-stop")).to_be_enabled()
    await expect(studio.get_by_test_id("studio-camera")).to_be_enabled()  # devices listed

    # The participant's player starts by itself, muted, with a button for the sound.
    first = await playing(participant)
    assert first["muted"], first
    unmute = participant.get_by_test_id("player-unmute")
    await expect(unmute).to_be_visible()
    await unmute.click()
    await expect(unmute).to_be_hidden()
    assert (await participant.evaluate(PLAYBACK))["muted"] is False
    await participant.get_by_test_id("player-quality").click()
    stats = participant.get_by_test_id("player-stats")
    await expect(stats).to_be_visible()
    await expect(participant.get_by_test_id("player-quality")).to_have_attribute(
        "aria-expanded", "true")
    await expect(stats.locator("[data-stat=resolution]")).to_have_text(
        f"{first['width']} × {first['height']}", timeout=5_000)
    await expect(stats.locator("[data-stat=kbps]")).to_contain_text("kbit/s")
    await expect(stats.locator("[data-stat=latency]")).to_contain_text("ms")

    # The studio sees what it sends, what the server receives, and its viewer.
    resolution = re.compile(r"^\d+ × \d+$")
    await expect(studio.get_by_test_id("studio-sent-resolution")).to_have_text(resolution,
                                                                             timeout=5_000)
    await expect(studio.get_by_test_id("studio-sent-kbps")).to_contain_text("kbit/s")
    await expect(studio.get_by_test_id("studio-server-resolution")).to_have_text(resolution,
                                                                               timeout=6_000)
    await expect(studio.get_by_test_id("studio-server-state")).to_contain_text("À l'antenne")
    await expect(studio.get_by_test_id("studio-viewers")).to_have_text(re.compile(r"^[1-9]\d*$"),
                                                                       timeout=6_000)
    await assert_accessible(studio, "live, token shown, readouts filled")
    await assert_accessible(participant, "playing with sound, quality readout open")

    # The studio stops: the participant is told the broadcast has ended (not that the signal is
    # lost), with no frozen frame, and no replay offered while none exists.
    await studio.get_by_test_id("studio-stop").click()
    await expect(onair).to_have_attribute("data-state", "off")
    await expect(status).to_have_attribute("data-state", "ended", timeout=3_000)
    await expect(status).to_have_text("La diffusion est terminée.")
    await expect(participant.get_by_test_id("player-live")).to_be_hidden()
    await expect(participant.get_by_test_id("player-unmute")).to_be_hidden()
    await expect(participant.get_by_test_id("player-replay")).to_be_hidden()
    assert await participant.evaluate(
        "document.querySelector('[data-testid=player-video]').srcObject === null")
    await expect(studio.get_by_test_id("studio-status")).to_contain_text(
        "La diffusion est terminée")
    await assert_accessible(participant, "the broadcast has ended")
    await assert_accessible(studio, "stopped")
    # It stays so: past the stall timeout and a readout poll, still not "signal lost".
    await participant.wait_for_timeout(STILL_ENDED_MS)
    await expect(status).to_have_attribute("data-state", "ended")
    await expect(studio.get_by_test_id("studio-server-state")).to_have_text("Rien à l'antenne",
                                                                          timeout=6_000)

    # Back on air: the same page plays again, with no reload.
    await studio.get_by_test_id("studio-go-live").click()
    await expect(onair).to_have_attribute("data-state", "live", timeout=10_000)
    await playing(participant)
    assert await participant.evaluate("window.__sameDocument === true")


async def run_takeover(pages: Pages) -> None:
    participant = await pages.open("participant", {"width": 360, "height": 740})
    vp8 = await pages.open("studio", {"width": 1280, "height": 900})
    await vp8.get_by_test_id("studio-go-live").click()
    await expect(vp8.get_by_test_id("studio-server-video")).to_contain_text("VP8", timeout=10_000)
    await playing(participant)
    await participant.evaluate("window.__firstStream = document.querySelector('video').srcObject")

    h264 = await pages.open("studio", {"width": 1280, "height": 900}, name="studio-h264",
                            init_script=H264_ONLY)
    if not await h264.evaluate(
            "RTCRtpSender.getCapabilities('video').codecs.some(c => /h264/i.test(c.mimeType))"):
        pytest.skip("this Chromium cannot encode H.264")
    await h264.get_by_test_id("studio-go-live").click()
    await expect(h264.get_by_test_id("studio-onair")).to_have_attribute("data-state", "live",
                                                                        timeout=10_000)
    await expect(h264.get_by_test_id("studio-server-video")).to_contain_text("H264", timeout=6_000)
    # The first studio is told, and does not fight back.
    await expect(vp8.get_by_test_id("studio-onair")).to_have_attribute("data-state", "off",
                                                                       timeout=10_000)
    await expect(vp8.get_by_test_id("studio-status")).to_contain_text("Une autre source")
    await expect(vp8.get_by_test_id("studio-go-live")).to_be_enabled()
    # The relay closed the player's VP8 connection: it made a new one, in the same page.
    await playing(participant)
    assert await participant.evaluate(
        "document.querySelector('video').srcObject !== window.__firstStream")
    await expect(h264.get_by_test_id("studio-viewers")).to_have_text("1", timeout=6_000)

    # Trickle ICE: an offer sent before gathering ends, its candidates PATCHed after (204s).
    patches: list[int] = []
    participant.on("response", lambda r: r.request.method == "PATCH" and patches.append(r.status))
    trickled = await participant.evaluate(TRICKLE, SESSION)
    assert trickled["connected"] and trickled["frames"] > 0, trickled
    assert patches and set(patches) == {204}, patches
