import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { BACKOFF_MAX_MS, Connection, backoffDelay } from "../../static/js/protocol.js";

// --- test doubles: a scripted WebSocket and a manual clock ---

class FakeSocket {
  /** @type {FakeSocket[]} */
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    FakeSocket.instances.push(this);
  }

  send(data) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data));
  }

  close(code) {
    this.readyState = 3;
    this.closedWith = code;
  }

  // --- driven by the test ---
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(msg) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }

  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  sentOfType(type) {
    return this.sent.filter((m) => m.type === type);
  }

  static reset() {
    FakeSocket.instances = [];
  }

  static get last() {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }
}

class Clock {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    /** @type {Map<number, {at: number, fn: () => void, ms: number}>} */
    this.timers = new Map();
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.now + ms, fn, ms });
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers.delete(id);
    };
  }

  /** Delays of the pending timers, sorted. */
  pending() {
    return [...this.timers.values()].map((t) => t.ms).sort((a, b) => a - b);
  }

  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
}

/** Runs the clock to the reconnect attempt (the only timer left once a socket dropped). */
function nextAttempt(clock) {
  const pending = clock.pending();
  assert.equal(pending.length, 1, `timers pending: ${pending}`);
  assert.ok(pending[0] <= BACKOFF_MAX_MS);
  clock.advance(pending[0]);
}

const SNAPSHOT_STATE = { session: { id: "s" }, questions: [], polls: [], stage: { question_id: null, poll_id: null } };

/** Builds a Connection on fakes; `log` records every callback. */
function setup(options = {}) {
  const clock = new Clock();
  const log = [];
  let stored = options.participant ?? null;
  const conn = new Connection({
    url: "ws://test/ws/sessions/s",
    token: "tok",
    WebSocketImpl: FakeSocket,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
    random: options.random ?? (() => 0.5),
    getParticipant: () => stored,
    setParticipant: (p) => {
      stored = p;
    },
    ...(options.connection || {}),
  });
  for (const name of ["onwelcome", "onsnapshot", "onevent", "ontally", "onpresence", "onbroadcast", "onstatus", "onfatal", "onrefused", "onerror"]) {
    conn[name] = (...args) => log.push([name, ...args]);
  }
  return { conn, clock, log, stored: () => stored };
}

/** Opens the current socket and plays Welcome + Snapshot. */
function handshake(ws, { epoch = "e1", seq = 10 } = {}) {
  ws.open();
  ws.receive({ type: "Welcome", v: 1, role: "participant", session: "s", participant: { id: "p_1", key: "k1" } });
  ws.receive({ type: "Snapshot", epoch, seq, state: SNAPSHOT_STATE });
}

beforeEach(() => FakeSocket.reset());

describe("handshake", () => {
  test("sends Hello with version and token first, without resume on a first visit", () => {
    const { conn } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    assert.equal(ws.url, "ws://test/ws/sessions/s");
    assert.equal(ws.sent.length, 0, "nothing before the socket opens");
    ws.open();
    assert.deepEqual(ws.sent, [{ type: "Hello", v: 1, token: "tok" }]);
  });

  test("includes a known participant identity", () => {
    const { conn } = setup({ participant: { id: "p_9", key: "secret" } });
    conn.connect();
    FakeSocket.last.open();
    assert.deepEqual(FakeSocket.last.sent[0].participant, { id: "p_9", key: "secret" });
  });

  test("Welcome stores the issued identity and is reported", () => {
    const { conn, log, stored } = setup();
    conn.connect();
    handshake(FakeSocket.last);
    assert.deepEqual(stored(), { id: "p_1", key: "k1" });
    const welcome = log.find(([name]) => name === "onwelcome");
    assert.equal(welcome[1].role, "participant");
    assert.deepEqual(welcome[1].participant, { id: "p_1", key: "k1" });
  });

  test("Snapshot delivers the state, tracks epoch/seq and sets status open", () => {
    const { conn, log } = setup();
    conn.connect();
    handshake(FakeSocket.last, { epoch: "e7", seq: 57 });
    const snap = log.find(([name]) => name === "onsnapshot");
    assert.deepEqual(snap[1], SNAPSHOT_STATE);
    assert.equal(snap[2], false);
    assert.equal(conn.epoch, "e7");
    assert.equal(conn.seq, 57);
    assert.equal(conn.status, "open");
    assert.deepEqual(
      log.filter(([n]) => n === "onstatus").map(([, s]) => s),
      ["connecting", "open"],
    );
  });
});

