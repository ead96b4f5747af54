// Live captions on the pages that show them: under the participant's player (on or off, text
// size and language, remembered on this device), on the stage screen while the moderators have
// them on, and the moderators' switch for that. Loaded beside the page's own controller, it
// renders from the same live session (dom.js addToLive); each part runs where its element is.

import { addToLive, errorText, h, notify, setText, storage } from "./dom.js";
import { pageLang, t } from "./i18n.js";
import { captionLanguages, captionsIn, languageName, linesAfter, pickLanguage } from "./caption-lines.js";

/** @typedef {import("./caption-lines.js").Caption} Caption */
/** @typedef {import("./state.js").State} State */
/** @typedef {import("./dom.js").Live} Live */

const PREFERENCES_KEY = "tribune.captions";
const SIZES = ["s", "m", "l"];
/** Final lines shown under the player, and on the stage screen (with the line in progress). */
const SHOWN_LINES = 3;
const STAGE_LINES = 2;
/** Lines the screen-reader region keeps (it announces only additions). */
const ANNOUNCED_LINES = 3;
/** "Seen" before a language's first line: that line is then announced when it comes. */
const BEFORE_ANY = /** @type {Caption} */ ({ language: "", text: "", at: -Infinity, final: true });

/**
 * Fills `select` with `codes` (named), unless it holds them already; keeps its value if it can.
 * @param {HTMLSelectElement} select @param {string[]} codes
 */
function setOptions(select, codes) {
  const current = [...select.options].map((o) => o.value);
  if (current.length === codes.length && current.every((c, i) => c === codes[i])) return;
  const value = select.value;
  select.replaceChildren(...codes.map((code) => h("option", { value: code, text: languageName(code, pageLang()), lang: code })));
  if (codes.includes(value)) select.value = value;
}

/**
 * Shows `lines` (and the line in progress) in `box`, one element each, rebuilt only when they
 * changed.
 * @param {HTMLElement} box @param {Caption[]} lines @param {Caption|null} partial
 */
function showLines(box, lines, partial) {
  const signature = JSON.stringify([lines.map((c) => [c.at, c.text]), partial && partial.text]);
  if (box.dataset.signature === signature) return;
  box.dataset.signature = signature;
  const items = lines.map((c) => h("p", { class: "captions__line", lang: c.language, text: c.text, dataset: { testid: "caption-line" } }));
  if (partial) items.push(h("p", { class: "captions__line captions__line--partial", lang: partial.language, text: partial.text, dataset: { testid: "caption-partial" } }));
  box.replaceChildren(...items);
}

// --- under the participant's player ---------------------------------------------------------------

