"""The interpreter's booth in Debian's Chromium (fake microphone), all media on 127.0.0.1: the floor
is an aiortc studio (a test pattern and a tone). The page hears the floor before anything else;
goes on air only when asked, with Opus set for speech and the browser's voice processing off; the
cough button mutes the outgoing voice while held (pointer, key on the button, the C shortcut); a
second page with the same link takes over (the first learns it from the channel's readout alone)
and the first says so and stops sending; the first takes the air back (the second learns it from
its connection's end); the second relays another booth (and says when that booth is empty); the
first's connection ended by the server without a partner, it goes back on air by itself; it
leaves the air. No console error, no HTTP
error on any page."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Response, expect

from live.config import Settings
from live.domain import Role
from live.media.client import Peer, TestPatternTrack, ToneTrack, publish
from live.media.relay import Relay
from live.web.auth import Signer
from tests.conftest import RunningServer, ServerThread, free_port
from tests.e2e.chromium import MEDIA_ARGS, REQUIRES_CHROMIUM, launched
from tests.waiting import holds_for, wait_for

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"  # streamed; languages fr (the floor), en, es
CHANNEL = f"{SESSION}@en"
SECRET = "interpreter-test-secret-0123456789"

# Keeps the page's peer connections where the test can read them.
KEEP_CONNECTIONS = """
window.__pcs = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Native(...args);
  window.__pcs.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = Native.prototype;
// While window.__deaf is set, the page's connection-state listeners hear nothing: as when the
// relay's DTLS close alert is lost on the way, so only the channel's readout can tell.
window.__deaf = false;
for (const Target of [RTCPeerConnection, RTCDtlsTransport]) {
  const add = Target.prototype.addEventListener;
  Target.prototype.addEventListener = function (type, listener, ...rest) {
    if (type !== "connectionstatechange" && type !== "statechange") {
      return add.call(this, type, listener, ...rest);
    }
    return add.call(this, type, (ev) => { if (!window.__deaf) listener.call(this, ev); }, ...rest);
  };
}
"""

# The page's publishing connection (its one transceiver sends): state, the microphone track, what
# the sender's statistics say (packets, the source's audio energy, the negotiated Opus fmtp).
OUTBOUND = """async () => {
  const pcs = window.__pcs.filter((p) => p.getTransceivers().some((t) => t.direction === "sendonly"));
  const pc = pcs.filter((p) => p.connectionState !== "closed").pop();
  if (!pc) return {open: 0, total: pcs.length};
  const sender = pc.getSenders()[0];
  const track = sender.track;
  const out = {open: pcs.filter((p) => p.connectionState !== "closed").length, total: pcs.length,
               state: pc.connectionState, enabled: track ? track.enabled : null,
               settings: track ? track.getSettings() : null, packets: 0, bytes: 0, energy: 0, fmtp: ""};
  const report = await sender.getStats();
  report.forEach((s) => {
    if (s.type === "outbound-rtp") {
      out.packets = s.packetsSent;
      out.bytes = s.bytesSent;
      const codec = report.get(s.codecId);
      out.fmtp = codec ? codec.sdpFmtpLine || "" : "";
    }
    if (s.type === "media-source") out.energy = s.totalAudioEnergy || 0;
  });
  return out;
}"""

# The floor: audio packets received on the page's listening connection.
INBOUND = """async () => {
  const pc = window.__pcs.filter((p) => p.connectionState === "connected"
    && p.getTransceivers().every((t) => t.direction === "recvonly")).pop();
  if (!pc) return 0;
  let packets = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") packets += s.packetsReceived;
  });
  return packets;
}"""


# The transceiver kinds of the page's live listening connection (receiving only).
LISTENING_KINDS = """() => {
  const pc = window.__pcs.filter((p) => p.connectionState === "connected"
    && p.getTransceivers().every((t) => t.direction === "recvonly")).pop();
  return pc ? pc.getTransceivers().map((t) => t.receiver.track.kind) : null;
}"""

VIDEO_FRAMES = """() => {
  const v = document.querySelector("[data-testid=interp-video]");
  return v.getVideoPlaybackQuality().totalVideoFrames;
}"""


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


def channel_publisher(server: RunningServer) -> str | None:
    """The digest the channel's readout names (None: off air)."""
    broadcast = relay(server).broadcasts.get(CHANNEL)
    if broadcast is None or not broadcast.live or broadcast.source is None:
        return None
    return broadcast.source.publisher