describe("events, tallies and presence", () => {
  test("events advance seq; replayed duplicates are skipped", () => {
    const { conn, log } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws, { seq: 10 });
    ws.receive({ type: "QuestionApproved", seq: 12, at: 1, question: { id: "q1" } });
    ws.receive({ type: "QuestionApproved", seq: 12, at: 1, question: { id: "q1" } });
    ws.receive({ type: "QuestionStarred", seq: 9, at: 1, question: { id: "q1" } });
    const events = log.filter(([n]) => n === "onevent");
    assert.equal(events.length, 1);
    assert.equal(conn.seq, 12);
  });

  test("Tally and Presence have their own callbacks; a tally moves seq forward only", () => {
    const { conn, log } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws, { seq: 10 });
    ws.receive({ type: "Tally", seq: 15, questions: { q1: 3 }, polls: {} });
    ws.receive({ type: "Presence", connected: 42 });
    assert.equal(log.filter(([n]) => n === "ontally").length, 1);
    assert.equal(log.find(([n]) => n === "onpresence")[1].connected, 42);
    assert.equal(log.filter(([n]) => n === "onevent").length, 0);
    assert.equal(conn.seq, 15, "every event up to the tally's seq was already sent");
    ws.receive({ type: "QuestionApproved", seq: 17, at: 1, question: { id: "q1" } });
    ws.receive({ type: "Tally", seq: 16, questions: {}, polls: {} });
    assert.equal(conn.seq, 17, "an older tally does not move it back");
    assert.equal(log.filter(([n]) => n === "ontally").length, 2, "the tally is still delivered");
  });

  test("Broadcast news has its own callback, moves no seq, and is dropped without a boolean live", () => {
    const { conn, log } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws, { seq: 10 });
    ws.receive({ type: "Broadcast", live: false, ended: true });
    ws.receive({ type: "Broadcast", live: "yes" });
    ws.receive({ type: "Broadcast" });
    const news = log.filter(([n]) => n === "onbroadcast");
    assert.equal(news.length, 1);
    assert.equal(news[0][1].ended, true);
    assert.equal(log.filter(([n]) => n === "onevent").length, 0);
    assert.equal(conn.seq, 10);
  });

  test("a passive client resumes from the last tally's seq", () => {
    const { conn, clock } = setup();
    conn.connect();
    handshake(FakeSocket.last, { epoch: "e", seq: 10 });
    // A participant sees few events: the votes of others reach it only as tallies.
    FakeSocket.last.receive({ type: "Tally", seq: 480, scope: "public", questions: { q1: 30 }, polls: {} });
    FakeSocket.last.drop(1006);
    nextAttempt(clock);
    FakeSocket.last.open();
    assert.deepEqual(FakeSocket.last.sent[0].resume, { epoch: "e", seq: 480 });
  });

  test("garbage frames are ignored", () => {
    const { conn, log } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    const before = log.length;
    ws.onmessage({ data: "not json" });
    ws.onmessage({ data: "[1,2]" });
    ws.onmessage({ data: new ArrayBuffer(2) });
    assert.equal(log.length, before);
  });
});

