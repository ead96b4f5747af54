import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  BACKOFF_MAX_MS, WhipError, backoffDelay, hangUp, iceServerSource, negotiate, parseIceServers, parseRetryAfter,
  preferredVideoCodecs, receiverStats, retryDelay, sdpFragment, senderStats, stop, waitForGathering,
  watchConnection,
} from "../../static/js/whip.js";

// --- test doubles: a peer connection driven by the test, a scripted fetch, a manual clock ---

const OFFER = [
  "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:0", "a=ice-ufrag:UFRAG", "a=ice-pwd:PASSWORDPASSWORDPASSWORD",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:1", "a=ice-ufrag:UFRAG", "a=ice-pwd:PASSWORDPASSWORDPASSWORD",
  "",
].join("\r\n");
const HOST = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host";
const LATE = "candidate:2 1 udp 1686052607 127.0.0.1 50001 typ srflx raddr 127.0.0.1 rport 50000";

class FakePc {
  constructor() {
    this.iceGatheringState = "new";
    this.localDescription = null;
    this.remoteDescription = null;
    this.config = { iceServers: [], bundlePolicy: "max-bundle" };
    /** @type {Map<string, Set<Function>>} */
    this.listeners = new Map();
  }

  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }

  removeEventListener(type, fn) {
    this.listeners.get(type)?.delete(fn);
  }

  emit(type, ev = {}) {
    for (const fn of [...(this.listeners.get(type) || [])]) fn(ev);
  }

  listenerCount(type) {
    return this.listeners.get(type)?.size || 0;
  }

  async createOffer() {
    return { type: "offer", sdp: OFFER };
  }

  async setLocalDescription(desc) {
    this.localDescription = { ...desc };
    this.iceGatheringState = "gathering";
  }

  /** The test finds a candidate: it joins the local description, then the event fires. */
  candidate(line, sdpMid = "0") {
    this.localDescription.sdp += `a=${line}\r\n`;
    this.emit("icecandidate", { candidate: { candidate: line, sdpMid } });
  }

  complete() {
    this.iceGatheringState = "complete";
    this.emit("icegatheringstatechange");
    this.emit("icecandidate", { candidate: null });
  }

  async setRemoteDescription(desc) {
    if (desc.sdp === "garbage") throw new Error("bad answer");
    this.remoteDescription = desc;
  }

  getConfiguration() {
    return this.config;
  }

  setConfiguration(config) {
    this.config = config;
  }
}

/** fetch that answers from a queue of responses (or functions of the request) and records calls. */
function scriptedFetch(...answers) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    calls.push({ url, ...init, headers: { ...(init.headers || {}) } });
    const next = answers.shift();
    if (!next) return new Response(null, { status: 204 });
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next(url, init) : next;
  };
  return { fetch, calls };
}

function created(answer = "v=0\r\nanswer\r\n", headers = {}) {
  return new Response(answer, {
    status: 201,
    headers: { "Content-Type": "application/sdp", Location: "/sessions/s1/whip/abc", ...headers },
  });
}

const URL_ = "http://127.0.0.1:8000/sessions/s1/whip";
const tick = () => new Promise((r) => setTimeout(r, 0));

class Clock {
  constructor() {
    this.timers = new Map();
    this.next = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.next++;
      this.timers.set(id, { fn, ms });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
  }

  fireAll() {
    const due = [...this.timers.values()];
    this.timers.clear();
    for (const t of due) t.fn();
  }
}

// --- headers ---

describe("headers", () => {
  test("Retry-After in seconds or as an HTTP date", () => {
    assert.equal(parseRetryAfter("5"), 5);
    assert.equal(parseRetryAfter(" 2.5 "), 2.5);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter("soon"), null);
    const now = Date.parse("2020-09-22T09:00:00Z");
    assert.equal(parseRetryAfter("Tue, 22 Sep 2020 09:00:30 GMT", now), 30);
    assert.equal(parseRetryAfter("Tue, 22 Sep 2020 08:00:00 GMT", now), 0);
  });

  test("ice servers from Link headers, joined by fetch, with credentials", () => {
    const value = '<stun:stun.example.net:3478>; rel="ice-server", '
      + '<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="user"; credential="p,a;ss"; credential-type="password", '
      + '<https://example.net/help>; rel="help"';
    assert.deepEqual(parseIceServers(value), [
      { urls: "stun:stun.example.net:3478" },
      { urls: "turn:turn.example.net:3478?transport=udp", username: "user", credential: "p,a;ss" },
    ]);
    assert.deepEqual(parseIceServers(null), []);
    assert.deepEqual(parseIceServers("<http://x>; rel=ice-server"), [], "only stun/turn URLs");
  });
});

