"""What the GStreamer fix must not change: a browser's DTLS with the relay.

The relay now offers ECDHE-RSA suites beside aiortc's ECDHE-ECDSA ones (live/media/internals.py).
A suite is usable only with a certificate of its kind, and browsers hold ECDSA ones, so Chromium
must negotiate exactly what it did before: the relay answers `a=setup:active` (Chromium is the DTLS
server), TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, and the same SRTP profile, for WHIP and WHEP.
These are the values Chromium reported before the change (aiortc's own suites). Had the relay taken
the DTLS server role instead (`a=setup:passive`), Chromium would report the client role and
AEAD_AES_256_GCM: this test fails then (checked).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from live.domain import Role
from tests.media.conftest import MediaServer

pytestmark = pytest.mark.browser

# As measured with aiortc's own suites, before the ECDHE-RSA ones were added.
BEFORE = {"answer_setup": ["a=setup:active"], "dtlsRole": "server",
          "dtlsCipher": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "srtpCipher": "SRTP_AES128_CM_HMAC_SHA1_80", "tlsVersion": "FEFD"}

# One WHIP or WHEP session from the page: every candidate in the offer, then Chromium's own view
# of the DTLS transport once connected (RTCTransportStats).
NEGOTIATE = """async ({url, token, publish}) => {
  const pc = new RTCPeerConnection();
  if (publish) {
    const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
    for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: "sendonly"});
  } else {
    pc.addTransceiver("video", {direction: "recvonly"});
    pc.addTransceiver("audio", {direction: "recvonly"});
  }
  await pc.setLocalDescription();
  for (let i = 0; i < 50 && pc.iceGatheringState !== "complete"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let response;
  for (let i = 0; i < 20; i++) {  // a viewer right after the studio connects: 409 until on air
    response = await fetch(url, {method: "POST", body: pc.localDescription.sdp,
      headers: {"content-type": "application/sdp", authorization: `Bearer ${token}`}});
    if (response.status !== 409) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const answer = await response.text();
  if (response.status !== 201) return {status: response.status, answer};
  await pc.setRemoteDescription({type: "answer", sdp: answer});
  for (let i = 0; i < 100 && pc.connectionState !== "connected"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = {status: response.status, state: pc.connectionState,
    answer_setup: [...new Set(answer.split("\\r\\n").filter((l) => l.startsWith("a=setup:")))]};
  (await pc.getStats()).forEach((s) => {
    if (s.type === "transport") {
      Object.assign(result, {dtlsRole: s.dtlsRole, dtlsCipher: s.dtlsCipher,
                             srtpCipher: s.srtpCipher, tlsVersion: s.tlsVersion});
    }
  });
  (window.__peers ||= []).push(pc);  // the studio stays on air for the viewer
  return result;
}"""


async def test_chromium_negotiates_the_same_dtls_as_before(media_server: MediaServer,
                                                          media_browser: Browser) -> None:
    page = await media_browser.new_page()
    await page.goto(f"{media_server.base_url}/healthz")  # an origin to fetch from
    results: dict[str, Any] = {}
    for kind, role, publish in (("whip", Role.STUDIO, True), ("whep", Role.PARTICIPANT, False)):
        url = media_server.whip() if publish else media_server.whep()
        results[kind] = await page.evaluate(NEGOTIATE, {
            "url": url, "token": media_server.token(role), "publish": publish})
    for kind, result in results.items():
        print(f"Chromium {kind}: {result}")
        assert result.get("state") == "connected", (kind, result)
        observed = {key: result.get(key) for key in BEFORE}
        assert observed == BEFORE, kind
