// What the pages show of the poll kinds beyond a choice (docs/protocol.md, "Poll kinds"): a rating's
// average and distribution, a word cloud's sizes, the open-text answers to project, and the ballots
// a participant's inputs make. Pure functions, no DOM: unit-tested under Node.

import { pollPercentages } from "./state.js";

/** The marks of a rating poll, lowest first (the view's `counts` are in this order). */
export const MARKS = Object.freeze([1, 2, 3, 4, 5]);
/** Entries of a words ballot, at most, and characters of each (the server's limits). */
export const MAX_WORDS = 3;
export const WORD_CHARS = 40;
/** Characters of an open-text answer (the server's limit). */
export const TEXT_CHARS = 280;
/** Words a cloud shows at most: more would be too small to read from the back of the room. */
export const CLOUD_WORDS = 40;
/** Open-text answers the stage shows at most, as cards large enough to read. */
export const STAGE_ANSWERS = 6;

/**
 * A rating poll's results, or null while they are hidden.
 * @param {import("./state.js").Poll} poll
 * @returns {{average: number|null, rows: {mark: number, count: number, percent: number}[]}|null}
 *   `rows`: one per mark 1 to 5; `average` null without ballots
 */
export function ratingResults(poll) {
  const percentages = pollPercentages(poll);
  if (!percentages || !poll.counts) return null;
  const counts = /** @type {number[]} */ (poll.counts);
  const rows = MARKS.map((mark, i) => ({ mark, count: counts[i] || 0, percent: percentages[i] || 0 }));
  const average = typeof poll.average === "number" ? poll.average : null;
  return { average, rows };
}

/**
 * An average mark with one decimal, in the page's language ("4,2" in French, "4.2" in English).
 * @param {number} average @param {string} lang
 * @returns {string}
 */
export function formatAverage(average, lang) {
  const options = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
  try {
    return new Intl.NumberFormat(lang, options).format(average);
  } catch {
    return new Intl.NumberFormat("fr", options).format(average);
  }
}

/**
 * The answers participants and the stage may see (`shown: false` ones are sent to moderators
 * only, but a page never relies on that), most given first, ties in the server's order.
 * @param {import("./state.js").Poll} poll @param {number} [max]
 * @returns {import("./state.js").PollAnswer[]} empty while results are hidden
 */
export function shownAnswers(poll, max = Infinity) {
  if (!poll || !Array.isArray(poll.answers)) return [];
  const shown = poll.answers
    .map((answer, order) => ({ answer, order }))
    .filter(({ answer }) => answer && answer.shown !== false && typeof answer.text === "string" && answer.text)
    .sort((a, b) => (b.answer.count || 0) - (a.answer.count || 0) || a.order - b.order);
  return shown.slice(0, max).map(({ answer }) => answer);
}

/**
 * A word cloud: the most given entries (at most `max`), each with its `weight` in (0, 1], the
 * square root of its count over the top count, so that area rather than height follows the count
 * and one popular word does not shrink all others to dots. The cloud lists them alphabetically:
 * as tallies come, a word grows where it is instead of jumping to another place.
 * @param {import("./state.js").Poll} poll
 * @param {{max?: number, lang?: string}} [options]
 * @returns {{text: string, count: number, weight: number}[]}
 */
export function wordCloud(poll, { max = CLOUD_WORDS, lang = "fr" } = {}) {
  const words = shownAnswers(poll, max).filter((w) => (w.count || 0) > 0);
  if (!words.length) return [];
  const top = Math.max(...words.map((w) => w.count));
  const collator = new Intl.Collator(lang, { numeric: true });
  return words
    .map((w) => ({ text: w.text, count: w.count, weight: Math.sqrt(w.count / top) }))
    .sort((a, b) => collator.compare(a.text, b.text));
}

/**
 * A size between `min` and `max` (any unit) for a cloud word's weight.
 * @param {number} weight in (0, 1] @param {number} min @param {number} max
 * @returns {number} rounded to two decimals (steady styles, fewer relayouts)
 */
export function cloudSize(weight, min, max) {
  const w = Math.min(1, Math.max(0, weight));
  return Math.round((min + (max - min) * w) * 100) / 100;
}

/**
 * One entry of a words ballot as the server keeps it (docs/protocol.md, CastBallot): lower case,
 * one line, runs of spaces made one, surrounding punctuation and spaces dropped. The page
 * normalises too, so that it never sends two entries the server would take for one.
 * @param {string} text @returns {string}
 */
export function normaliseWord(text) {
  return String(text || "")
    .normalize("NFC")
    .toLowerCase()
    .replace(/\s+/gu, " ")
    .replace(/^[\p{P}\s]+|[\p{P}\s]+$/gu, "");
}

/**
 * The `answers` of a words ballot from the participant's inputs: normalised, the empty ones and
 * repeats dropped, each cut to the limit, at most three.
 * @param {string[]} values @returns {string[]}
 */
export function wordsBallot(values) {
  /** @type {string[]} */
  const words = [];
  for (const value of values) {
    const word = [...normaliseWord(value)].slice(0, WORD_CHARS).join("").trim();
    if (word && !words.includes(word)) words.push(word);
  }
  return words.slice(0, MAX_WORDS);
}

/**
 * The `answers` of an open-text ballot: one line, trimmed; none when empty.
 * @param {string} value @returns {string[]}
 */
export function textBallot(value) {
  const text = String(value || "").replace(/\s+/gu, " ").trim();
  return text ? [[...text].slice(0, TEXT_CHARS).join("")] : [];
}