// --- negotiate ---

describe("negotiate", () => {
  test("waits for gathering, POSTs the full offer with the token, applies the answer", async () => {
    const pc = new FakePc();
    const { fetch, calls } = scriptedFetch(created("v=0\r\nanswer\r\n", {
      Link: '<stun:stun.example.net:3478>; rel="ice-server"', ETag: '"e1"',
    }));
    const clock = new Clock();
    const done = negotiate(URL_, "tok", pc, { fetch, ...clock });
    await tick();
    assert.equal(calls.length, 0, "nothing sent while gathering");
    pc.candidate(HOST);
    pc.complete();
    const result = await done;
    assert.equal(calls.length, 1);
    const [post] = calls;
    assert.equal(post.url, URL_);
    assert.equal(post.method, "POST");
    assert.equal(post.headers["Content-Type"], "application/sdp");
    assert.equal(post.headers.Authorization, "Bearer tok");
    assert.match(post.body, /a=candidate:1 1 udp/);
    assert.deepEqual(pc.remoteDescription, { type: "answer", sdp: "v=0\r\nanswer\r\n" });
    assert.equal(result.resource, "http://127.0.0.1:8000/sessions/s1/whip/abc");
    assert.deepEqual(result.iceServers, [{ urls: "stun:stun.example.net:3478" }]);
    assert.equal(result.etag, '"e1"');
    assert.deepEqual(pc.config.iceServers, [{ urls: "stun:stun.example.net:3478" }]);
    assert.equal(pc.config.bundlePolicy, "max-bundle", "the rest of the configuration is kept");
    assert.equal(clock.timers.size, 0, "the gathering timer is cleared");
    assert.equal(pc.listenerCount("icecandidate"), 0);
    assert.equal(pc.listenerCount("icegatheringstatechange"), 0);
  });

  test("after the gathering cap, sends what it has and trickles the rest by PATCH", async () => {
    const pc = new FakePc();
    const { fetch, calls } = scriptedFetch(created(undefined, { ETag: '"e1"' }));
    const clock = new Clock();
    const done = negotiate(URL_, "tok", pc, { fetch, ...clock, gatherTimeout: 2000 });
    await tick();
    pc.candidate(HOST);
    assert.deepEqual([...clock.timers.values()].map((t) => t.ms), [2000]);
    clock.fireAll(); // 2 s and still gathering
    await done;
    assert.equal(calls.length, 1);
    assert.match(calls[0].body, /127\.0\.0\.1 50000/);
    pc.candidate(HOST); // already in the offer: not sent again
    pc.candidate(LATE);
    pc.complete();
    await tick();
    await tick();
    const patches = calls.filter((c) => c.method === "PATCH");
    assert.ok(patches.length >= 1);
    for (const p of patches) {
      assert.equal(p.url, "http://127.0.0.1:8000/sessions/s1/whip/abc");
      assert.equal(p.headers["Content-Type"], "application/trickle-ice-sdpfrag");
      assert.equal(p.headers.Authorization, "Bearer tok");
      assert.equal(p.headers["If-Match"], '"e1"');
    }
    const body = patches.map((p) => p.body).join("");
    assert.doesNotMatch(body, /50000 typ host/);
    assert.match(body, /a=candidate:2 1 udp .* typ srflx/);
    assert.match(body, /a=ice-ufrag:UFRAG\r\n/);
    assert.match(body, /a=end-of-candidates/);
    assert.equal(pc.listenerCount("icecandidate"), 0, "stops listening after the last candidate");
  });

  test("an error answer becomes a WhipError with status and Retry-After", async () => {
    const pc = new FakePc();
    pc.iceGatheringState = "complete";
    pc.setLocalDescription = async (d) => { pc.localDescription = d; };
    const { fetch } = scriptedFetch(new Response("nothing on air", { status: 409, headers: { "Retry-After": "3" } }));
    await assert.rejects(negotiate(URL_, "tok", pc, { fetch }), (err) => {
      assert.ok(err instanceof WhipError);
      assert.equal(err.status, 409);
      assert.equal(err.retryAfter, 3);
      assert.equal(err.fatal, false);
      return true;
    });
    assert.equal(pc.remoteDescription, null);
  });

  test("refusals that retrying cannot fix are fatal; a network failure is status 0", async () => {
    for (const status of [401, 403, 404]) {
      const pc = new FakePc();
      pc.setLocalDescription = async (d) => { pc.localDescription = d; pc.iceGatheringState = "complete"; };
      const { fetch } = scriptedFetch(new Response("no", { status }));
      await assert.rejects(negotiate(URL_, "tok", pc, { fetch }), (err) => err.status === status && err.fatal);
    }
    const pc = new FakePc();
    pc.setLocalDescription = async (d) => { pc.localDescription = d; pc.iceGatheringState = "complete"; };
    const { fetch } = scriptedFetch(new TypeError("Failed to fetch"));
    await assert.rejects(negotiate(URL_, "tok", pc, { fetch }), (err) => err.status === 0 && !err.fatal && err.retryAfter === null);
  });

  test("an answer the browser refuses deletes the new resource", async () => {
    const pc = new FakePc();
    pc.setLocalDescription = async (d) => { pc.localDescription = d; pc.iceGatheringState = "complete"; };
    const { fetch, calls } = scriptedFetch(created("garbage"), new Response(null, { status: 200 }));
    await assert.rejects(negotiate(URL_, "tok", pc, { fetch }), /bad answer/);
    assert.deepEqual(calls.map((c) => c.method), ["POST", "DELETE"]);
    assert.equal(calls[1].url, "http://127.0.0.1:8000/sessions/s1/whip/abc");
  });
});

