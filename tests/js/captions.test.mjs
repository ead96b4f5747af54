// The pages' caption lines (static/js/caption-lines.js): what a page keeps, which language it
// shows, what its live region announces; and a caption line re-sent after a reconnect keeps its key.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  CAPTION_LINES, addCaption, captionLanguages, captionsFromSnapshot, captionsIn, languageName, linesAfter, pickLanguage,
} from "../../static/js/caption-lines.js";
import { Outbox } from "../../static/js/outbox.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const line = (language, text, at, final = true) => ({ language, text, at, final });
const EMPTY = captionsFromSnapshot(undefined);

describe("caption lines", () => {
  test("a final line is kept and ends its language's line in progress, not the others'", () => {
    let c = addCaption(EMPTY, line("fr", "Bienv", 1, false));
    c = addCaption(c, line("en", "Welc", 2, false));
    assert.deepEqual(Object.keys(c.partials).sort(), ["en", "fr"]);
    c = addCaption(c, line("fr", "Bienvenue.", 3));
    assert.deepEqual(c.lines, [line("fr", "Bienvenue.", 3)]);
    assert.deepEqual(c.partials, { en: line("en", "Welc", 2, false) });
  });

  test("a partial result replaces the line in progress and joins no line", () => {
    let c = addCaption(EMPTY, line("fr", "Bien", 1, false));
    c = addCaption(c, line("fr", "Bienvenue à", 2, false));
    assert.deepEqual(c.lines, []);
    assert.equal(c.partials.fr.text, "Bienvenue à");
  });

  test("each language keeps its last lines, in the order they came", () => {
    let c = EMPTY;
    for (let i = 0; i < CAPTION_LINES + 3; i++) c = addCaption(c, line("fr", `fr ${i}`, i));
    c = addCaption(c, line("en", "en 0", 100));
    assert.equal(captionsIn(c, "fr").lines.length, CAPTION_LINES);
    assert.equal(captionsIn(c, "fr").lines[0].text, "fr 3");
    assert.deepEqual(c.lines.at(-1), line("en", "en 0", 100));
    const again = captionsFromSnapshot({ lines: [...c.lines, ...c.lines], partials: {} });
    assert.equal(again.lines.length, CAPTION_LINES + 2); // the last 8 of French, both English lines
  });

  test("a snapshot's captions are checked", () => {
    const c = captionsFromSnapshot({
      lines: [line("fr", "ok", 1), { language: "fr" }, null, line("en", 3, 1)],
      partials: { fr: line("fr", "en cours", 2, false), en: "nope" },
    });
    assert.deepEqual(c.lines, [line("fr", "ok", 1)]);
    assert.deepEqual(Object.keys(c.partials), ["fr"]);
    assert.equal(addCaption(c, { language: "fr" }), c);
  });

  test("languages with captions come in the session's order", () => {
    let c = addCaption(EMPTY, line("es", "Hola", 1));
    c = addCaption(c, line("de", "Hallo", 2, false));
    c = addCaption(c, line("fr", "Salut", 3));
    assert.deepEqual(captionLanguages(c, ["fr", "en", "es"]), ["fr", "es", "de"]);
  });

  test("the language shown: the one chosen, else the page's, else the floor's, else the first", () => {
    const session = ["fr", "en", "es"];
    assert.equal(pickLanguage(["fr", "en"], "en", "fr", session), "en");
    assert.equal(pickLanguage(["fr", "es"], "en", "es", session), "es");
    assert.equal(pickLanguage(["fr", "es"], "en", "en", session), "fr");
    assert.equal(pickLanguage(["es"], null, "en", session), "es");
    assert.equal(pickLanguage([], "fr", "fr", session), null);
  });

  test("only lines after the last one seen are announced, two at most", () => {
    const lines = [line("fr", "a", 1), line("fr", "b", 2), line("fr", "c", 3), line("fr", "d", 4)];
    assert.deepEqual(linesAfter(lines, lines[2]), [lines[3]]);
    assert.deepEqual(linesAfter(lines, lines[3]), []);
    assert.deepEqual(linesAfter(lines, null), []);
    assert.deepEqual(linesAfter(lines, lines[0]), [lines[2], lines[3]]);
    // The line seen is gone (a fresh Snapshot): the newer ones, by time.
    assert.deepEqual(linesAfter(lines.slice(1), line("fr", "x", 3)), [lines[3]]);
    // The same words said again later are a new line.
    const again = [...lines, line("fr", "d", 5)];
    assert.deepEqual(linesAfter(again, lines[3]), [again[4]]);
  });

  test("languages are named in the page's language", () => {
    assert.equal(languageName("en", "fr"), "Anglais");
    assert.equal(languageName("es", "en"), "Spanish");
    assert.equal(languageName("zz", "fr"), "ZZ");
  });

  test("a caption line gets a client key, kept when it is re-sent", () => {
    const outbox = new Outbox(() => 0.5);
    const sent = [];
    outbox.add({ type: "PostCaption", language: "fr", text: "x" }, (msg) => (sent.push(msg), true));
    outbox.requeue();
    outbox.flush((msg) => (sent.push(msg), true));
    assert.equal(sent.length, 2);
    assert.ok(sent[0].client_key && sent[0].client_key === sent[1].client_key);
  });

  test("caption-lines.js touches no DOM", () => {
    const code = readFileSync(join(root, "static", "js", "caption-lines.js"), "utf8")
      .replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    assert.doesNotMatch(code, /\b(document|window|localStorage|location)\b/);
  });
});