class Booths:
    """The interpreter pages, and what went wrong in any of them."""

    def __init__(self, browser: Browser, server: RunningServer) -> None:
        self.browser, self.server = browser, server
        self.problems: list[str] = []

    async def open(self, name: str) -> Page:
        context = await self.browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        await context.add_init_script(KEEP_CONNECTIONS)
        page = await context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                self.problems.append(f"{name} console: {msg.text}")

        def on_response(response: Response) -> None:
            if response.status >= 400:
                self.problems.append(f"{name} HTTP {response.status}: {response.request.method} "
                                     f"{response.url.split('?')[0]}")

        page.on("console", on_console)
        page.on("response", on_response)
        page.on("pageerror", lambda exc: self.problems.append(f"{name} page error: {exc}"))
        await page.goto(self.server.link("interpreter en", SESSION))
        return page


async def outbound(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(OUTBOUND)
    return result


async def growing(page: Page, script: str, key: str | None, what: str) -> None:
    """A counter of the page's statistics goes up."""
    async def value() -> float:
        found = await page.evaluate(script)
        return float(found[key] if key else found)

    start = await value()
    await wait_for(lambda: _above(value, start), 5, f"{what} growing from {start}")


async def _above(value: Any, start: float) -> bool:
    return bool(await value() > start)


async def _equals(page: Page, script: str, expected: object) -> bool:
    return bool(await page.evaluate(script) == expected)


async def test_the_booth_goes_on_air_coughs_hands_over_and_relays(
        server: RunningServer, browser: Browser) -> None:
    signer = Signer(SECRET)
    expires = int(time.time()) + 3600
    studio = await publish(f"{server.base_url}/sessions/{SESSION}/whip",
                           signer.issue(Role.STUDIO, SESSION, expires),
                           [TestPatternTrack(320, 240, fps=15), ToneTrack()])
    spanish: Peer | None = None
    booths = Booths(browser, server)
    try:
        first = await booths.open("first")
        light = first.get_by_test_id("interp-light")
        air = first.get_by_test_id("interp-air")
        await expect(light).to_have_text("Hors antenne")
        await expect(light).to_have_attribute("data-state", "off")
        await expect(light).to_have_attribute("role", "status")
        await expect(air).to_have_text("Prendre l'antenne")
        await expect(first.get_by_test_id("interp-leave")).to_be_disabled()
        # It hears the floor at once (the audio packets grow), and sends nothing by itself.
        await expect(first.get_by_test_id("interp-floor")).to_have_attribute("data-state", "listening",
                                                                             timeout=10_000)
        await growing(first, INBOUND, None, "the floor's audio packets")
        assert (await outbound(first))["total"] == 0 and channel_publisher(server) is None
        assert await first.evaluate(LISTENING_KINDS) == ["audio"]  # no picture unless asked
        await first.get_by_test_id("interp-volume").fill("30")
        assert await first.evaluate(
            "document.querySelector('[data-testid=interp-audio]').volume") == pytest.approx(0.3)
        # The picture when asked: a new connection with a video section, whose frames decode.
        video = first.get_by_test_id("interp-video-toggle")
        await video.click()
        await expect(video).to_have_attribute("aria-pressed", "true")
        await expect(first.get_by_test_id("interp-video")).to_be_visible()
        await wait_for(lambda: _equals(first, LISTENING_KINDS, ["video", "audio"]), 10,
                       "a listening connection with the picture")
        await wait_for(lambda: _above(lambda: first.evaluate(VIDEO_FRAMES), 0), 10,
                       "the floor's frames decoded")
        await video.click()
        await expect(first.get_by_test_id("interp-video")).to_be_hidden()
        await wait_for(lambda: _equals(first, LISTENING_KINDS, ["audio"]), 10,
                       "back to a sound-only connection")

        # On air: the relay has the channel; the light says so once the readout names this page.
        await air.click()
        await wait_for(lambda: channel_publisher(server), 10, "the English channel on air")
        await expect(light).to_have_attribute("data-state", "on_air", timeout=5_000)
        await expect(light).to_have_text("À l'antenne")
        await expect(air).to_be_hidden()
        await expect(first.get_by_test_id("interp-leave")).to_be_enabled()
        sent = await outbound(first)
        settings = sent["settings"]
        assert (settings["echoCancellation"], settings["noiseSuppression"],
                settings["autoGainControl"]) == (False, False, False), settings
        for param in ("maxaveragebitrate=64000", "useinbandfec=1", "usedtx=0", "stereo=0"):
            assert param in sent["fmtp"], sent["fmtp"]
        level = "document.querySelector('[data-testid=interp-level]').value"
        await wait_for(lambda: _above(lambda: first.evaluate(level), 0), 5,
                       "the input meter showing the microphone")
        await growing(first, OUTBOUND, "energy", "the outgoing audio energy")

        # The cough button: held by the keyboard, the track is off and sends no energy.
        cough = first.get_by_test_id("interp-cough")
        await cough.focus()
        await first.keyboard.down(" ")
        await expect(cough).to_have_attribute("aria-pressed", "true")
        muted = await outbound(first)
        assert muted["enabled"] is False, muted
        # The sender's statistics lag a little behind the mute: within a few seconds, a whole
        # second in which the source adds no energy and the packets still sent carry silence (a
        # few bytes each; the fake microphone's beeps make tens).
        seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

        async def silent_second() -> bool:
            before = await outbound(first)
            await first.wait_for_timeout(1000)
            after = await outbound(first)
            seen.append((before, after))
            sent = after["packets"] - before["packets"]
            return bool(after["energy"] == before["energy"] and sent > 20
                        and (after["bytes"] - before["bytes"]) / sent < 5)

        await wait_for(silent_second, 6, lambda: f"a silent second while coughing: {seen}")
        await first.keyboard.up(" ")
        await expect(cough).to_have_attribute("aria-pressed", "false")
        assert (await outbound(first))["enabled"] is True
        await growing(first, OUTBOUND, "energy", "the outgoing audio energy after the cough")
        # Voice processing on (no headset): the microphone opened again with it, on air all along.
        processing = first.get_by_test_id("interp-processing")
        await processing.check()

        async def processed(on: bool) -> bool:
            found = await outbound(first)
            return bool(found["settings"] and found["settings"]["echoCancellation"] is on
                        and found["settings"]["noiseSuppression"] is on and found["state"] == "connected")

        await wait_for(lambda: processed(True), 5, "the microphone with voice processing")
        await processing.uncheck()
        await wait_for(lambda: processed(False), 5, "the microphone without voice processing")
        assert (await outbound(first))["total"] == 1  # the track replaced, not the connection
        await expect(light).to_have_attribute("data-state", "on_air")
        # Held with the pointer, then with the page-wide C shortcut.
        await cough.hover()
        await first.mouse.down()
        await expect(cough).to_have_attribute("aria-pressed", "true")
        assert (await outbound(first))["enabled"] is False
        await first.mouse.up()
        await expect(cough).to_have_attribute("aria-pressed", "false")
        await first.get_by_test_id("session-title").click()  # focus away from the button
        await first.keyboard.down("c")
        await expect(cough).to_have_attribute("aria-pressed", "true")
        assert (await outbound(first))["enabled"] is False
        await first.keyboard.up("c")
        await expect(cough).to_have_attribute("aria-pressed", "false")
        assert (await outbound(first))["enabled"] is True

        # The booth partner opens the same link: the partner is on air; it takes over. The first
        # page does not hear its connection end: the readout tells it (the partner's voice named).
        ours = channel_publisher(server)
        second = await booths.open("second")
        second_light = second.get_by_test_id("interp-light")
        second_air = second.get_by_test_id("interp-air")
        await expect(second_light).to_have_attribute("data-state", "partner", timeout=5_000)
        await expect(second_light).to_have_text("Votre partenaire est à l'antenne")
        await expect(second_air).to_have_text("Prendre le relais")
        await first.evaluate("window.__deaf = true")
        await second_air.click()
        await expect(second_light).to_have_attribute("data-state", "on_air", timeout=10_000)
        partner = channel_publisher(server)
        assert partner not in (None, ours)
        taken_over = "Votre partenaire a pris le relais\u00a0: votre micro est coupé."
        await expect(light).to_have_attribute("data-state", "partner", timeout=5_000)
        await expect(first.get_by_test_id("interp-status")).to_have_text(taken_over)
        await expect(air).to_have_text("Prendre le relais")
        assert (await outbound(first))["open"] == 0  # stopped, not reconnecting
        assert [r.kind for r in relay(server).resources.values()
                if r.session_id == CHANNEL] == ["whip"]
        await holds_for(lambda: channel_publisher(server) == partner, 1.5,
                        "the second page stays on air: the first does not fight back")

        # The first takes the air back; the second sees its connection end (the relay's close)
        # and, the first's voice on the readout, stops without reconnecting.
        await first.evaluate("window.__deaf = false")
        await air.click()
        await expect(light).to_have_attribute("data-state", "on_air", timeout=10_000)
        ours = channel_publisher(server)
        assert ours not in (None, partner)
        await expect(second_light).to_have_attribute("data-state", "partner", timeout=5_000)
        await expect(second.get_by_test_id("interp-status")).to_have_text(taken_over)
        assert (await outbound(second))["open"] == 0
        await holds_for(lambda: channel_publisher(server) == ours, 1.5,
                        "the first page stays on air: the second does not fight back")

        # Relay interpreting on the second page: the Spanish booth, empty, then on air.
        source = second.get_by_test_id("interp-source")
        await source.select_option("es")
        note = second.get_by_test_id("interp-source-note")
        await expect(note).to_have_text(
            "Personne n'est à l'antenne en espagnol\u00a0: vous entendez la salle.", timeout=10_000)
        await expect(note).to_be_visible()
        spanish = await publish(f"{server.base_url}/sessions/{SESSION}@es/whip",
                                signer.issue(Role.INTERPRETER, SESSION, expires, language="es"),
                                [ToneTrack(660)])

        def listening() -> list[str]:
            return [listener.programme_from.session_id if listener.programme_from else "-"
                    for listener in relay(server).listening.listeners.values()]

        await wait_for(lambda: f"{SESSION}@es" in listening(), 10,
                       lambda: f"a listener on the Spanish booth: {listening()}")
        await expect(note).to_be_hidden(timeout=10_000)
        await expect(second.get_by_test_id("interp-floor-status")).to_have_text(
            "Vous entendez le relais en espagnol.")
        await growing(second, INBOUND, None, "the relayed booth's audio packets")

        # The first page's connection ends without a partner taking over (as when the network
        # drops it): the page goes back on air by itself, as a new connection.
        before = channel_publisher(server)
        resource = next(r for r in relay(server).resources.values()
                        if r.session_id == CHANNEL and r.kind == "whip")
        interpreter = signer.issue(Role.INTERPRETER, SESSION, expires, language="en")
        async with httpx.AsyncClient() as client:
            ended = await client.delete(f"{server.base_url}/sessions/{CHANNEL}/whip/{resource.id}",
                                        headers={"authorization": f"Bearer {interpreter}"})
        assert ended.status_code == 200
        await wait_for(lambda: channel_publisher(server) not in (None, before), 15,
                       "the first page back on air with a new connection")
        await expect(light).to_have_attribute("data-state", "on_air", timeout=5_000)
        await expect(second_light).to_have_attribute("data-state", "partner")

        # Leaving the air: the channel is off, both pages say so.
        await first.get_by_test_id("interp-leave").click()
        await wait_for(lambda: channel_publisher(server) is None, 5, "the channel off air")
        await expect(light).to_have_attribute("data-state", "off")
        await expect(light).to_have_text("Hors antenne")
        await expect(first.get_by_test_id("interp-status")).to_have_text("Vous avez quitté l'antenne.")
        await expect(second_light).to_have_attribute("data-state", "off", timeout=5_000)
        await expect(second_air).to_have_text("Prendre l'antenne")
        raw = re.compile(r"\binterpreter\.[a-z_.]+")
        for page in (first, second):
            assert not raw.search(await page.inner_text("body"))
        assert booths.problems == []
    except BaseException as exc:
        if booths.problems:
            exc.add_note("browser problems:\n" + "\n".join(booths.problems))
        raise
    finally:
        if spanish is not None:
            await spanish.close()
        await studio.close()