/** @param {HTMLElement} root @returns {(state: State) => void} */
function participantCaptions(root) {
  const saved = storage.get(PREFERENCES_KEY) || {};
  const prefs = {
    on: saved.on === true,
    size: SIZES.includes(saved.size) ? saved.size : "m",
    language: typeof saved.language === "string" ? saved.language : null,
  };
  const save = () => storage.set(PREFERENCES_KEY, prefs);

  const toggle = h("button", { type: "button", class: "button button--quiet captions__toggle", "aria-pressed": String(prefs.on), "aria-controls": "captions-box", dataset: { testid: "captions-toggle" }, text: t("captions.toggle") });
  const select = /** @type {HTMLSelectElement} */ (h("select", { id: "captions-language", dataset: { testid: "captions-language" } }));
  // The language choice and the box (below) start as render() will leave them, the box shown only
  // if captions were on: until the first state, the question box under them does not jump.
  const languageField = h("span", { class: "captions__language", hidden: true }, h("label", { for: "captions-language", text: t("captions.language") }), select);
  const sizes = SIZES.map((size) => h("button", { type: "button", class: `captions__size captions__size--${size}`, "aria-label": t(`captions.size.${size}`), "aria-pressed": "false", dataset: { size, testid: `captions-size-${size}` }, text: "A" }));
  const sizeGroup = h("span", { class: "captions__sizes", role: "group", "aria-label": t("captions.size") }, ...sizes);
  const lines = h("div", { class: "captions__lines", "aria-hidden": "true", dataset: { testid: "captions-lines" } });
  const empty = h("p", { class: "captions__empty", text: t("captions.empty"), dataset: { testid: "captions-empty" } });
  const box = h("div", { id: "captions-box", class: "captions__box", hidden: !prefs.on, dataset: { testid: "captions-box" } }, lines, empty);
  // What screen readers hear: each new final line once, never a partial guess, never the lines
  // already there when captions were turned on or the language changed (the box above is hidden
  // from them, since it is rebuilt as lines come and go).
  const announcer = h("div", { class: "visually-hidden", "aria-live": "polite", "aria-relevant": "additions", dataset: { testid: "captions-live" } });
  root.append(h("div", { class: "captions__bar" }, toggle, languageField, sizeGroup), box, announcer);

  /** @type {Caption} the latest line when last rendered: lines after it are new */
  let lastSeen = BEFORE_ANY;
  /**
   * What the captions showed when last rendered: a language; "" (on, but no language has
   * captions yet: the first line to come is new); null (off); undefined (never rendered: what
   * the first state holds is not new).
   */
  let shown = /** @type {string|null|undefined} */ (undefined);

  toggle.addEventListener("click", () => {
    prefs.on = !prefs.on;
    save();
    rerender();
  });
  select.addEventListener("change", () => {
    prefs.language = select.value;
    save();
    rerender();
  });
  for (const button of sizes) {
    button.addEventListener("click", () => {
      prefs.size = button.dataset.size || "m";
      save();
      rerender();
    });
  }

  /** @type {State|null} */
  let last = null;
  const rerender = () => last && render(last);

  /** @param {State} state */
  function render(state) {
    last = state;
    const order = (state.session && state.session.languages) || [];
    const available = captionLanguages(state.captions, order);
    const language = pickLanguage(available, prefs.language, pageLang(), order);
    setOptions(select, available);
    if (language) select.value = language;
    languageField.hidden = available.length < 2;
    toggle.setAttribute("aria-pressed", String(prefs.on));
    for (const button of sizes) button.setAttribute("aria-pressed", String(button.dataset.size === prefs.size));
    box.hidden = !prefs.on;
    box.dataset.size = prefs.size;
    root.dataset.on = String(prefs.on);
    const { lines: all, partial } = language ? captionsIn(state.captions, language) : { lines: [], partial: null };
    showLines(lines, prefs.on ? all.slice(-SHOWN_LINES) : [], prefs.on ? partial : null);
    empty.hidden = all.length > 0 || Boolean(partial);
    // Announce only what came while these captions were on, in this language.
    const showing = prefs.on && language ? language : null;
    const fresh = showing && (showing === shown || shown === "") ? linesAfter(all, lastSeen) : [];
    if (showing !== shown) announcer.replaceChildren(); // off, or another language: start afresh
    shown = prefs.on ? language || "" : null;
    lastSeen = all.length ? all[all.length - 1] : BEFORE_ANY;
    for (const c of fresh) announcer.append(h("p", { lang: c.language, text: c.text }));
    while (announcer.childElementCount > ANNOUNCED_LINES) announcer.firstElementChild?.remove();
  }
  return render;
}

// --- the stage screen ------------------------------------------------------------------------------

/** @param {HTMLElement} band @returns {(state: State) => void} */
function stageCaptions(band) {
  return (state) => {
    const language = state.settings && state.settings.stage_captions;
    band.hidden = !language;
    if (!language) return;
    band.lang = language;
    const { lines, partial } = captionsIn(state.captions, language);
    showLines(band, lines.slice(-STAGE_LINES), partial);
  };
}

// --- the moderators' switch ------------------------------------------------------------------------

/**
 * @param {HTMLInputElement} toggle @param {HTMLSelectElement} select @param {Live} live
 * @returns {(state: State) => void}
 */
function stageSwitch(toggle, select, live) {
  const notice = document.getElementById("notice");
  const send = (/** @type {boolean} */ enabled) => {
    live.conn
      .send({ type: "SetStageCaptions", enabled, language: select.value || null })
      .catch((err) => {
        if (notice && !(err.retried && err.code === "conflict")) notify(notice, errorText(err), "error");
      })
      .finally(() => live.requestRender());
  };
  toggle.addEventListener("change", () => send(toggle.checked));
  select.addEventListener("change", () => {
    if (toggle.checked) send(true);
  });
  return (state) => {
    const languages = (state.session && state.session.languages) || [];
    setOptions(select, languages);
    select.hidden = languages.length < 2;
    const on = state.settings && state.settings.stage_captions;
    toggle.disabled = false;
    toggle.checked = Boolean(on);
    if (on) select.value = on;
  };
}

addToLive((live) => {
  /** @type {((state: State) => void)[]} */
  const parts = [];
  const panel = document.getElementById("captions");
  if (panel) parts.push(participantCaptions(panel));
  const band = document.getElementById("stage-captions");
  if (band) parts.push(stageCaptions(band));
  const toggle = document.getElementById("stage-captions-toggle");
  const select = document.getElementById("stage-captions-language");
  if (toggle && select) {
    parts.push(stageSwitch(/** @type {HTMLInputElement} */ (toggle), /** @type {HTMLSelectElement} */ (select), live));
  }
  return (state) => {
    for (const part of parts) part(state);
  };
});
