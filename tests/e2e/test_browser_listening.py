"""A participant chooses what to hear, in Debian's Chromium, all media on 127.0.0.1: the studio
(silence) and the English booth (a tone) are aiortc publishers; the page's player switches to
English on its one connection (the interpretation arrives on its first audio track, the floor
under it on the second, played at the chosen level), back to the original, falls back to the
original when the booth empties and says so, then goes audio only (a connection with no video
section: not a video byte) keeping the language; the choice survives a reload."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiortc.mediastreams import AudioStreamTrack
from playwright.async_api import Browser, Page, expect

from live.config import Settings
from live.domain import Role
from live.media.client import Peer, TestPatternTrack, ToneTrack, publish
from live.media.relay import Relay
from live.web.auth import Signer
from tests.conftest import RunningServer, ServerThread, free_port
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import MEDIA_ARGS, REQUIRES_CHROMIUM, launched
from tests.waiting import wait_for

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"  # languages fr, en, es in the demo programme
SECRET = "listening-test-secret-0123456789"

# Keeps the page's peer connections where the test can read their statistics.
KEEP_CONNECTIONS = """
window.__pcs = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Native(...args);
  window.__pcs.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = Native.prototype;
"""

# The live connection's inbound audio, per track in transceiver order: packets and mean size.
INBOUND = """() => (async () => {
  const pc = window.__pcs.filter((p) => p.connectionState === "connected").pop();
  if (!pc) return null;
  const report = await pc.getStats();
  const byMid = {};
  report.forEach((s) => { if (s.type === "inbound-rtp") byMid[s.mid] = s; });
  return pc.getTransceivers().map((t) => {
    const s = byMid[t.mid];
    return {kind: t.receiver.track.kind, packets: s ? s.packetsReceived : 0, bytes: s ? s.bytesReceived : 0};
  });
})()"""


@pytest.fixture
def server() -> Iterator[RunningServer]:
    settings = Settings(port=free_port(), secret=SECRET, media_addresses=("127.0.0.1",))
    with ServerThread(settings) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched(MEDIA_ARGS) as b:
        yield b


def relay(server: RunningServer) -> Relay:
    found: Relay = server.app.state.relay
    return found


def hearing(server: RunningServer) -> list[tuple[str, str | None]]:
    """Each player's (programme source, floor-under source) on the server."""
    return [(listener.programme_from.session_id if listener.programme_from else "-",
             listener.under_from.session_id if listener.under_from else None)
            for listener in relay(server).listening.listeners.values()]


async def sizes(page: Page, before: list[dict[str, Any]] | None) -> list[float]:
    """Mean packet size per audio track since `before` (a tone's packets are several times
    silence's)."""
    now = await page.evaluate(INBOUND)
    audio = [t for t in now if t["kind"] == "audio"]
    if before is None:
        return []
    old = [t for t in before if t["kind"] == "audio"]
    return [(n["bytes"] - o["bytes"]) / max(1, n["packets"] - o["packets"])
            for n, o in zip(audio, old, strict=True)]


async def test_a_participant_switches_language_on_one_connection(
        server: RunningServer, browser: Browser) -> None:
    signer = Signer(SECRET)
    studio = await publish(f"{server.base_url}/sessions/{SESSION}/whip",
                           signer.issue(Role.STUDIO, SESSION, int(time.time()) + 3600),
                           [TestPatternTrack(320, 240, fps=15), AudioStreamTrack()])
    booth: Peer | None = None
    context = await browser.new_context(locale="fr-FR")
    await context.add_init_script(KEEP_CONNECTIONS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(server.link("participant", SESSION))
        await expect(page.get_by_test_id("player")).to_have_attribute("data-state", "live", timeout=15000)
        language = page.get_by_test_id("player-language")
        await expect(language.locator("option")).to_have_text(
            ["Original (Français)", "Anglais (pas d'interprète pour l'instant)",
             "Espagnol (pas d'interprète pour l'instant)"])
        await language.select_option("en")
        await expect(page.get_by_test_id("player-language-note")).to_have_text(
            "Pas d'interprète en anglais pour l'instant\u00a0: vous entendez l'original.")
        assert hearing(server) == [(SESSION, None)]

        booth = await publish(f"{server.base_url}/sessions/{SESSION}@en/whip",
                              signer.issue(Role.INTERPRETER, SESSION, int(time.time()) + 3600,
                                           language="en"), [ToneTrack()])
        await wait_for(lambda: hearing(server) == [(f"{SESSION}@en", SESSION)], 10,
                       lambda: f"English with the floor under it, not {hearing(server)}")
        await expect(page.get_by_test_id("player")).to_have_attribute("data-hearing", "interpretation",
                                                                      timeout=15000)
        await expect(page.get_by_test_id("player-language-note")).to_be_hidden()
        floor = page.get_by_test_id("player-floor")
        await expect(floor).to_be_visible()
        # What the browser receives: the tone on the first audio track, silence under it.
        before = await page.evaluate(INBOUND)
        await page.wait_for_timeout(1000)  # a second of packets to average over
        programme, under = await sizes(page, before)
        assert programme > 3 * under > 0, (programme, under)
        assert await page.evaluate(
            "document.querySelector('[data-testid=player-floor-audio]').volume") == pytest.approx(0.2)

        await floor.fill("0")  # the original off: the server stops sending it
        await wait_for(lambda: hearing(server) == [(f"{SESSION}@en", None)], 5, "no floor under")
        await language.select_option("")
        await wait_for(lambda: hearing(server) == [(SESSION, None)], 5, "the original again")
        await language.select_option("en")
        await wait_for(lambda: hearing(server) == [(f"{SESSION}@en", None)], 5, "English again")
        assert len(await page.evaluate("window.__pcs")) == 1  # never renegotiated

        await booth.close()
        booth = None
        await wait_for(lambda: hearing(server) == [(SESSION, None)], 10, "the floor, the booth empty")
        await expect(page.get_by_test_id("player-language-note")).to_be_visible(timeout=15000)

        await page.get_by_test_id("player-audio-only").click()
        await expect(page.get_by_test_id("player-audio-only")).to_have_attribute("aria-pressed", "true")
        await wait_for(lambda: [sorted(t.kind for t in r.tracks) for r in relay(server).resources.values()
                                if r.kind == "whep"] == [["audio", "audio"]], 15,
                       "one audio-only connection left")
        async def browser_tracks() -> list[str]:
            return [t["kind"] for t in await page.evaluate(INBOUND) or []]
        # The page's live connection has no video section at all: not a video byte can arrive.
        # (Until the old connection is gone from the page, its stats may still be read first.)
        async def audio_only() -> bool:
            return await browser_tracks() == ["audio", "audio"]

        await wait_for(audio_only, 15, "the audio-only connection, alone, up in the page")
        await expect(page.get_by_test_id("player")).to_have_attribute("data-state", "live", timeout=15000)
        assert hearing(server) == [(SESSION, None)]  # still English chosen, the floor while empty
        await assert_accessible(page, "participant listening, audio only")

        await page.reload()
        await expect(page.get_by_test_id("player-language")).to_have_value("en")
        await expect(page.get_by_test_id("player-audio-only")).to_have_attribute("aria-pressed", "true")
        assert errors == []
    finally:
        await context.close()
        if booth is not None:
            await booth.close()
        await studio.close()
