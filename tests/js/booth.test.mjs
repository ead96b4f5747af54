import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";

import {
  Booth, Hold, LEVEL_FLOOR_DB, METER_FALL_DB_PER_S, SPEECH_OPUS, inputLevel, isCoughShortcut, meterDb, microphoneConstraints,
  opusPayloadTypes,
  publisherDigest, relayHearing, speechPeer, withOpusParams,
} from "../../static/js/booth.js";
import { pageKind } from "../../static/js/linktoken.js";

// --- Opus for speech ---------------------------------------------------------------------------

// Chrome's audio offer, trimmed: Opus (111) with its usual fmtp, a red format naming it, others.
const CHROME_OFFER = [
  "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8", "a=mid:0", "a=sendonly",
  "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc", "a=fmtp:111 minptime=10;useinbandfec=1",
  "a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111",
  "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "",
].join("\r\n");
// aiortc's answer: Opus with no fmtp line at all.
const AIORTC_ANSWER = [
  "v=0", "o=- 3 4 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:0", "a=recvonly", "a=rtpmap:111 opus/48000/2", "",
].join("\r\n");

/** @param {string} sdp @param {string} pt */
const fmtpOf = (sdp, pt) => {
  const line = sdp.split("\r\n").find((l) => l.startsWith(`a=fmtp:${pt} `));
  return line ? Object.fromEntries(line.slice(`a=fmtp:${pt} `.length).split(";").map((p) => p.split("="))) : null;
};

describe("Opus for speech", () => {
  test("finds the Opus payload types only", () => {
    assert.deepEqual(opusPayloadTypes(CHROME_OFFER), ["111"]);
    assert.deepEqual(opusPayloadTypes("a=rtpmap:96 OPUS/48000/2\na=rtpmap:97 opus/48000\n"), ["96", "97"]);
  });

  test("the offer's fmtp gets the speech settings, keeps its other parameters and the other formats", () => {
    const sdp = withOpusParams(CHROME_OFFER);
    assert.deepEqual(fmtpOf(sdp, "111"), {
      minptime: "10", useinbandfec: "1", maxaveragebitrate: "64000", usedtx: "0", stereo: "0",
    });
    assert.ok(sdp.includes("a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=64000;usedtx=0;stereo=0\r\n"));
    assert.ok(sdp.includes("a=rtpmap:111 opus/48000/2\r\n"), "the 48 kHz clock stays");
    assert.equal(fmtpOf(sdp, "63")["111/111"], undefined); // red untouched
    assert.ok(sdp.includes("a=fmtp:63 111/111\r\n"));
    assert.equal(sdp.split("\r\n").length, CHROME_OFFER.split("\r\n").length);
    assert.ok(sdp.endsWith("\r\n"));
  });

  test("an answer without an Opus fmtp line gets one, right after its rtpmap", () => {
    const sdp = withOpusParams(AIORTC_ANSWER);
    const lines = sdp.split("\r\n");
    const at = lines.indexOf("a=rtpmap:111 opus/48000/2");
    assert.equal(lines[at + 1], "a=fmtp:111 maxaveragebitrate=64000;useinbandfec=1;usedtx=0;stereo=0");
    assert.deepEqual(fmtpOf(sdp, "111"), Object.fromEntries(Object.entries(SPEECH_OPUS).map(([k, v]) => [k, String(v)])));
  });

  test("overrides what would narrow it: DTX, stereo, a low playback or capture rate", () => {
    const narrow = CHROME_OFFER.replace("minptime=10;useinbandfec=1",
      "usedtx=1;stereo=1;maxplaybackrate=16000;sprop-maxcapturerate=8000;maxaveragebitrate=20000");
    assert.deepEqual(fmtpOf(withOpusParams(narrow), "111"), {
      usedtx: "0", stereo: "0", maxplaybackrate: "48000", "sprop-maxcapturerate": "48000",
      maxaveragebitrate: "64000", useinbandfec: "1",
    });
  });

  test("leaves an SDP without Opus as it was, and is idempotent", () => {
    const g722 = "m=audio 9 RTP/AVP 9\na=rtpmap:9 G722/8000\n";
    assert.equal(withOpusParams(g722), g722);
    const once = withOpusParams(CHROME_OFFER);
    assert.equal(withOpusParams(once), once);
  });

  test("the peer handed to negotiate() sends the munged offer and applies the munged answer", async () => {
    const applied = [];
    const real = {
      localDescription: { sdp: "local" },
      iceGatheringState: "complete",
      async createOffer() {
        return { type: "offer", sdp: CHROME_OFFER };
      },
      async setLocalDescription(desc) {
        applied.push(["local", desc]);
        this.localDescription = desc;
      },
      async setRemoteDescription(desc) {
        applied.push(["remote", desc]);
      },
      addEventListener() {},
    };
    const pc = speechPeer(real);
    const offer = await pc.createOffer();
    assert.equal(fmtpOf(offer.sdp, "111").maxaveragebitrate, "64000");
    await pc.setLocalDescription(offer);
    assert.equal(pc.localDescription.sdp, offer.sdp); // a getter, read on the real connection
    assert.equal(pc.iceGatheringState, "complete");
    await pc.setRemoteDescription({ type: "answer", sdp: AIORTC_ANSWER });
    assert.deepEqual(applied.map(([where, d]) => [where, d.type, fmtpOf(d.sdp, "111")?.usedtx]),
      [["local", "offer", "0"], ["remote", "answer", "0"]]);
  });
});

