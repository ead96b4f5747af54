// A feed that keeps itself connected (static/js/feeds.js): it asks the readout before playing,
// waits while nothing is on air, gives up on a refusal, connects again after a drop, and ends with
// a DELETE. A scripted fetch and peer connection stand in for the server and the browser.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { keepFeed } from "../../static/js/feeds.js";

const made = [];
class Pc {
  constructor() {
    this.listeners = new Map();
    this.connectionState = "new";
    this.iceGatheringState = "new";
    this.transceivers = [];
    made.push(this);
  }
  addTransceiver(what) {
    const track = typeof what === "string" ? null : what;
    const t = { sender: { track, replaceTrack: async () => {} }, receiver: { track: { kind: track ? track.kind : what } } };
    this.transceivers.push(t);
    return t;
  }
  getTransceivers() { return this.transceivers; }
  getSenders() { return []; }
  getReceivers() { return []; }
  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }
  removeEventListener(type, fn) { this.listeners.get(type)?.delete(fn); }
  async createOffer() { return { type: "offer", sdp: "v=0\r\n" }; }
  async setLocalDescription(desc) {
    this.localDescription = desc;
    this.iceGatheringState = "complete";
  }
  async setRemoteDescription(desc) { this.remoteDescription = desc; }
  getConfiguration() { return {}; }
  setConfiguration() {}
  close() { this.closed = true; }
  become(state) {
    this.connectionState = state;
    for (const fn of this.listeners.get("connectionstatechange") || []) fn({});
  }
}

const requests = [];
/** Answers in order of `script`: [method, status, body?, headers?] per expected request. */
function serve(script) {
  globalThis.fetch = async (url, init = {}) => {
    const method = init.method || "GET";
    requests.push(`${method} ${new URL(url).pathname}`);
    const next = script.find((s) => s[0] === method && !s.used && (!s[4] || new URL(url).pathname.endsWith(s[4])));
    if (!next) return { status: 404, ok: false, headers: new Map(), text: async () => "", json: async () => ({}) };
    next.used = true;
    const [, status, body = "", headers = {}] = next;
    return {
      status, ok: status < 300, headers: { get: (name) => headers[name.toLowerCase()] ?? null },
      text: async () => (typeof body === "string" ? body : JSON.stringify(body)),
      json: async () => body,
    };
  };
}

const until = async (check, what) => {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}: ${requests.join(", ")}`);
};
const ice = async () => [];
globalThis.location = { href: "http://127.0.0.1:8000/guest/s" };
const CREATED = { location: "/sessions/s/guests/g1/whep/r1" };

afterEach(() => {
  made.length = 0;
  requests.length = 0;
});

describe("a feed player", () => {
  test("waits for the readout to say on air, then plays, and ends with a DELETE", async () => {
    serve([
      ["GET", 200, { live: false }], ["GET", 200, { live: true }],
      ["POST", 201, "v=0\r\n", CREATED], ["DELETE", 200],
    ]);
    const states = [];
    const feed = keepFeed("/sessions/s/guests/g1/whep", "tok", {
      iceServers: ice, RTCPeerConnection: Pc, newStream: () => ({ addTrack() {} }), pollMs: 20,
      readout: "/sessions/s/guests/g1/broadcast", onState: (s) => states.push(s),
    });
    await until(() => made.length === 1 && made[0].remoteDescription, "the answer");
    assert.deepEqual(requests.slice(0, 3), ["GET /sessions/s/guests/g1/broadcast", "GET /sessions/s/guests/g1/broadcast", "POST /sessions/s/guests/g1/whep"]);
    made[0].become("connected");
    assert.deepEqual(states, ["waiting", "connecting", "live"]);
    assert.equal(feed.connection(), made[0]);
    feed.stop();
    await until(() => requests.includes("DELETE /sessions/s/guests/g1/whep/r1"), "the DELETE");
    assert.equal(states.at(-1), "stopped");
  });

  test("gives up on a refusal, from the readout or the endpoint", async () => {
    serve([["GET", 401, "invalid token"]]);
    const states = [];
    keepFeed("/sessions/s/return/whep", "tok", { iceServers: ice, RTCPeerConnection: Pc, readout: "/sessions/s/return/broadcast", onState: (s) => states.push(s) });
    await until(() => states.includes("refused"), "the refusal");
    serve([["POST", 401, "this guest link is for another guest"]]);
    const again = [];
    keepFeed("/sessions/s/guests/g1/whep", "tok", { iceServers: ice, RTCPeerConnection: Pc, newStream: () => ({ addTrack() {} }), onState: (s) => again.push(s) });
    await until(() => again.includes("refused"), "the refusal");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(requests.filter((r) => r.startsWith("POST")).length, 1); // not retried
  });

  test("connects again after a drop, without a DELETE", async () => {
    serve([["POST", 201, "v=0\r\n", CREATED], ["POST", 201, "v=0\r\n", { location: "/sessions/s/guests/g1/whep/r2" }]]);
    const states = [];
    const feed = keepFeed("/sessions/s/guests/g1/whep", "tok", { iceServers: ice, RTCPeerConnection: Pc, newStream: () => ({ addTrack() {} }), onState: (s) => states.push(s) });
    await until(() => made[0]?.remoteDescription, "the first answer");
    made[0].become("connected");
    made[0].become("failed");
    assert.ok(made[0].closed);
    await until(() => made.length === 2 && made[1].remoteDescription, "the second connection"); // backoff: 0.5 to 1 s
    made[1].become("connected");
    assert.deepEqual(states, ["connecting", "live", "lost", "connecting", "live"]);
    assert.ok(!requests.some((r) => r.startsWith("DELETE")));
    feed.stop();
  });
});

describe("a feed publisher", () => {
  test("waits for its media, then sends each of its tracks", async () => {
    serve([["POST", 201, "v=0\r\n", { location: "/sessions/s/return/whip/r1" }]]);
    let media = null;
    const states = [];
    const feed = keepFeed("/sessions/s/return/whip", "tok", { iceServers: ice, RTCPeerConnection: Pc, media: () => media, onState: (s) => states.push(s) });
    await until(() => states.includes("waiting"), "waiting for the microphone");
    const mic = { kind: "audio" };
    media = { getTracks: () => [mic] };
    await until(() => made.length === 2 && made[1].remoteDescription, "the offer"); // the first gave up: no tracks
    assert.equal(feed.sender("audio").track, mic);
    feed.stop();
  });
});
