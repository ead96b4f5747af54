// The booth chat on the interpreter's page: short lines between the two interpreters of one
// language's channel, who cannot speak to each other while a microphone is open. Only that
// booth's interpreters are sent them (docs/protocol.md, "Booth chat"). The page connects to the
// session for it (the rest of the booth console works over WHIP and WHEP); what it keeps and
// which messages are its own is static/js/booth-lines.js's (no DOM).
//
// Enter sends; a message typed while offline waits in the connection's outbox with its client
// key and goes once the connection returns. New messages of the partner are read out by screen
// readers (a polite live region); the page's own and those it had on loading are not.

import { byId, errorText, h, notify, reconcile, setText, showFatal, showStatus, startLive, storage } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { deviceId, isOwn, partnerArrivals, stillWaiting } from "./booth-lines.js";

const NAME_KEY = "tribune.booth.name";
const SHOWN = 20; // newest first, under the field: the latest are what matters in a booth
const ANNOUNCED = 3; // lines the screen-reader region keeps (it announces only additions)

const root = document.getElementById("booth-chat");
// The page imports this module before its own code runs: whatever goes wrong with the chat, the
// booth console (on air, cough, what the interpreter hears) must still work.
try {
  if (root) start(root);
} catch (err) {
  console.error("booth chat:", err);
}

/** @param {HTMLElement} panel */
function start(panel) {
  const ui = {
    form: /** @type {HTMLFormElement} */ (byId("booth-chat-form")),
    text: /** @type {HTMLInputElement} */ (byId("booth-chat-text")),
    name: /** @type {HTMLInputElement} */ (byId("booth-chat-name")),
    send: /** @type {HTMLButtonElement} */ (byId("booth-chat-send")),
    status: byId("booth-chat-status"),
    notice: byId("booth-chat-notice"),
    list: byId("booth-chat-messages"),
    none: byId("booth-chat-none"),
    live: byId("booth-chat-live"),
  };
  const device = deviceId(safeSessionStorage(), Math.random);
  /** messages sent and not yet acknowledged (with the ids the page had then), shown as waiting */
  let waiting = /** @type {{ref: number, text: string, knew: Set<string>}[]} */ ([]);
  let localRef = 0;
  /** @type {Set<string>|null} the messages seen so far; null until the first state */
  let announced = null;

  ui.name.value = typeof storage.get(NAME_KEY) === "string" ? storage.get(NAME_KEY) : "";
  ui.name.addEventListener("change", () => storage.set(NAME_KEY, ui.name.value.trim()));

  /** @param {boolean} on */
  const usable = (on) => {
    ui.text.disabled = ui.send.disabled = ui.name.disabled = !on;
    panel.dataset.state = on ? "ready" : "closed";
  };

  const live = startLive({
    render,
    onstatus: (status) => {
      showStatus(ui.status, status, "booth");
      live.requestRender();
    },
    onfatal: (code) => {
      usable(false);
      showFatal(ui.notice, code);
    },
    onerror: (msg) => notify(ui.notice, errorText(msg), "error"),
    onwelcome: (msg) => {
      // An admin may open the page to check a channel: the chat is the booth's alone.
      const inBooth = typeof msg.booth === "string";
      usable(inBooth);
      if (!inBooth) setText(ui.notice, t("booth.unavailable"));
    },
  });

  ui.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = ui.text.value.replace(/\s+/g, " ").trim();
    if (!text || ui.text.disabled) return;
    const sender = ui.name.value.trim() || null;
    storage.set(NAME_KEY, sender || "");
    const state = live.getState();
    const item = { ref: ++localRef, text, knew: new Set(state ? state.booth.map((m) => m.id) : []) };
    waiting.push(item);
    ui.text.value = "";
    ui.text.focus();
    if (live.conn.status !== "open") notify(ui.notice, t("booth.queued"));
    live.requestRender();
    /** @type {Record<string, any>} */
    const command = { type: "SendBoothMessage", text, device };
    if (sender) command.name = sender;
    live.conn
      .send(/** @type {any} */ (command))
      .catch((err) => {
        notify(ui.notice, errorText(err), "error");
        if (!ui.text.value) ui.text.value = text; // not lost: back in the field
      })
      .finally(() => {
        waiting = waiting.filter((w) => w !== item);
        live.requestRender();
      });
  });

  /** @param {{key: string}} item */
  function createLine(item) {
    const li = h("li", { class: "captioner__line", dataset: { testid: "booth-chat-line" } });
    li.append(h("span", { class: "captioner__meta" }), h("span", { class: "captioner__said" }));
    return li;
  }

  /**
   * @param {HTMLElement} li
   * @param {{key: string, own: boolean, who: string, text: string, at: number|null}} item
   *   `at` null: waiting for the connection
   */
  function updateLine(li, item) {
    const [meta, said] = /** @type {HTMLElement[]} */ ([...li.children]);
    setText(meta, `${item.who} · ${item.at === null ? t("booth.waiting") : formatTime(item.at)}`);
    setText(said, item.text);
    li.dataset.own = String(item.own);
    li.dataset.state = item.at === null ? "waiting" : "sent";
  }

  /** @param {import("./booth-lines.js").BoothMessage} m @param {boolean} own */
  const who = (m, own) => (own ? t("booth.you") : m.sender || t("booth.partner"));

  /** @param {import("./state.js").State} state */
  function render(state) {
    const messages = state.booth;
    if (announced === null) announced = new Set(messages.map((m) => m.id)); // what was there on loading
    for (const m of partnerArrivals(messages, announced, device)) {
      ui.live.append(h("p", { text: t("booth.announce", { name: who(m, false), text: m.text }) }));
    }
    while (ui.live.childElementCount > ANNOUNCED) ui.live.firstElementChild?.remove();
    for (const m of messages) announced.add(m.id);

    const pending = stillWaiting(waiting, messages, device).reverse().map((w) => ({ key: `w${w.ref}`, own: true, who: t("booth.you"), text: w.text, at: null }));
    const sent = [...messages].reverse().map((m) => {
      const own = isOwn(m, device);
      return { key: m.id, own, who: who(m, own), text: m.text, at: m.at };
    });
    const items = [...pending, ...sent].slice(0, SHOWN);
    reconcile(ui.list, items, (i) => i.key, createLine, updateLine);
    ui.none.hidden = items.length > 0;
  }
}

/** The tab's sessionStorage, or null where the browser refuses it. */
function safeSessionStorage() {
  try {
    return globalThis.sessionStorage;
  } catch {
    return null;
  }
}