// --- recognising one's own voice ---------------------------------------------------------------

describe("the publisher digest", () => {
  test("is the first 16 hex digits of the SHA-256 of the resource id, as the relay computes it", async () => {
    const id = "q3X_9ab-Zz";
    const expected = createHash("sha256").update(id).digest("hex").slice(0, 16);
    assert.equal(await publisherDigest(`http://127.0.0.1:8000/sessions/s%40en/whip/${id}`), expected);
    assert.equal(await publisherDigest(`/sessions/s@en/whip/${id}`), expected);
    assert.equal(await publisherDigest("http://h/sessions/s/whip/abc"), "ba7816bf8f01cfea"); // SHA-256("abc")
  });
});

// --- the microphone ----------------------------------------------------------------------------

describe("the microphone", () => {
  test("voice processing is off unless asked for; mono at 48 kHz; the chosen device exactly", () => {
    assert.deepEqual(microphoneConstraints("", false), {
      echoCancellation: false, noiseSuppression: false, autoGainControl: false,
      channelCount: { ideal: 1 }, sampleRate: { ideal: 48000 },
    });
    const on = microphoneConstraints("mic-2", true);
    assert.deepEqual(on.deviceId, { exact: "mic-2" });
    assert.equal(on.echoCancellation && on.noiseSuppression && on.autoGainControl, true);
  });

  test("the input level: silence is empty, full scale is full, a -20 dBFS tone two thirds", () => {
    assert.deepEqual(inputLevel(new Float32Array(512)), { db: LEVEL_FLOOR_DB, fraction: 0 });
    assert.deepEqual(inputLevel([]), { db: LEVEL_FLOOR_DB, fraction: 0 });
    const full = inputLevel(Float32Array.from({ length: 480 }, (_, i) => (i % 2 ? 1 : -1)));
    assert.deepEqual(full, { db: 0, fraction: 1 });
    const amplitude = 0.1 * Math.SQRT2; // RMS 0.1: -20 dBFS
    const tone = inputLevel(Float32Array.from({ length: 4800 }, (_, i) => amplitude * Math.sin((2 * Math.PI * 440 * i) / 48000)));
    assert.ok(Math.abs(tone.db + 20) < 0.1, String(tone.db));
    assert.ok(Math.abs(tone.fraction - 2 / 3) < 0.01, String(tone.fraction));
    assert.equal(inputLevel([1e-9, -1e-9]).fraction, 0); // below the meter's floor
  });

  test("the meter rises at once and falls back slowly, so a short syllable is seen", () => {
    assert.equal(meterDb(-60, -12, 100), -12);
    assert.equal(meterDb(-12, -60, 100), -12 - METER_FALL_DB_PER_S / 10);
    assert.equal(meterDb(-12, -30, 500), -22);
    assert.equal(meterDb(-12, -60, 10_000), LEVEL_FLOOR_DB);
    assert.equal(meterDb(-20, -10, 50), -10);
  });
});