describe("commands", () => {
  test("send() numbers refs c1, c2… and resolves on the matching Ack", async () => {
    const { conn } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    const a = conn.send({ type: "UpvoteQuestion", question_id: "q1" });
    const b = conn.send({ type: "WithdrawUpvote", question_id: "q2" });
    assert.deepEqual(ws.sent.slice(1).map((m) => m.ref), ["c1", "c2"]);
    ws.receive({ type: "Ack", ref: "c2", seq: 12 });
    ws.receive({ type: "Ack", ref: "c1", seq: 11 });
    assert.equal((await a).seq, 11);
    assert.equal((await b).seq, 12);
  });

  test("an Error with the ref rejects with its code; one without a ref goes to onerror", async () => {
    const { conn, log } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    const p = conn.send({ type: "AskQuestion", text: "hi", anonymous: false });
    ws.receive({ type: "Error", ref: "c1", code: "rate_limited", message: "slow down" });
    await assert.rejects(p, (err) => err.code === "rate_limited" && err.retried === false);
    ws.receive({ type: "Error", code: "invalid", message: "?" });
    assert.equal(log.find(([n]) => n === "onerror")[1].code, "invalid");
  });

  test("AskQuestion gets a client_key; one given by the caller is kept", () => {
    const { conn } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    conn.send({ type: "AskQuestion", text: "a", anonymous: true });
    conn.send({ type: "AskQuestion", text: "b", anonymous: true, client_key: "mine" });
    conn.send({ type: "UpvoteQuestion", question_id: "q" });
    const [first, second, vote] = ws.sent.slice(1);
    assert.match(first.client_key, /^k[0-9a-z]+$/);
    assert.ok(first.client_key.length <= 64);
    assert.equal(second.client_key, "mine");
    assert.equal(vote.client_key, undefined);
  });

  test("CreatePoll gets a client_key too, and keeps it when re-sent after a reconnect", async () => {
    const { conn, clock } = setup();
    conn.connect();
    handshake(FakeSocket.last);
    const p = conn.send({ type: "CreatePoll", question: "Q?", options: ["a", "b"], multiple: false });
    const first = FakeSocket.last.sentOfType("CreatePoll")[0];
    assert.match(first.client_key, /^k[0-9a-z]+$/);
    assert.ok(first.client_key.length <= 64);
    FakeSocket.last.drop(1006);
    nextAttempt(clock);
    handshake(FakeSocket.last);
    const resent = FakeSocket.last.sentOfType("CreatePoll");
    assert.equal(resent.length, 1);
    assert.equal(resent[0].client_key, first.client_key);
    FakeSocket.last.receive({ type: "Ack", ref: first.ref, seq: 11 });
    assert.equal((await p).seq, 11);
    conn.send({ type: "OpenPoll", poll_id: "p1" });
    assert.equal(FakeSocket.last.sentOfType("OpenPoll")[0].client_key, undefined);
  });

  test("commands sent while offline wait for Welcome + state, then go once, in order", async () => {
    const { conn } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    const p1 = conn.send({ type: "AskQuestion", text: "offline", anonymous: false });
    conn.send({ type: "UpvoteQuestion", question_id: "q1" });
    assert.equal(conn.queued, 2);
    ws.open();
    ws.receive({ type: "Welcome", v: 1, role: "participant", session: "s" });
    assert.deepEqual(ws.sent.map((m) => m.type), ["Hello"], "not before the state");
    ws.receive({ type: "Snapshot", epoch: "e", seq: 1, state: SNAPSHOT_STATE });
    assert.deepEqual(ws.sent.map((m) => m.type), ["Hello", "AskQuestion", "UpvoteQuestion"]);
    assert.equal(conn.queued, 0);
    ws.receive({ type: "Ack", ref: "c1", seq: 2 });
    await p1;
  });

  test("an AskQuestion unanswered when the socket drops is re-sent exactly once, same client_key", async () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws1 = FakeSocket.last;
    handshake(ws1, { epoch: "e", seq: 5 });
    const p = conn.send({ type: "AskQuestion", text: "survive", anonymous: false });
    const original = ws1.sentOfType("AskQuestion")[0];
    ws1.drop(1006);
    assert.equal(conn.status, "offline");
    assert.equal(conn.queued, 1);

    nextAttempt(clock);
    const ws2 = FakeSocket.last;
    assert.notEqual(ws2, ws1);
    ws2.open();
    assert.deepEqual(ws2.sent[0].resume, { epoch: "e", seq: 5 });
    ws2.receive({ type: "Welcome", v: 1, role: "participant", session: "s" });
    ws2.receive({ type: "Resumed", epoch: "e", from: 5, seq: 8 });
    const resent = ws2.sentOfType("AskQuestion");
    assert.equal(resent.length, 1);
    assert.equal(resent[0].client_key, original.client_key);
    assert.equal(resent[0].ref, original.ref);
    ws2.receive({ type: "Ack", ref: original.ref, seq: 9 });
    await p;

    // Acknowledged: a later reconnect sends nothing again.
    ws2.drop(1000);
    nextAttempt(clock);
    const ws3 = FakeSocket.last;
    handshake(ws3, { epoch: "e", seq: 9 });
    assert.equal(ws3.sentOfType("AskQuestion").length, 0);
  });

  test("a re-sent command refused as conflict is flagged retried", async () => {
    const { conn, clock } = setup();
    conn.connect();
    handshake(FakeSocket.last);
    const p = conn.send({ type: "ApproveQuestion", question_id: "q1" });
    FakeSocket.last.drop(1006);
    nextAttempt(clock);
    handshake(FakeSocket.last);
    FakeSocket.last.receive({ type: "Error", ref: "c1", code: "conflict", message: "" });
    await assert.rejects(p, (err) => err.code === "conflict" && err.retried === true);
  });
});