describe("iceServerSource", () => {
  const TURN = { urls: "turn:turn.example.org:3478?transport=tcp", username: "1700000000:viewer-ab", credential: "c2VjcmV0" };

  function server(bodies) {
    const calls = [];
    const fetch = async (url, init) => {
      calls.push({ url, auth: init.headers.Authorization });
      const next = bodies.shift();
      if (next instanceof Error) throw next;
      return { ok: next.status === undefined, status: next.status ?? 200, json: async () => next };
    };
    return { calls, fetch };
  }

  test("asks with the token, keeps the credentials for half their lifetime, then asks again", async () => {
    let clock = 0;
    const { calls, fetch } = server([
      { iceServers: [TURN, { urls: "stun:stun.example.org", junk: 1 }, { nope: true }], ttl: 100 },
      { iceServers: [{ ...TURN, username: "1700000100:viewer-cd" }], ttl: 100 },
    ]);
    const get = iceServerSource("https://x/sessions/s/ice-servers", "TOKEN", { fetch, now: () => clock });
    assert.deepEqual(await get(), [TURN, { urls: "stun:stun.example.org" }]);
    clock = 49_000;
    assert.equal((await get())[0].username, TURN.username);
    assert.equal(calls.length, 1);
    clock = 50_000;
    assert.equal((await get())[0].username, "1700000100:viewer-cd");
    assert.deepEqual(calls.map((c) => c.auth), ["Bearer TOKEN", "Bearer TOKEN"]);
  });

  test("a refusal or a network error gives none, and the next call asks again", async () => {
    const { calls, fetch } = server([{ status: 401 }, new Error("offline"), { iceServers: [TURN], ttl: 100 }]);
    const get = iceServerSource("https://x/i", "T", { fetch, now: () => 0 });
    assert.deepEqual(await get(), []);
    assert.deepEqual(await get(), []);
    assert.deepEqual(await get(), [TURN]);
    assert.equal(calls.length, 3);
  });
});