// --- the cough button --------------------------------------------------------------------------

describe("the cough hold", () => {
  test("mutes at the first press, unmutes at the last release, whichever way it was held", () => {
    const changes = [];
    const hold = new Hold((held) => changes.push(held));
    hold.press("pointer");
    hold.press("shortcut");
    hold.press("pointer"); // a repeat changes nothing
    assert.equal(hold.held, true);
    hold.release("pointer");
    assert.equal(hold.held, true); // the shortcut still holds it
    hold.release("button-key"); // never pressed: nothing
    hold.release("shortcut");
    assert.equal(hold.held, false);
    assert.deepEqual(changes, [true, false]);
  });

  test("the window losing focus releases everything (its key-up will never come)", () => {
    const changes = [];
    const hold = new Hold((held) => changes.push(held));
    hold.releaseAll();
    hold.press("shortcut");
    hold.press("pointer");
    hold.releaseAll();
    assert.equal(hold.held, false);
    assert.deepEqual(changes, [true, false]);
  });

  test("the shortcut is C alone, not while typing, not Ctrl+C", () => {
    assert.equal(isCoughShortcut({ key: "c" }, false), true);
    assert.equal(isCoughShortcut({ key: "C" }, false), true);
    assert.equal(isCoughShortcut({ key: "c" }, true), false);
    assert.equal(isCoughShortcut({ key: "c", ctrlKey: true }, false), false);
    assert.equal(isCoughShortcut({ key: "c", metaKey: true }, false), false);
    assert.equal(isCoughShortcut({ key: " " }, false), false);
  });
});

// --- relay interpreting ------------------------------------------------------------------------

describe("the relay source", () => {
  test("the floor, the booth chosen when on air, else the floor and the page says why", () => {
    assert.equal(relayHearing(null, null), "floor");
    assert.equal(relayHearing("en", null), "unknown");
    assert.equal(relayHearing("en", { en: true, es: false }), "relay");
    assert.equal(relayHearing("es", { en: true, es: false }), "fallback");
    assert.equal(relayHearing("de", { en: true }), "fallback");
  });
});

// --- on air, the partner, reconnecting ---------------------------------------------------------

const live = (publisher) => ({ live: true, since: 1, publisher });
const OFF = { live: false, since: null, publisher: null };

/** A booth that asked for the air, published as `digest`, and whose connection came up. */
function onAir(digest = "aaaa") {
  const booth = new Booth();
  booth.goOnAir();
  booth.published(digest);
  booth.connected();
  assert.equal(booth.readout(live(digest)), null);
  return booth;
}

