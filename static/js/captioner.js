// Captioner page: live captions typed a line at a time. Enter sends the line (a final one: a
// person types finished lines; partial results are for speech-to-text services, over HTTP).
// Lines typed while offline wait in the connection's outbox, with their client key, and go once
// the connection returns; the list shows them as waiting, then as every page received them.

import { byId, errorText, h, notify, pageData, reconcile, setText, showFatal, showStatus, startLive, storage } from "./dom.js";
import { formatTime, localizeDates, pageLang, t } from "./i18n.js";
import { languageName } from "./caption-lines.js";

const LANGUAGE_KEY = "tribune.captioner.language";
const SENT_SHOWN = 12;

const ui = {
  status: byId("conn-status"),
  fatal: byId("fatal"),
  form: /** @type {HTMLFormElement} */ (byId("caption-form")),
  language: /** @type {HTMLSelectElement} */ (byId("caption-language")),
  text: /** @type {HTMLTextAreaElement} */ (byId("caption-text")),
  counter: byId("caption-counter"),
  notice: byId("notice"),
  sent: byId("caption-sent"),
  none: byId("caption-none"),
};

const view = {
  maxChars: Number(ui.text.maxLength) || 300,
  /** lines sent and not yet acknowledged */
  waiting: /** @type {{ref: number, language: string, text: string}[]} */ ([]),
};
let localRef = 0;

localizeDates(document);
for (const option of ui.language.options) option.textContent = languageName(option.value, pageLang());
// The language chosen last time for this session, if it still is one of its languages.
const remembered = (storage.get(LANGUAGE_KEY) || {})[pageData().session];
if ([...ui.language.options].some((o) => o.value === remembered)) ui.language.value = remembered;

const live = startLive({
  render,
  onstatus: (status) => {
    showStatus(ui.status, status, "captioner");
    live.requestRender();
  },
  onfatal: (code) => showFatal(ui.fatal, code),
  onerror: (msg) => notify(ui.notice, errorText(msg), "error"),
  onwelcome: (msg) => {
    const max = msg.limits && msg.limits.caption_chars;
    if (typeof max === "number" && max > 0) {
      view.maxChars = max;
      ui.text.maxLength = max;
      updateCounter();
    }
  },
});

function updateCounter() {
  setText(ui.counter, t("captioner.counter", { count: ui.text.value.length, max: view.maxChars }));
  ui.counter.classList.toggle("is-near-limit", ui.text.value.length > view.maxChars * 0.9);
}

ui.text.addEventListener("input", updateCounter);
// Enter sends the line; nothing else (a caption is one line). Not while an input method is
// composing a character: that Enter belongs to it.
ui.text.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.isComposing && !ev.shiftKey) {
    ev.preventDefault();
    ui.form.requestSubmit();
  }
});
ui.language.addEventListener("change", () => {
  const chosen = storage.get(LANGUAGE_KEY) || {};
  storage.set(LANGUAGE_KEY, { ...chosen, [pageData().session]: ui.language.value });
  ui.text.focus();
});

ui.form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = ui.text.value.replace(/\s+/g, " ").trim();
  if (!text) return;
  const item = { ref: ++localRef, language: ui.language.value, text };
  view.waiting.push(item);
  ui.text.value = "";
  updateCounter();
  ui.text.focus();
  if (live.conn.status !== "open") notify(ui.notice, t("captioner.queued"));
  live.requestRender();
  live.conn
    .send({ type: "PostCaption", language: item.language, text, final: true })
    .catch((err) => {
      notify(ui.notice, errorText(err), "error");
      // The line is not lost: back in the field, unless the captioner went on typing.
      if (!ui.text.value) {
        ui.text.value = text;
        updateCounter();
      }
    })
    .finally(() => {
      view.waiting = view.waiting.filter((w) => w !== item);
      live.requestRender();
    });
});

/** @param {{key: string}} item */
function createLine(item) {
  const li = h("li", { class: "captioner__line", dataset: { testid: "caption-sent-line" } });
  li.append(h("span", { class: "captioner__meta" }), h("span", { class: "captioner__said" }));
  return li;
}

/**
 * @param {HTMLElement} li
 * @param {{key: string, language: string, text: string, at: number|null}} item `at` null: waiting
 */
function updateLine(li, item) {
  const [meta, said] = /** @type {HTMLElement[]} */ ([...li.children]);
  const when = item.at === null ? t("captioner.waiting") : formatTime(item.at);
  setText(meta, `${when} · ${item.language.toUpperCase()}`);
  setText(said, item.text);
  said.lang = item.language;
  li.dataset.state = item.at === null ? "waiting" : "sent";
}

/** @param {import("./state.js").State} state */
function render(state) {
  // Newest first: the lines waiting for the connection, then those every page was sent.
  const waiting = [...view.waiting].reverse().map((w) => ({ key: `w${w.ref}`, language: w.language, text: w.text, at: null }));
  /** @type {Map<string, number>} the same line twice in a millisecond stays two lines */
  const seen = new Map();
  const sent = [...state.captions.lines].reverse().map((c) => {
    const base = `${c.at}:${c.language}:${c.text}`;
    seen.set(base, (seen.get(base) || 0) + 1);
    return { key: `${base}:${seen.get(base)}`, language: c.language, text: c.text, at: c.at };
  });
  const items = [...waiting, ...sent].slice(0, SENT_SHOWN);
  reconcile(ui.sent, items, (i) => i.key, createLine, updateLine);
  ui.none.hidden = items.length > 0;
}