describe("waitForGathering", () => {
  test("resolves at once when complete, true on completion, false on the cap", async () => {
    const pc = new FakePc();
    pc.iceGatheringState = "complete";
    assert.equal(await waitForGathering(pc, 10), true);
    const clock = new Clock();
    pc.iceGatheringState = "gathering";
    const capped = waitForGathering(pc, 2000, clock);
    clock.fireAll();
    assert.equal(await capped, false);
    const completed = waitForGathering(pc, 2000, clock);
    pc.complete();
    assert.equal(await completed, true);
  });
});

describe("sdpFragment", () => {
  test("ufrag, pwd, one media section per mid, end of candidates", () => {
    const frag = sdpFragment(OFFER, [{ candidate: LATE, sdpMid: "0" }], true);
    assert.equal(frag, [
      "a=ice-ufrag:UFRAG", "a=ice-pwd:PASSWORDPASSWORDPASSWORD", "m=audio 9 UDP/TLS/RTP/SAVPF 0", "a=mid:0",
      `a=${LATE}`, "a=end-of-candidates", "",
    ].join("\r\n"));
    assert.match(sdpFragment(OFFER, [], true), /a=mid:0\r\na=end-of-candidates/);
  });
});

// --- stop ---

describe("stop", () => {
  test("DELETEs with the token, keepalive when asked; network errors are swallowed", async () => {
    const { fetch, calls } = scriptedFetch(new Response(null, { status: 200 }), new TypeError("offline"));
    assert.equal(await stop("http://h/r", "tok", { fetch, keepalive: true }), 200);
    assert.deepEqual([calls[0].method, calls[0].headers.Authorization, calls[0].keepalive], ["DELETE", "Bearer tok", true]);
    assert.equal(await stop("http://h/r", "tok", { fetch }), 0);
    assert.equal(await stop("", "tok", { fetch }), 0);
    assert.equal(calls.length, 2);
  });
});

describe("hangUp", () => {
  const peer = (transportState, connectionState = "connected") => {
    const events = [];
    const transport = { state: transportState };
    return {
      events, connectionState, getSenders: () => [{ transport }], getReceivers: () => [],
      close() { events.push("close"); },
    };
  };

  test("DELETEs before closing, so the server has not dropped the resource yet", async () => {
    const pc = peer("connected");
    const { calls } = scriptedFetch();
    const fetch = async (url, init) => {
      pc.events.push(init.method);
      calls.push(init);
      return new Response(null, { status: 200 });
    };
    await hangUp(pc, "http://h/r", "tok", { fetch });
    assert.deepEqual(pc.events, ["DELETE", "close"]);
  });

  test("no DELETE when the server closed the connection, or nothing was created", async () => {
    for (const [pc, resource] of [[peer("closed"), "http://h/r"], [peer("connected", "closed"), "http://h/r"], [peer("connected"), ""]]) {
      const { fetch, calls } = scriptedFetch();
      await hangUp(pc, resource, "tok", { fetch });
      assert.equal(calls.length, 0);
      assert.deepEqual(pc.events, ["close"]);
    }
  });

  test("unloading: keepalive, without waiting for the answer", async () => {
    const pc = peer("connected");
    let answered = false;
    const fetch = (url, init) => new Promise((resolve) => {
      pc.events.push(`${init.method} keepalive=${init.keepalive}`);
      setTimeout(() => { answered = true; resolve(new Response(null, { status: 200 })); }, 20);
    });
    await hangUp(pc, "http://h/r", "tok", { fetch, keepalive: true });
    assert.deepEqual(pc.events, ["DELETE keepalive=true", "close"]);
    assert.equal(answered, false);
  });
});

// --- retries ---

describe("retries", () => {
  test("backoff doubles from 1 s to 30 s with equal jitter", () => {
    assert.equal(backoffDelay(0, () => 0), 500);
    assert.equal(backoffDelay(0, () => 0.999999), 1000);
    assert.equal(backoffDelay(3, () => 0), 4000);
    assert.equal(backoffDelay(20, () => 1), BACKOFF_MAX_MS);
    assert.equal(backoffDelay(20, () => 0), BACKOFF_MAX_MS / 2);
  });

  test("Retry-After wins, plus up to a quarter (at least 0.5 s) of jitter", () => {
    const err = new WhipError(409, 4);
    assert.equal(retryDelay(err, 7, () => 0), 4000);
    assert.equal(retryDelay(err, 7, () => 1), 5000);
    assert.equal(retryDelay(new WhipError(503, 1), 0, () => 1), 1500);
    assert.equal(retryDelay(new WhipError(0, null), 2, () => 0), 2000);
    assert.equal(retryDelay(new Error("x"), 0, () => 0), 500);
  });
});

