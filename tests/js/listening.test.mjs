import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DEFAULT_FLOOR_LEVEL,
  STORAGE_KEY,
  audioRequest,
  hearing,
  loadChoice,
  saveChoice,
  sendChoice,
  whepUrl,
} from "../../static/js/listening.js";

function memory(initial = {}) {
  const data = new Map(Object.entries(initial));
  return { get: (k) => (data.has(k) ? data.get(k) : null), set: (k, v) => data.set(k, v), data };
}

describe("the listener's choice", () => {
  test("defaults to the original, the floor softly under, video on", () => {
    assert.deepEqual(loadChoice(memory(), ["en", "es"]), { language: null, floor: DEFAULT_FLOOR_LEVEL, audioOnly: false });
  });

  test("is remembered across sessions, kept to the languages this one offers", () => {
    const storage = memory();
    saveChoice(storage, { language: "es", floor: 0, audioOnly: true });
    assert.deepEqual(loadChoice(storage, ["en", "es"]), { language: "es", floor: 0, audioOnly: true });
    assert.deepEqual(loadChoice(storage, ["en"]), { language: null, floor: 0, audioOnly: true });
  });

  test("ignores what it cannot use", () => {
    const storage = memory({ [STORAGE_KEY]: { language: 7, floor: 3, audioOnly: "yes" } });
    assert.deepEqual(loadChoice(storage, ["en"]), { language: null, floor: DEFAULT_FLOOR_LEVEL, audioOnly: false });
  });
});

describe("what the server is asked", () => {
  test("the floor under only when its level is above zero", () => {
    assert.deepEqual(audioRequest({ language: "en", floor: 0.2, audioOnly: false }), { language: "en", floor: true });
    assert.deepEqual(audioRequest({ language: "en", floor: 0, audioOnly: false }), { language: "en", floor: false });
  });

  test("the first choice rides on the WHEP URL", () => {
    const endpoint = "https://x.test/sessions/s/whep";
    assert.equal(whepUrl(endpoint, { language: null, floor: 0.2, audioOnly: false }), endpoint);
    assert.equal(whepUrl(endpoint, { language: "en", floor: 0, audioOnly: false }), `${endpoint}?language=en&floor=0`);
    assert.equal(whepUrl(endpoint, { language: "es", floor: 0.5, audioOnly: false }), `${endpoint}?language=es&floor=1`);
  });

  test("a change is PUT on the connection's resource, with the token", async () => {
    const calls = [];
    const ok = await sendChoice("https://x.test/sessions/s/whep/r1", "tok", { language: "en", floor: 0, audioOnly: false },
      async (url, init) => { calls.push([url, init]); return { ok: true }; });
    assert.equal(ok, true);
    assert.equal(calls[0][0], "https://x.test/sessions/s/whep/r1/audio");
    assert.equal(calls[0][1].method, "PUT");
    assert.equal(calls[0][1].headers.Authorization, "Bearer tok");
    assert.deepEqual(JSON.parse(calls[0][1].body), { language: "en", floor: false });
  });

  test("a refusal or no network says it was not taken", async () => {
    const choice = { language: "en", floor: 0, audioOnly: false };
    assert.equal(await sendChoice("r", "t", choice, async () => ({ ok: false })), false);
    assert.equal(await sendChoice("r", "t", choice, async () => { throw new TypeError("offline"); }), false);
  });
});

describe("what is heard", () => {
  const choice = { language: "en", floor: 0.3, audioOnly: false };
  test("the interpretation with the floor under it when the booth is on air", () => {
    assert.deepEqual(hearing(choice, { en: true }), { interpreted: true, fallback: false, floorUnder: 0.3 });
  });
  test("the original, said, when nobody interprets", () => {
    assert.deepEqual(hearing(choice, { en: false, es: true }), { interpreted: false, fallback: true, floorUnder: 0 });
  });
  test("nothing said before the first readout", () => {
    assert.deepEqual(hearing(choice, null), { interpreted: false, fallback: false, floorUnder: 0 });
  });
  test("the original chosen: one track, nothing under", () => {
    assert.deepEqual(hearing({ ...choice, language: null }, { en: true }), { interpreted: false, fallback: false, floorUnder: 0 });
  });
});
