import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { KEY_PREFIX, keepTokenOutOfAddressBar, keptLink, pageKind } from "../../static/js/linktoken.js";

/** A tab: its address, history and sessionStorage, and where it was sent. */
function tab(href, stored = {}) {
  const storage = new Map(Object.entries(stored));
  const win = {
    location: { href, replace(url) { win.replaced = url; } },
    history: { state: { kept: true }, replaceState(state, _title, url) { win.location.href = new URL(url, win.location.href).href; win.pushedState = state; } },
    sessionStorage: {
      getItem: (k) => (storage.has(k) ? storage.get(k) : null),
      setItem: (k, v) => storage.set(k, v),
      removeItem: (k) => storage.delete(k),
    },
    replaced: null,
    pushedState: null,
    storage,
  };
  return win;
}

const SESSION_PAGE = { kind: "session" };

describe("the token leaves the address bar", () => {
  test("a session page keeps its other parameters and its history state", () => {
    const win = tab("https://live.example.org/s/pleniere?lang=en&t=TOKEN.SIG#polls");
    assert.equal(keepTokenOutOfAddressBar(win, SESSION_PAGE), "hidden");
    assert.equal(win.location.href, "https://live.example.org/s/pleniere?lang=en#polls");
    assert.deepEqual(win.pushedState, { kept: true });
    assert.equal(win.storage.get(`${KEY_PREFIX}/s/pleniere`), "TOKEN.SIG");
    assert.equal(win.replaced, null);
  });

  test("a reload (no token, 401) asks again once with the token this tab kept", () => {
    const win = tab("https://live.example.org/s/pleniere?lang=en", { [`${KEY_PREFIX}/s/pleniere`]: "TOKEN.SIG" });
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "error", status: 401 }), "restored");
    assert.equal(win.replaced, "https://live.example.org/s/pleniere?lang=en&t=TOKEN.SIG");
  });

  test("a bookmark in another tab (nothing kept) stays on the server's page", () => {
    const win = tab("https://live.example.org/moderate/pleniere");
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "error", status: 401 }), "none");
    assert.equal(win.replaced, null);
  });

  test("a refused token is hidden and forgotten, so a reload cannot loop", () => {
    const win = tab("https://live.example.org/s/pleniere?t=REVOKED", { [`${KEY_PREFIX}/s/pleniere`]: "REVOKED" });
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "error", status: 401 }), "hidden");
    assert.equal(win.location.href, "https://live.example.org/s/pleniere");
    assert.equal(win.storage.size, 0);
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "error", status: 401 }), "none");
  });

  test("another path's token is not used, nor is one on a 403 or 404", () => {
    const win = tab("https://live.example.org/stage/pleniere", { [`${KEY_PREFIX}/s/pleniere`]: "TOKEN" });
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "error", status: 401 }), "none");
    const forbidden = tab("https://live.example.org/s/x", { [`${KEY_PREFIX}/s/x`]: "TOKEN" });
    assert.equal(keepTokenOutOfAddressBar(forbidden, { kind: "error", status: 403 }), "none");
  });

  test("the programme: kept while it shows session links, restored when it shows none", () => {
    const win = tab("https://live.example.org/?t=PUBLIC&lang=fr");
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "programme", linked: true }), "hidden");
    assert.equal(win.location.href, "https://live.example.org/?lang=fr");
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "programme", linked: false }), "restored");
    assert.equal(win.replaced, "https://live.example.org/?lang=fr&t=PUBLIC");
    const linked = tab("https://live.example.org/", { [`${KEY_PREFIX}/`]: "PUBLIC" });
    assert.equal(keepTokenOutOfAddressBar(linked, { kind: "programme", linked: true }), "none");
  });

  test("a browser that refuses sessionStorage still hides the token", () => {
    const win = tab("https://live.example.org/s/pleniere?t=TOKEN");
    win.sessionStorage = { getItem() { throw new Error("denied"); }, setItem() { throw new Error("denied"); }, removeItem() { throw new Error("denied"); } };
    assert.equal(keepTokenOutOfAddressBar(win, SESSION_PAGE), "hidden");
    assert.equal(win.location.href, "https://live.example.org/s/pleniere");
    assert.equal(keepTokenOutOfAddressBar(win, { kind: "error", status: 401 }), "none");
  });
});

describe("pageKind", () => {
  const body = (role, classes = [], status) => ({
    dataset: { ...(role ? { role } : {}), ...(status ? { status } : {}) },
    classList: { contains: (c) => classes.includes(c) },
  });
  test("reads what the templates mark", () => {
    for (const role of ["participant", "moderator", "stage", "studio"]) {
      assert.deepEqual(pageKind(body(role), () => null), { kind: "session" });
    }
    assert.deepEqual(pageKind(body("programme"), () => null), { kind: "programme", linked: true });
    assert.deepEqual(pageKind(body("programme"), () => ({})), { kind: "programme", linked: false });
    assert.deepEqual(pageKind(body("", ["page-error"], "401"), () => null), { kind: "error", status: 401 });
    assert.deepEqual(pageKind(body(""), () => null), { kind: "other" });
  });
});

describe("asking the page again", () => {
  test("with the token this tab kept once it left the address bar", () => {
    const win = tab("https://live.example.org/?t=TOKEN.SIG&lang=en");
    keepTokenOutOfAddressBar(win, { kind: "programme", linked: true });
    assert.equal(keptLink(win), "https://live.example.org/?lang=en&t=TOKEN.SIG");
  });

  test("nothing kept: no link to ask with", () => {
    assert.equal(keptLink(tab("https://live.example.org/?lang=en")), null);
  });
});
