// The booth chat as pages keep it (static/js/booth-lines.js, through state.js): the latest
// messages, once each; which are the page's own; which its live region announces; the page's id;
// and a message re-sent after a reconnect keeps its key.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  BOOTH_KEPT, addBoothMessage, boothFromSnapshot, deviceId, isOwn, partnerArrivals, stillWaiting,
} from "../../static/js/booth-lines.js";
import { Outbox } from "../../static/js/outbox.js";
import { applyEvent, applySnapshot } from "../../static/js/state.js";

const message = (id, text, device = null, sender = null) => ({ id, language: "en", text, at: 1000, sender, device });

/** A Storage that keeps what it is given (or refuses everything). */
function memoryStore(refuse = false) {
  const kept = new Map();
  return {
    kept,
    getItem: (k) => {
      if (refuse) throw new Error("SecurityError");
      return kept.has(k) ? kept.get(k) : null;
    },
    setItem: (k, v) => {
      if (refuse) throw new Error("QuotaExceededError");
      kept.set(k, v);
    },
  };
}

describe("booth chat", () => {
  test("a snapshot's booth and each event's message make the state; pages outside a booth keep none", () => {
    let s = applySnapshot({ booth: [message("b1", "one"), { id: 2 }, null] }, { epoch: "e", seq: 4 });
    assert.deepEqual(s.booth, [message("b1", "one")]);
    s = applyEvent(s, { type: "BoothMessageSent", seq: 5, booth_message: message("b2", "two") });
    assert.deepEqual(s.booth.map((m) => m.text), ["one", "two"]);
    assert.equal(applyEvent(s, { type: "BoothMessageSent", seq: 5, booth_message: message("b3", "x") }), s); // seen
    assert.deepEqual(applySnapshot({}, {}).booth, []);
    const other = applyEvent(applySnapshot({}, { seq: 1 }), { type: "StageCleared", seq: 2, stage: {} });
    assert.deepEqual(other.booth, []);
  });

  test("the latest messages only, each once, in the order they came", () => {
    let list = boothFromSnapshot([]);
    for (let i = 0; i < BOOTH_KEPT + 5; i++) list = addBoothMessage(list, message(`b${i}`, `m${i}`));
    assert.equal(list.length, BOOTH_KEPT);
    assert.equal(list[0].text, "m5");
    assert.equal(list.at(-1).text, `m${BOOTH_KEPT + 4}`);
    assert.equal(addBoothMessage(list, message(`b${BOOTH_KEPT + 4}`, "again")), list);
    assert.equal(addBoothMessage(list, { id: "b-bad" }), list);
    const long = Array.from({ length: BOOTH_KEPT + 3 }, (_, i) => message(`s${i}`, `s${i}`));
    assert.equal(boothFromSnapshot(long)[0].text, "s3");
  });

  test("the page's own messages are those of its id; the partner's new ones are announced once", () => {
    const mine = message("b1", "mine", "dev-a");
    const theirs = message("b2", "theirs", "dev-b", "Lola");
    const unsigned = message("b3", "unsigned");
    assert.ok(isOwn(mine, "dev-a") && !isOwn(theirs, "dev-a") && !isOwn(unsigned, "dev-a"));
    assert.ok(!isOwn(unsigned, ""), "a page without an id owns nothing");
    const announced = new Set(["b1"]);
    assert.deepEqual(partnerArrivals([mine, theirs, unsigned], announced, "dev-a"), [theirs, unsigned]);
    assert.deepEqual([...announced], ["b1"], "the caller keeps the set");
    assert.deepEqual(partnerArrivals([mine, message("b4", "also mine", "dev-a")], new Set(), "dev-a"), []);
  });

  test("a message sent is shown waiting until it comes back, and never twice", () => {
    const old = message("b1", "ok", "dev-a");
    const first = { text: "ok", knew: new Set(["b1"]) };
    const second = { text: "ok", knew: new Set(["b1"]) };
    assert.deepEqual(stillWaiting([first, second], [old], "dev-a"), [first, second], "an older one is not it");
    assert.deepEqual(stillWaiting([first, second], [old, message("b2", "ok", "dev-b")], "dev-a"), [first, second],
      "the partner's is not it");
    assert.deepEqual(stillWaiting([first, second], [old, message("b2", "ok", "dev-a")], "dev-a"), [second],
      "each message comes back once");
    assert.deepEqual(stillWaiting([first, second], [old, message("b2", "ok", "dev-a"), message("b3", "ok", "dev-a")], "dev-a"), []);
  });

  test("the page's id is kept for the tab, and made afresh where storage refuses", () => {
    const store = memoryStore();
    let n = 0;
    const random = () => ((n += 1) * 0.137) % 1;
    const id = deviceId(store, random);
    assert.match(id, /^[\w-]{8,64}$/);
    assert.equal(deviceId(store, () => 0.5), id, "a reload keeps it");
    assert.notEqual(deviceId(memoryStore(), () => 0.9), id, "another tab has its own");
    assert.match(deviceId(memoryStore(true), () => 0), /^d0{21}$/, "padded: still a valid id");
    store.kept.set("tribune.booth.device", "<bad>");
    assert.notEqual(deviceId(store, () => 0.3), "<bad>");
    assert.match(deviceId(null, Math.random), /^d\w{21}$/);
  });

  test("a message gets a client key, kept when it is sent again after a reconnect", () => {
    const outbox = new Outbox(() => 0.25);
    const sent = [];
    outbox.add({ type: "SendBoothMessage", text: "hello" }, (m) => (sent.push(m), true));
    outbox.requeue();
    outbox.flush((m) => (sent.push(m), true));
    assert.equal(sent.length, 2);
    assert.ok(sent[0].client_key);
    assert.equal(sent[1].client_key, sent[0].client_key);
  });
});