// --- codecs ---

describe("preferredVideoCodecs", () => {
  test("VP8, then H.264 baseline with packetization mode 1, then repair formats; no VP9/AV1", () => {
    const codecs = [
      { mimeType: "video/VP9", sdpFmtpLine: "profile-id=0" },
      { mimeType: "video/H264", sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f" },
      { mimeType: "video/rtx" },
      { mimeType: "video/H264", sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f" },
      { mimeType: "video/H264", sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" },
      { mimeType: "video/AV1" },
      { mimeType: "video/VP8" },
      { mimeType: "video/red" },
      { mimeType: "video/ulpfec" },
    ];
    const order = preferredVideoCodecs(codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine || ""}`.trim());
    assert.deepEqual(order, [
      "video/VP8",
      "video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
      "video/H264 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
      "video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f",
      "video/rtx", "video/red", "video/ulpfec",
    ]);
  });
});

// --- stats ---

function viewerReport({ t, videoBytes, audioBytes = 0, lost = 0, received = 100, jbd, jbc, frames, rtt = 0.04 }) {
  return new Map(Object.entries({
    IT01V: {
      id: "IT01V", type: "inbound-rtp", kind: "video", timestamp: t, codecId: "CV", bytesReceived: videoBytes,
      frameWidth: 1280, frameHeight: 720, framesPerSecond: 29.97, packetsLost: lost, packetsReceived: received,
      jitterBufferDelay: jbd, jitterBufferEmittedCount: jbc, framesDecoded: frames, framesReceived: frames + 1,
    },
    IT01A: { id: "IT01A", type: "inbound-rtp", kind: "audio", timestamp: t, bytesReceived: audioBytes, packetsLost: 0, packetsReceived: 50 },
    CV: { id: "CV", type: "codec", mimeType: "video/VP8" },
    T01: { id: "T01", type: "transport", selectedCandidatePairId: "CP1" },
    CP1: { id: "CP1", type: "candidate-pair", state: "succeeded", nominated: true, currentRoundTripTime: rtt },
    CP2: { id: "CP2", type: "candidate-pair", state: "failed", currentRoundTripTime: 9 },
  }));
}

describe("receiverStats", () => {
  test("first sample: size, fps, cumulative jitter buffer delay, no rate yet", () => {
    const r = receiverStats(viewerReport({ t: 1000, videoBytes: 50000, jbd: 3.0, jbc: 50, frames: 49 }));
    assert.equal(r.width, 1280);
    assert.equal(r.height, 720);
    assert.equal(r.fps, 30);
    assert.equal(r.kbps, null);
    assert.equal(r.jitterBufferMs, 60); // 3 s over 50 frames
    assert.equal(r.rttMs, 40);
    assert.equal(r.latencyMs, 80); // 60 + 40 / 2
    assert.equal(r.frames, 49);
    assert.equal(r.codec, "VP8");
    assert.equal(r.packetsLost, 0);
    assert.equal(r.lossPercent, 0);
  });

  test("later samples: kbps from byte deltas, recent jitter buffer delay, loss", () => {
    const first = receiverStats(viewerReport({ t: 1000, videoBytes: 50000, audioBytes: 1000, jbd: 3.0, jbc: 50, frames: 49 }));
    const second = receiverStats(
      viewerReport({ t: 2000, videoBytes: 175000, audioBytes: 5000, lost: 3, received: 147, jbd: 4.2, jbc: 80, frames: 79 }),
      first,
    );
    assert.equal(second.kbps, 1032); // (129000 bytes * 8) / 1000 ms
    assert.equal(second.jitterBufferMs, 40); // 1.2 s over the 30 new frames
    assert.equal(second.latencyMs, 60);
    assert.equal(second.packetsLost, 3);
    assert.equal(second.lossPercent, 1.5); // 3 of 200 (147 + 50 received, 3 lost)
  });

  test("a new connection (counters back to zero) gives no rate rather than a negative one", () => {
    const before = receiverStats(viewerReport({ t: 5000, videoBytes: 900000, jbd: 9, jbc: 300, frames: 300 }));
    const after = receiverStats(viewerReport({ t: 6000, videoBytes: 1000, jbd: 0.1, jbc: 2, frames: 2 }), before);
    assert.equal(after.kbps, null);
    assert.equal(after.jitterBufferMs, 50);
  });

  test("an empty report gives an empty readout", () => {
    const r = receiverStats(new Map());
    assert.deepEqual(
      [r.width, r.height, r.fps, r.kbps, r.packetsLost, r.lossPercent, r.rttMs, r.jitterBufferMs, r.latencyMs, r.frames],
      [null, null, null, null, null, null, null, null, null, 0],
    );
  });
});

describe("senderStats", () => {
  const report = (t, bytes, extra = {}) => [
    { id: "OT", type: "outbound-rtp", kind: "video", timestamp: t, bytesSent: bytes, packetsSent: 400, frameWidth: 1280,
      frameHeight: 720, framesPerSecond: 30, framesEncoded: 300, codecId: "C1", qualityLimitationReason: "none", ...extra },
    { id: "OA", type: "outbound-rtp", kind: "audio", timestamp: t, bytesSent: 2000, packetsSent: 100 },
    { id: "RI", type: "remote-inbound-rtp", kind: "video", packetsLost: 5, roundTripTime: 0.012 },
    { id: "C1", type: "codec", mimeType: "video/H264" },
  ];

  test("resolution, fps, kbps, loss, round trip from the receiver reports", () => {
    const first = senderStats(report(0, 100000));
    const second = senderStats(report(2000, 475000, { qualityLimitationReason: "bandwidth" }), first);
    assert.equal(second.width, 1280);
    assert.equal(second.fps, 30);
    assert.equal(second.kbps, 1500); // 375000 bytes in 2 s
    assert.equal(second.rttMs, 12);
    assert.equal(second.packetsLost, 5);
    assert.equal(second.lossPercent, 1);
    assert.equal(second.codec, "H264");
    assert.equal(second.frames, 300);
    assert.equal(first.limitation, null);
    assert.equal(second.limitation, "bandwidth");
  });
});

// --- watching a connection ---

/** A connection whose states the test sets; its DTLS transport too. */
function watchedPc() {
  const transport = new FakePc(); // only its listeners are used
  transport.state = "connected";
  const pc = new FakePc();
  pc.connectionState = "new";
  pc.getSenders = () => [];
  pc.getReceivers = () => [{ transport }];
  const to = (state) => {
    pc.connectionState = state;
    pc.emit("connectionstatechange");
  };
  const transportTo = (state) => {
    transport.state = state;
    transport.emit("statechange");
  };
  return { pc, to, transportTo };
}

describe("watchConnection", () => {
  test("reports each connection, and a loss once", () => {
    const { pc, to } = watchedPc();
    const clock = new Clock();
    const seen = [];
    watchConnection(pc, { onLost: () => seen.push("lost"), onConnected: () => seen.push("up"), timers: clock });
    to("connecting");
    to("connected");
    to("failed");
    to("closed"); // the page closing it afterwards is not a second loss
    assert.deepEqual(seen, ["up", "lost"]);
  });

  test("a short disconnection is forgiven, a long one is a loss", () => {
    const { pc, to } = watchedPc();
    const clock = new Clock();
    let lost = 0;
    watchConnection(pc, { onLost: () => lost++, timers: clock, graceMs: 5000 });
    to("connected");
    to("disconnected");
    to("connected"); // recovered within the grace: its timer is gone
    assert.equal(clock.timers.size, 0);
    to("disconnected");
    clock.fireAll();
    assert.equal(lost, 1);
  });

  test("a server closing the session shows on the transport only", () => {
    const { pc, to, transportTo } = watchedPc();
    let lost = 0;
    watchConnection(pc, { onLost: () => lost++, timers: new Clock() });
    to("connected");
    transportTo("closed"); // Chrome leaves connectionState at "connected"
    assert.equal(lost, 1);
  });
});