describe("resume", () => {
  test("Resumed keeps the state and the last seq actually applied", () => {
    const { conn, clock, log } = setup();
    conn.connect();
    handshake(FakeSocket.last, { epoch: "e", seq: 42 });
    FakeSocket.last.drop(1006);
    nextAttempt(clock);
    const ws = FakeSocket.last;
    ws.open();
    assert.deepEqual(ws.sent[0].resume, { epoch: "e", seq: 42 });
    ws.receive({ type: "Welcome", v: 1, role: "stage", session: "s" });
    ws.receive({ type: "Resumed", epoch: "e", from: 42, seq: 57 });
    const resumed = log.filter(([n]) => n === "onsnapshot").at(-1);
    assert.equal(resumed[1], null);
    assert.equal(resumed[2], true);
    assert.equal(conn.seq, 42, "advanced only by the replayed events");
    ws.receive({ type: "QuestionAnswered", seq: 50, at: 0, question: { id: "q" } });
    assert.equal(conn.seq, 50);
    // Dropped mid-replay: resumes from 50, not from 57.
    ws.drop(1006);
    nextAttempt(clock);
    FakeSocket.last.open();
    assert.deepEqual(FakeSocket.last.sent[0].resume, { epoch: "e", seq: 50 });
  });

  test("a new Snapshot after a resume attempt replaces epoch and seq", () => {
    const { conn, clock } = setup();
    conn.connect();
    handshake(FakeSocket.last, { epoch: "old", seq: 42 });
    FakeSocket.last.drop(4008);
    nextAttempt(clock);
    handshake(FakeSocket.last, { epoch: "new", seq: 3 });
    assert.equal(conn.epoch, "new");
    assert.equal(conn.seq, 3);
  });
});

describe("reconnection", () => {
  test("backoffDelay doubles from 0.5 s to 15 s with equal jitter", () => {
    const low = () => 0;
    const high = () => 0.999999;
    assert.equal(backoffDelay(0, low), 250);
    assert.equal(backoffDelay(0, high), 500);
    assert.equal(backoffDelay(1, high), 1000);
    assert.equal(backoffDelay(2, high), 2000);
    assert.equal(backoffDelay(5, high), 15000);
    assert.equal(backoffDelay(50, high), 15000);
    assert.equal(backoffDelay(50, low), 7500);
    for (let i = 0; i < 40; i++) {
      const d = backoffDelay(i, Math.random);
      assert.ok(d >= 250 && d <= 15000, String(d));
    }
  });

  test("delays grow while failing and reset after a successful handshake", () => {
    const { conn, clock } = setup({ random: () => 0.999999 });
    conn.connect();
    const delays = [];
    for (let i = 0; i < 7; i++) {
      FakeSocket.last.drop(1006);
      delays.push(clock.pending().at(-1));
      clock.advance(clock.pending().at(-1));
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000]);
    handshake(FakeSocket.last);
    FakeSocket.last.drop(1011);
    assert.ok(clock.pending().includes(500));
  });

  for (const code of [1000, 1001, 1006, 1008, 1011, 4002, 4008]) {
    test(`reconnects after close ${code}`, () => {
      const { conn, clock } = setup();
      conn.connect();
      handshake(FakeSocket.last);
      FakeSocket.last.drop(code);
      assert.equal(conn.status, "offline");
      nextAttempt(clock);
      assert.equal(FakeSocket.instances.length, 2);
    });
  }

  for (const code of [4029, 4030]) {
    test(`says why after close ${code} (no identity for now), then retries`, () => {
      const { conn, clock, log } = setup();
      conn.connect();
      FakeSocket.last.open();
      FakeSocket.last.drop(code);
      assert.equal(conn.status, "offline");
      assert.deepEqual(log.find(([n]) => n === "onrefused"), ["onrefused", code]);
      assert.equal(log.find(([n]) => n === "onfatal"), undefined);
      nextAttempt(clock);
      assert.equal(FakeSocket.instances.length, 2);
    });
  }

  for (const code of [4001, 4003, 4004, 4005]) {
    test(`gives up after close ${code} and rejects waiting commands`, async () => {
      const { conn, clock, log } = setup();
      conn.connect();
      FakeSocket.last.open();
      const p = conn.send({ type: "UpvoteQuestion", question_id: "q" });
      FakeSocket.last.drop(code);
      assert.equal(conn.status, "fatal");
      assert.deepEqual(log.find(([n]) => n === "onfatal"), ["onfatal", code]);
      await assert.rejects(p, (err) => err.code === "closed");
      clock.advance(60000);
      assert.equal(FakeSocket.instances.length, 1);
      await assert.rejects(conn.send({ type: "Ping" }), (err) => err.code === "closed");
    });
  }

  test("reconnectNow skips the wait", () => {
    const { conn } = setup();
    conn.connect();
    handshake(FakeSocket.last);
    FakeSocket.last.drop(1006);
    conn.reconnectNow();
    assert.equal(FakeSocket.instances.length, 2);
    assert.equal(conn.status, "connecting");
  });

  test("close() stops for good", () => {
    const { conn, clock } = setup();
    conn.connect();
    handshake(FakeSocket.last);
    const ws = FakeSocket.last;
    conn.close();
    assert.equal(ws.closedWith, 1000);
    clock.advance(60000);
    assert.equal(FakeSocket.instances.length, 1);
  });
});

