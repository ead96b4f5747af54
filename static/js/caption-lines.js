// Caption lines as pages keep them (docs/protocol.md, "Captions"): the last final lines of each
// language in the order they came, and each language's line in progress (a speech-to-text
// service's partial result). Pure: no DOM, no I/O; every function returns new objects.

/**
 * Final lines kept per language: as many as a Snapshot carries (CAPTION_LINES in live/views.py),
 * so a page that followed the events holds what a freshly connected one would.
 */
export const CAPTION_LINES = 8;

/**
 * @typedef {{language: string, text: string, at: number, final: boolean}} Caption
 * @typedef {{lines: Caption[], partials: Record<string, Caption>}} Captions
 */

/** @param {any} c @returns {c is Caption} */
function isCaption(c) {
  return Boolean(c) && typeof c.language === "string" && typeof c.text === "string" && typeof c.at === "number";
}

/**
 * The captions of a Snapshot's state (`state.captions`), checked.
 * @param {any} raw @returns {Captions}
 */
export function captionsFromSnapshot(raw) {
  const lines = raw && Array.isArray(raw.lines) ? raw.lines.filter(isCaption) : [];
  /** @type {Record<string, Caption>} */
  const partials = {};
  const given = raw && raw.partials && typeof raw.partials === "object" ? raw.partials : {};
  for (const [language, c] of Object.entries(given)) if (isCaption(c)) partials[language] = c;
  return { lines: trim(lines), partials };
}

/**
 * Adds the caption a `CaptionPosted` event carries: a final line joins its language's lines (the
 * oldest beyond {@link CAPTION_LINES} dropped) and ends its line in progress; a partial one
 * replaces the line in progress.
 * @param {Captions} captions @param {any} caption @returns {Captions}
 */
export function addCaption(captions, caption) {
  if (!isCaption(caption)) return captions;
  const partials = { ...captions.partials };
  if (caption.final === false) {
    partials[caption.language] = caption;
    return { lines: captions.lines, partials };
  }
  delete partials[caption.language];
  return { lines: trim([...captions.lines, caption]), partials };
}

/** @param {Caption[]} lines @returns {Caption[]} the last CAPTION_LINES of each language */
function trim(lines) {
  /** @type {Record<string, number>} */
  const seen = {};
  const kept = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const language = lines[i].language;
    seen[language] = (seen[language] || 0) + 1;
    if (seen[language] <= CAPTION_LINES) kept.push(lines[i]);
  }
  return kept.length === lines.length ? lines : kept.reverse();
}

/**
 * Languages that have captions, in the session's order (the floor first), then any other.
 * @param {Captions} captions @param {string[]} [order] the session's languages
 * @returns {string[]}
 */
export function captionLanguages(captions, order = []) {
  const present = new Set([...captions.lines.map((c) => c.language), ...Object.keys(captions.partials)]);
  return [...order.filter((l) => present.has(l)), ...[...present].filter((l) => !order.includes(l)).sort()];
}

/**
 * @param {Captions} captions @param {string} language
 * @returns {{lines: Caption[], partial: Caption|null}} that language's final lines and line in progress
 */
export function captionsIn(captions, language) {
  return {
    lines: captions.lines.filter((c) => c.language === language),
    partial: captions.partials[language] || null,
  };
}

/**
 * The lines of `lines` that came after `last` (a line seen before): what a live region should
 * announce. `last` no longer among them (a new Snapshot): those newer than it, at most `max`.
 * @param {Caption[]} lines @param {Caption|null} last @param {number} [max]
 * @returns {Caption[]}
 */
export function linesAfter(lines, last, max = 2) {
  if (!last) return [];
  let i = lines.length - 1;
  while (i >= 0 && !(lines[i].at === last.at && lines[i].text === last.text)) i--;
  const newer = i >= 0 ? lines.slice(i + 1) : lines.filter((c) => c.at > last.at);
  return newer.slice(-max);
}

/**
 * Which language to show: the one chosen earlier if it has captions, else the page's language,
 * else the floor language, else the first that has captions; null when none has any.
 * @param {string[]} available languages with captions, the floor first
 * @param {string|null} chosen @param {string} pageLanguage @param {string[]} sessionLanguages
 * @returns {string|null}
 */
export function pickLanguage(available, chosen, pageLanguage, sessionLanguages) {
  for (const candidate of [chosen, pageLanguage, sessionLanguages[0]]) {
    if (candidate && available.includes(candidate)) return candidate;
  }
  return available[0] ?? null;
}

/**
 * A language's name in the page's language ("anglais" for "en" on a French page), capitalised
 * for a menu; its code in capitals where the browser knows no name.
 * @param {string} code @param {string} pageLanguage @returns {string}
 */
export function languageName(code, pageLanguage) {
  let name = "";
  try {
    name = new Intl.DisplayNames([pageLanguage], { type: "language" }).of(code) || "";
  } catch {
    name = "";
  }
  if (!name || name === code) return code.toUpperCase();
  return name.charAt(0).toLocaleUpperCase(pageLanguage) + name.slice(1);
}
