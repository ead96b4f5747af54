// Translations: the server embeds the catalog of the page's language as a JSON data block
// (<script type="application/json" id="i18n-catalog">), so no user-facing string lives in the JS.

/**
 * Replaces `{name}` placeholders; unknown placeholders are left as they are.
 * @param {string} template
 * @param {Record<string, unknown>} [vars]
 * @returns {string}
 */
export function format(template, vars = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole,
  );
}

/**
 * Makes a translation function over a flat catalog. When `vars.count` is a number and `key` itself
 * is absent, `key.one` / `key.other` (CLDR plural category of `lang`) is used.
 * @param {Record<string, string>} catalog
 * @param {string} lang
 * @returns {(key: string, vars?: Record<string, unknown>) => string}
 */
export function createTranslator(catalog, lang) {
  let rules = null;
  try {
    rules = new Intl.PluralRules(lang);
  } catch {
    rules = null;
  }
  return (key, vars = {}) => {
    let template = catalog[key];
    if (template === undefined && typeof vars.count === "number") {
      const category = rules ? rules.select(vars.count) : vars.count === 1 ? "one" : "other";
      template = catalog[`${key}.${category}`] ?? catalog[`${key}.other`];
    }
    // A missing key shows itself, which is visible in review without breaking the page.
    return template === undefined ? key : format(template, vars);
  };
}

/** @type {Record<string, string>|null} */
let pageCatalog = null;
/** @type {((key: string, vars?: Record<string, unknown>) => string)|null} */
let pageTranslator = null;

/** @returns {string} the page language ("fr" by default) */
export function pageLang() {
  const doc = globalThis.document;
  return (doc && (doc.body?.dataset.lang || doc.documentElement.lang)) || "fr";
}

function loadPageCatalog() {
  if (pageCatalog) return pageCatalog;
  pageCatalog = {};
  const el = globalThis.document && globalThis.document.getElementById("i18n-catalog");
  if (el && el.textContent) {
    try {
      const parsed = JSON.parse(el.textContent);
      if (parsed && typeof parsed === "object") pageCatalog = parsed;
    } catch {
      /* an empty catalog shows keys: better than a dead page */
    }
  }
  return pageCatalog;
}

/**
 * Translates `key` with the page's catalog.
 * @param {string} key
 * @param {Record<string, unknown>} [vars]
 * @returns {string}
 */
export function t(key, vars) {
  if (!pageTranslator) pageTranslator = createTranslator(loadPageCatalog(), pageLang());
  return pageTranslator(key, vars);
}

/**
 * Formats an ISO date ("2020-09-22") in the page language, e.g. "mardi 22 septembre 2020".
 * Read as UTC noon so no time zone can move it to another day.
 * @param {string} iso
 * @param {string} [lang]
 * @returns {string}
 */
export function formatDate(iso, lang = pageLang()) {
  const d = new Date(`${iso}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  }).format(d);
}

/**
 * Formats a millisecond timestamp as a local time of day ("14:05").
 * @param {number} ms
 * @param {string} [lang]
 * @returns {string}
 */
export function formatTime(ms, lang = pageLang()) {
  return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }).format(new Date(ms));
}

/**
 * Replaces the text of every `<time data-format="date" datetime="…">` under `root` with the
 * localised date (the server renders the ISO date, readable without JS).
 * @param {ParentNode} root
 */
export function localizeDates(root) {
  for (const el of root.querySelectorAll("time[data-format='date'][datetime]")) {
    el.textContent = formatDate(el.getAttribute("datetime") || "");
  }
}
