// Catalogs and page hygiene: both languages have the same keys and placeholders, every key the
// templates and scripts use exists, and the pages keep to the Content-Security-Policy rules.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { createTranslator, format } from "../../static/js/i18n.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (...p) => readFileSync(join(root, ...p), "utf8");
const fr = JSON.parse(read("live", "i18n", "fr.json"));
const en = JSON.parse(read("live", "i18n", "en.json"));
const es = JSON.parse(read("live", "i18n", "es.json"));
const templates = readdirSync(join(root, "templates")).filter((f) => f.endsWith(".html"));
const scripts = readdirSync(join(root, "static", "js")).filter((f) => f.endsWith(".js"));

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** The catalog key or its plural forms. */
const hasKey = (cat, key) => key in cat || (`${key}.one` in cat && `${key}.other` in cat);

describe("catalogs", () => {
  test("no key is written twice in a catalog (JSON keeps the last, silently)", () => {
    // Keys are added next to related ones by several hands at once: a second "poll.x" would
    // replace the first's wording, placeholders included, for every page that uses it.
    for (const lang of ["fr", "en", "es"]) {
      const keys = [...read("live", "i18n", `${lang}.json`).matchAll(/^\s*"([^"]+)"\s*:/gm)].map((m) => m[1]);
      assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], `${lang}.json`);
    }
  });

  test("fr and en have the same keys", () => {
    const a = Object.keys(fr).sort();
    const b = Object.keys(en).sort();
    assert.deepEqual(
      a.filter((k) => !(k in en)).concat(b.filter((k) => !(k in fr))),
      [],
      "keys present in only one catalog",
    );
  });

  test("values are non-empty strings with the same placeholders in both languages", () => {
    for (const key of Object.keys(fr)) {
      assert.equal(typeof fr[key], "string", key);
      assert.ok(fr[key].length > 0 && en[key].length > 0, key);
      assert.deepEqual(placeholders(fr[key]), placeholders(en[key]), key);
    }
  });

  test("every literal key used by templates and scripts exists", () => {
    const used = new Set();
    const literal = /\bt\(\s*["']([a-z0-9_.-]+)["']\s*[,)]/g;
    const ternary = /\bt\([^)"'`]*\?\s*["']([a-z0-9_.-]+)["']\s*:\s*["']([a-z0-9_.-]+)["']/g;
    for (const f of templates) for (const m of read("templates", f).matchAll(literal)) used.add(m[1]);
    for (const f of scripts) {
      const src = read("static", "js", f);
      for (const m of src.matchAll(literal)) used.add(m[1]);
      for (const m of src.matchAll(ternary)) used.add(m[1]).add(m[2]);
    }
    assert.ok(used.size > 50, `found only ${used.size} keys: the scan is broken`);
    const missing = [...used].filter((k) => !hasKey(fr, k));
    assert.deepEqual(missing, []);
  });

  test("keys built at run time exist for every value they can take", () => {
    const families = {
      "kind.": ["plenary", "workshop", "micro-workshop", "meeting", "interview"],
      "status.": ["pending", "approved", "dismissed", "answered", "archived", "sending"],
      "queue.": ["pending", "approved", "answered", "archived", "dismissed"],
      "queue.empty.": ["pending", "approved", "answered", "archived", "dismissed"],
      "questions.empty.": ["questions", "answered", "mine"],
      "poll.status.": ["draft", "open", "closed"],
      "poll.action.": ["open", "reopen", "close", "on_stage", "clear_stage", "reveal", "hide"],
      "action.": ["approve", "edit", "on_stage", "clear_stage", "take_off_stage", "dismiss", "answered", "star", "unstar", "archive", "restore", "ban", "unban"],
      "error.": ["invalid", "unknown_type", "forbidden", "banned", "not_found", "conflict", "rate_limited", "not_interactive", "unavailable", "address_limited", "closed", "generic"],
      "conn.": ["idle", "connecting", "open", "offline", "fatal"],
      "fatal.": ["4001", "4003", "4004", "4005", "other"],
      "refused.": ["4029", "4030"],
      "player.state.": ["connecting", "waiting", "live", "stalled", "ended", "reconnecting", "busy", "unavailable", "unsupported"],
      "studio.onair.": ["off", "connecting", "live", "reconnecting", "error"],
      "studio.quality.": ["720", "480", "360"],
      "studio.limitation.": ["bandwidth", "cpu", "other"],
      "programme.form.kind.": ["plenary", "workshop", "micro-workshop", "meeting", "interview", "break"],
      // The programme form's labels (title_en…) and the refusals static/js/programme-draft.js names.
      "programme.form.": ["title", "title_en", "title_es", "description", "description_en", "description_es",
        "interactive", "streamed", "premoderation", "day_date_needed", "day_taken", "day_last",
        "day_has_sessions", "id_needed", "id_pattern", "id_taken", "title_needed", "end_before_start"],
    };
    const missing = [];
    for (const [prefix, values] of Object.entries(families)) {
      for (const v of values) if (!hasKey(fr, prefix + v)) missing.push(prefix + v);
    }
    if (!("lang.name" in fr)) missing.push("lang.name"); // the switcher: each language's own name
    assert.deepEqual(missing, []);
  });
});

describe("translator", () => {
  test("format fills placeholders and leaves unknown ones", () => {
    assert.equal(format("{a} and {b}", { a: 1 }), "1 and {b}");
  });

  test("plural forms follow the language's rules", () => {
    const tfr = createTranslator(fr, "fr");
    const ten = createTranslator(en, "en");
    const tes = createTranslator(es, "es");
    assert.equal(tfr("poll.ballots", { count: 0 }), "0 participation"); // French: 0 is singular
    assert.equal(tfr("poll.ballots", { count: 2 }), "2 participations");
    assert.equal(tes("poll.ballots", { count: 0 }), "0 participaciones"); // Spanish: 0 is plural
    assert.equal(tes("poll.ballots", { count: 1 }), "1 participación");
    assert.equal(tes("poll.ballots", { count: 1000000 }), "1000000 participaciones"); // "many": other
    assert.equal(ten("poll.ballots", { count: 0 }), "0 voters");
    assert.equal(ten("poll.ballots", { count: 1 }), "1 voter");
    assert.equal(ten("poll.percent", { percent: 100 }), "100%");
  });

  test("a missing key shows the key", () => {
    assert.equal(createTranslator({}, "fr")("nope.key"), "nope.key");
  });
});

describe("page hygiene (CSP: script-src 'self'; style-src 'self')", () => {
  test("templates have no inline script code, style attributes or event handler attributes", () => {
    for (const f of templates) {
      const html = read("templates", f);
      for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
        const attrs = m[1];
        const isModule = /type="module"/.test(attrs) && /src="\/static\/js\/[a-z-]+\.js"/.test(attrs) && m[2].trim() === "";
        const isData = /type="application\/json"/.test(attrs);
        assert.ok(isModule || isData, `${f}: inline or non-module script: ${m[0].slice(0, 80)}`);
      }
      assert.doesNotMatch(html, /\sstyle\s*=/i, `${f}: style attribute`);
      assert.doesNotMatch(html, /<style\b/i, `${f}: style element`);
      assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${f}: on* handler attribute`);
      assert.doesNotMatch(html, /javascript:/i, `${f}: javascript: URL`);
    }
  });

  test("scripts never use innerHTML / insertAdjacentHTML / document.write / eval", () => {
    for (const f of scripts) {
      const src = read("static", "js", f);
      assert.doesNotMatch(src, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, f);
    }
  });

  test("protocol.js, outbox.js, state.js, whip.js and programme-draft.js touch no DOM", () => {
    for (const f of ["protocol.js", "outbox.js", "state.js", "whip.js", "programme-draft.js"]) {
      const code = read("static", "js", f).replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
      assert.doesNotMatch(code, /\b(document|window|localStorage|location)\b/, f);
    }
  });

  test("modules stay small", () => {
    for (const f of scripts) {
      const lines = read("static", "js", f).split("\n").length;
      assert.ok(lines < 450, `${f} has ${lines} lines`);
    }
  });
});