describe("liveness", () => {
  test("pings after 25 s of silence and drops a socket that stays silent", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    clock.advance(24000);
    assert.equal(ws.sentOfType("Ping").length, 0);
    ws.receive({ type: "Presence", connected: 1 }); // traffic postpones the ping
    clock.advance(24000);
    assert.equal(ws.sentOfType("Ping").length, 0);
    clock.advance(1000);
    assert.equal(ws.sentOfType("Ping").length, 1);
    ws.receive({ type: "Pong" });
    clock.advance(25000);
    assert.equal(ws.sentOfType("Ping").length, 2);
    clock.advance(10000); // no answer
    assert.equal(ws.closedWith, 1000);
    assert.equal(conn.status, "offline");
    nextAttempt(clock);
    assert.equal(FakeSocket.instances.length, 2);
  });

  test("a command unanswered for 5 s sends a Ping; 5 s more of silence drop the socket", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    conn.send({ type: "AskQuestion", text: "Ça passe ?", anonymous: true }).catch(() => {});
    const key = ws.sentOfType("AskQuestion")[0].client_key;
    clock.advance(4999);
    assert.equal(ws.sentOfType("Ping").length, 0);
    clock.advance(1);
    assert.equal(ws.sentOfType("Ping").length, 1, "checked after 5 s, not after 25 s");
    assert.equal(conn.status, "open");
    clock.advance(4999);
    assert.equal(ws.closedWith, null);
    clock.advance(1);
    assert.equal(ws.closedWith, 1000, "dead after 10 s in all, not 35 s");
    assert.equal(conn.status, "offline");
    nextAttempt(clock);
    const ws2 = FakeSocket.last;
    assert.notEqual(ws2, ws);
    handshake(ws2);
    const resent = ws2.sentOfType("AskQuestion");
    assert.equal(resent.length, 1);
    assert.equal(resent[0].client_key, key, "the same client_key: the server creates it once");
  });

  test("no check while commands are answered in time", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    for (let i = 0; i < 5; i++) {
      conn.send({ type: "UpvoteQuestion", question_id: "q1" });
      clock.advance(3000);
      const { ref } = ws.sent.at(-1);
      ws.receive({ type: "Ack", ref });
    }
    clock.advance(20000); // 23 s since the last frame: the idle ping is not due yet
    assert.equal(ws.sentOfType("Ping").length, 0);
    assert.equal(clock.pending().length, 1, "only the idle timer is left");
  });

  test("a newer command is checked 5 s after its own sending", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    conn.send({ type: "UpvoteQuestion", question_id: "q1" });
    clock.advance(3000);
    conn.send({ type: "UpvoteQuestion", question_id: "q2" });
    ws.receive({ type: "Ack", ref: ws.sent.at(-2).ref }); // the first is answered
    clock.advance(2000);
    assert.equal(ws.sentOfType("Ping").length, 0);
    clock.advance(3000);
    assert.equal(ws.sentOfType("Ping").length, 1);
  });

  test("a socket that answers the check is kept; the late command is checked again later", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    const p = conn.send({ type: "UpvoteQuestion", question_id: "q1" });
    clock.advance(5000);
    assert.equal(ws.sentOfType("Ping").length, 1);
    clock.advance(200);
    ws.receive({ type: "Pong" });
    clock.advance(4800);
    assert.equal(ws.closedWith, null);
    assert.equal(ws.sentOfType("Ping").length, 2, "still no answer: another check");
    ws.receive({ type: "Ack", ref: ws.sentOfType("UpvoteQuestion")[0].ref });
    clock.advance(30000);
    assert.equal(ws.closedWith, null);
    assert.equal(FakeSocket.instances.length, 1);
    return p;
  });

  test("networkLost: offline at once, open again when the socket answers", () => {
    const { conn, clock, log } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    conn.networkLost();
    assert.equal(conn.status, "offline");
    assert.equal(ws.sentOfType("Ping").length, 1);
    clock.advance(1000);
    ws.receive({ type: "Pong" });
    assert.equal(conn.status, "open");
    assert.deepEqual(log.filter(([n]) => n === "onstatus").map(([, s]) => s), ["connecting", "open", "offline", "open"]);
    clock.advance(10000);
    assert.equal(ws.closedWith, null);
    assert.equal(FakeSocket.instances.length, 1);
  });

  test("networkLost: a silent socket is dropped after 5 s and reconnection starts", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    handshake(ws);
    clock.advance(20000); // an idle ping is due in 5 s, its verdict 10 s later: the probe is sooner
    conn.networkLost();
    clock.advance(4999);
    assert.equal(ws.closedWith, null);
    clock.advance(1);
    assert.equal(ws.closedWith, 1000);
    assert.equal(conn.status, "offline");
    nextAttempt(clock);
    assert.equal(FakeSocket.instances.length, 2);
  });

  test("networkLost while disconnected only reports it", () => {
    const { conn, clock } = setup();
    conn.connect();
    FakeSocket.last.drop(1006);
    conn.networkLost();
    assert.equal(conn.status, "offline");
    nextAttempt(clock);
    assert.equal(FakeSocket.instances.length, 2);
  });

  test("a handshake that never completes is given up after 10 s", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last; // never opens: packets lost
    clock.advance(9999);
    assert.equal(FakeSocket.instances.length, 1);
    clock.advance(1);
    assert.equal(ws.closedWith, 1000);
    assert.equal(conn.status, "offline");
    nextAttempt(clock);
    handshake(FakeSocket.last);
    assert.equal(conn.status, "open");
    clock.advance(10000);
    assert.equal(FakeSocket.instances.length, 2, "no timeout once ready");
  });

  test("a slow Snapshot after the Welcome is waited for", () => {
    const { conn, clock } = setup();
    conn.connect();
    const ws = FakeSocket.last;
    ws.open();
    clock.advance(3000);
    ws.receive({ type: "Welcome", v: 1, role: "participant", session: "s", participant: { id: "p_1", key: "k1" } });
    clock.advance(20000);
    assert.equal(ws.closedWith, null);
    ws.receive({ type: "Snapshot", epoch: "e", seq: 1, state: SNAPSHOT_STATE });
    assert.equal(conn.status, "open");
    assert.equal(FakeSocket.instances.length, 1);
  });

  test("reconnectNow starts over an attempt stuck in its handshake, and leaves a ready one", () => {
    const { conn } = setup();
    conn.connect();
    const stuck = FakeSocket.last;
    conn.reconnectNow();
    assert.equal(stuck.closedWith, 1000);
    assert.equal(FakeSocket.instances.length, 2);
    handshake(FakeSocket.last);
    conn.reconnectNow();
    assert.equal(FakeSocket.instances.length, 2);
    assert.equal(conn.status, "open");
  });
});
