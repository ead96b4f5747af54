// Moderator page, a poll card's results, by the poll's kind: bars per option (choice), the average
// and the five marks' bars (rating), or the answers given with the button that screens each one
// (word cloud: shown until hidden; open text: hidden until approved). Moderators always get counts.

import { h, keepFocus, reconcile, setText } from "./dom.js";
import { pageLang, t } from "./i18n.js";
import { MARKS, formatAverage } from "./poll-results.js";
import { pollPercentages } from "./state.js";

/**
 * What the results look like, apart from the numbers: when it changes (a draft edited), the
 * results are built anew.
 * @param {any} poll @returns {string}
 */
export function resultsShape(poll) {
  return JSON.stringify([poll.kind || "choice", poll.kind === "choice" || !poll.kind ? poll.options : [], Boolean(poll.multiple)]);
}

/**
 * Bars with a label, a fill and "x % (n votes)", one per label.
 * @param {string[]} labels
 */
function barRows(labels) {
  const rows = labels.map((label, i) => {
    const fill = h("span", { class: "bar__fill" });
    const value = h("span", { class: "bar__pct", dataset: { testid: `poll-percent-${i}` } });
    return { fill, value, row: h("li", { class: "poll-option poll-option--result" }, h("span", { class: "poll-option__label", text: label }), h("span", { class: "bar" }, fill), value) };
  });
  return {
    list: h("ol", { class: "poll__options" }, ...rows.map((r) => r.row)),
    /** @param {any} poll */
    update(poll) {
      const percentages = pollPercentages(poll) || [];
      rows.forEach((row, i) => {
        const pct = percentages[i] || 0;
        row.fill.style.width = `${pct}%`;
        setText(row.value, t("poll.result", { percent: pct, count: (poll.counts && poll.counts[i]) || 0 }));
      });
    },
  };
}

/** @param {any} poll */
function ratingResults(poll) {
  const average = h("p", { class: "poll__average", dataset: { testid: "poll-average" } });
  const bars = barRows(MARKS.map((n) => t("poll.rating.mark", { n })));
  const update = (/** @type {any} */ p) => {
    // The same words as the participant page and the stage: "Note moyenne : 4,2 / 5".
    setText(average, typeof p.average === "number"
      ? t("poll.rating.average", { score: t("poll.rating.score", { average: formatAverage(p.average, pageLang()) }) })
      : t("poll.rating.no_average"));
    bars.update(p);
  };
  update(poll);
  return { el: h("div", { class: "poll__rating" }, average, bars.list), update };
}

/**
 * The answers of a word cloud or an open-text poll, each with its count and its screening button.
 * @param {any} poll @param {(command: Record<string, any>) => void} run
 */
function answerResults(poll, run) {
  const words = poll.kind === "words";
  const list = h("ul", { class: "poll-answers", "aria-label": t("poll.answers.title"), dataset: { testid: "poll-answers" } });
  const empty = h("p", { class: "empty", text: t("poll.answers.empty") });
  list.addEventListener("click", (ev) => {
    const button = /** @type {HTMLElement} */ (ev.target).closest("button[data-answer]");
    if (!button) return;
    run({ type: "ScreenAnswer", poll_id: poll.id, text: button.dataset.answer, shown: button.dataset.shown !== "true" });
  });

  /** @param {{text: string}} answer */
  function createItem(answer) {
    const refs = {
      text: h("span", { class: "poll-answer__text", text: answer.text, dataset: { testid: "poll-answer-text" } }),
      state: h("span", { class: "poll-answer__state" }),
      count: h("span", { class: "poll-answer__count", dataset: { testid: "poll-answer-count" } }),
      button: h("button", { type: "button", class: "button", dataset: { answer: answer.text, testid: "poll-answer-screen" } }),
    };
    const item = h("li", { class: "poll-answer", dataset: { testid: "poll-answer" } },
      h("span", { class: "poll-answer__body" }, refs.text, refs.state), refs.count, refs.button);
    /** @type {any} */ (item)._refs = refs;
    return item;
  }

  /** @param {any} item @param {{text: string, count: number, shown: boolean}} answer */
  function updateItem(item, answer) {
    const r = item._refs;
    item.dataset.shown = String(answer.shown);
    setText(r.count, t("poll.answers.count", { count: answer.count || 0 }));
    // Hidden words stay listed, struck through; open-text answers wait for approval.
    setText(r.state, answer.shown ? "" : t(words ? "poll.answers.hidden" : "poll.answers.pending"));
    const action = answer.shown ? "hide" : words ? "show" : "approve";
    r.button.dataset.shown = String(answer.shown);
    setText(r.button, t(`poll.answers.${action}`));
    r.button.setAttribute("aria-label", t(`poll.answers.${action}_label`, { text: answer.text }));
  }

  const update = (/** @type {any} */ p) => {
    const answers = Array.isArray(p.answers) ? [...p.answers] : [];
    // Open text: the answers waiting for approval first, as the server lists them.
    if (!words) answers.sort((a, b) => Number(a.shown) - Number(b.shown));
    // An answer moving (approved: after the pending ones) keeps the keyboard on its button.
    const restoreFocus = keepFocus(list, () => "screen", (item) => item.querySelector("button"));
    reconcile(list, answers, (a) => a.text, createItem, updateItem);
    restoreFocus();
    empty.hidden = answers.length > 0;
  };
  update(poll);
  return { el: h("div", { class: "poll__answers" }, list, empty), update };
}

/**
 * The results part of a poll card, built for the poll's shape (see resultsShape).
 * @param {any} poll @param {(command: Record<string, any>) => void} run
 * @returns {{el: HTMLElement, update: (poll: any) => void}}
 */
export function pollResults(poll, run) {
  if (poll.kind === "rating") return ratingResults(poll);
  if (poll.kind === "words" || poll.kind === "text") return answerResults(poll, run);
  const bars = barRows(poll.options || []);
  bars.update(poll);
  return { el: bars.list, update: bars.update };
}