describe("the booth", () => {
  test("starts off air, and says so; never asks for the air by itself", () => {
    const booth = new Booth();
    assert.equal(booth.phase, "off");
    assert.equal(booth.light, "off");
    assert.equal(booth.button, "go");
    assert.equal(booth.readout(OFF), null);
    assert.equal(booth.want, false);
  });

  test("sees the partner on air while off, and offers to take over", () => {
    const booth = new Booth();
    booth.readout(live("partner"));
    assert.equal(booth.light, "partner");
    assert.equal(booth.button, "take_over");
    booth.readout(OFF);
    assert.equal(booth.light, "off");
    assert.equal(booth.button, "go");
  });

  test("is on air only once the readout names its own connection", () => {
    const booth = new Booth();
    assert.equal(booth.goOnAir(), true);
    assert.equal(booth.goOnAir(), false); // already asked
    assert.equal(booth.light, "connecting");
    assert.equal(booth.button, null);
    booth.published("aaaa");
    booth.readout(OFF);
    assert.equal(booth.light, "connecting");
    booth.connected();
    booth.readout(live("aaaa"));
    assert.equal(booth.phase, "on_air");
    assert.equal(booth.light, "on_air");
  });

  test("taking over: the partner named while this page connects is expected, not a takeover", () => {
    const booth = new Booth();
    booth.readout(live("partner"));
    booth.goOnAir();
    booth.published("aaaa");
    assert.equal(booth.readout(live("partner")), null);
    booth.connected(); // the relay is switching: its readout may lag a moment
    assert.equal(booth.readout(live("partner")), null);
    assert.equal(booth.want, true);
    booth.readout(live("aaaa"));
    assert.equal(booth.light, "on_air");
  });

  test("the partner took over: stop, no reconnection, and offer to take over again", () => {
    const booth = onAir();
    assert.equal(booth.readout(live("partner")), "stop");
    assert.equal(booth.phase, "taken_over");
    assert.equal(booth.want, false);
    assert.equal(booth.light, "partner");
    assert.equal(booth.button, "take_over");
    assert.equal(booth.lost(null), null); // the connection's end that follows changes nothing
    assert.equal(booth.phase, "taken_over");
  });

  test("the connection lost as the partner took over (before any readout said so): stop", () => {
    const booth = new Booth();
    booth.goOnAir();
    booth.published("aaaa");
    booth.connected();
    assert.equal(booth.lost(live("partner")), "stop");
    assert.equal(booth.phase, "taken_over");
  });

  test("the connection lost to the network: reconnect, and be on air again with the new one", () => {
    const booth = onAir("aaaa");
    assert.equal(booth.lost(null), "retry"); // no readout could be had
    assert.equal(booth.light, "reconnecting");
    assert.equal(booth.lost(OFF), "retry");
    assert.equal(booth.lost(live("aaaa")), "retry"); // the server has not noticed yet
    booth.published("bbbb");
    // The old connection still on the readout while the new one comes up: ours, not the partner.
    assert.equal(booth.readout(live("aaaa")), null);
    assert.equal(booth.want, true);
    booth.connected();
    booth.readout(live("bbbb"));
    assert.equal(booth.phase, "on_air");
  });

  test("the partner took the air while this page was reconnecting: stop", () => {
    const booth = onAir("aaaa");
    booth.lost(OFF);
    assert.equal(booth.readout(live("partner")), "stop");
    assert.equal(booth.button, "take_over");
  });

  test("a connection that never came up and is lost is tried again, even with the partner on air", () => {
    const booth = new Booth();
    booth.readout(live("partner"));
    booth.goOnAir();
    booth.published("aaaa");
    assert.equal(booth.lost(live("partner")), "retry");
  });

  test("the readout no longer names it while on air: the light stops saying on air", () => {
    const booth = onAir("aaaa");
    booth.readout(OFF);
    assert.equal(booth.light, "reconnecting");
    booth.readout(live("aaaa"));
    assert.equal(booth.light, "on_air");
  });

  test("the backoff step grows with failures and starts again once on air", () => {
    const booth = onAir("aaaa");
    booth.lost(null);
    booth.attempt++;
    assert.equal(booth.failed(false), "retry");
    booth.attempt++;
    assert.equal(booth.attempt, 2);
    booth.published("bbbb");
    booth.connected();
    booth.readout(live("bbbb"));
    assert.equal(booth.attempt, 0);
  });

  test("a refused link stops for good", () => {
    const booth = new Booth();
    booth.goOnAir();
    assert.equal(booth.failed(true), "stop");
    assert.equal(booth.want, false);
    assert.equal(booth.phase, "error");
    assert.equal(booth.button, "go");
  });

  test("leaving the air: off, and nothing that arrives later puts it back", () => {
    const booth = onAir("aaaa");
    booth.leave();
    assert.equal(booth.phase, "off");
    assert.equal(booth.lost(null), null);
    assert.equal(booth.readout(live("aaaa")), null);
    booth.published("late");
    assert.equal(booth.current, null);
    assert.equal(booth.phase, "off");
  });

  test("asking again after a takeover starts a new stretch: the old digests are not ours any more", () => {
    const booth = onAir("aaaa");
    booth.readout(live("partner"));
    booth.goOnAir();
    booth.published("cccc");
    // The partner still on air while this page connects: not a takeover (not confirmed yet).
    assert.equal(booth.readout(live("partner")), null);
    booth.connected();
    booth.readout(live("cccc"));
    assert.equal(booth.phase, "on_air");
    assert.equal(booth.mine.has("aaaa"), false);
  });
});

describe("the page's link", () => {
  test("the interpreter page is a session page: its token is kept for a reload", () => {
    const body = { dataset: { role: "interpreter" }, classList: { contains: () => false } };
    assert.deepEqual(pageKind(body, () => null), { kind: "session" });
  });
});
