// The stage screen's results of the poll kinds beyond a choice (docs/protocol.md, "Poll kinds"),
// for the back of the room: a rating's average, large, over its five bars; a word cloud whose
// words grow with their count; the approved open-text answers as cards. Sizes are in the stage's
// --u units, times the section's --fit (app.css), so stage.js can shrink what does not fit.

import { h, reconcile, setText } from "./dom.js";
import { pageLang, t } from "./i18n.js";
import { MARKS, STAGE_ANSWERS, cloudSize, formatAverage, ratingResults, shownAnswers, wordCloud } from "./poll-results.js";
import { pollKind } from "./state.js";

/** A cloud word's size in --u (1 % of the 16:9 width): about 1.8rem to 7rem on a
 * 1080p projector: the most given word larger than the question. */
const CLOUD_U = [1.5, 6];

const ui = {
  rating: document.getElementById("stage-rating"),
  average: document.getElementById("stage-rating-average"),
  bars: document.getElementById("stage-rating-bars"),
  cloud: document.getElementById("stage-cloud"),
  answers: document.getElementById("stage-answers"),
};

/**
 * Shows the poll's kind-specific part (nothing of it for a choice poll, which stage.js draws as
 * options) and hides the others.
 * @param {import("./state.js").Poll} poll
 * @returns {string} what was drawn, for stage.js to refit the screen only when it changed
 */
export function renderPollKind(poll) {
  const kind = pollKind(poll);
  if (!ui.rating || !ui.average || !ui.bars || !ui.cloud || !ui.answers) return "";
  ui.rating.hidden = kind !== "rating";
  ui.cloud.hidden = kind !== "words";
  ui.answers.hidden = kind !== "text";
  if (kind === "rating") return renderRating(poll, ui.average, ui.bars);
  if (kind === "words") return renderCloud(poll, ui.cloud);
  if (kind === "text") return renderAnswers(poll, ui.answers);
  return "";
}

/**
 * The five marks always, their bars and the average once results are shown.
 * @param {import("./state.js").Poll} poll @param {HTMLElement} average @param {HTMLElement} bars
 */
function renderRating(poll, average, bars) {
  const rating = ratingResults(poll);
  const score = rating && rating.average !== null
    ? t("poll.rating.score", { average: formatAverage(rating.average, pageLang()) }) : "";
  /** @type {HTMLElement} */ (average.parentElement).hidden = !score;
  setText(average, score);
  bars.classList.toggle("has-results", Boolean(rating));
  const top = rating ? Math.max(...rating.rows.map((r) => r.percent)) : -1;
  reconcile(bars, MARKS.map((mark, i) => ({ mark, row: rating ? rating.rows[i] : null })), (m) => String(m.mark),
    (m) => h("li", { class: "stage-rating__bar", dataset: { testid: `stage-mark-${m.mark}` } },
      h("span", { class: "stage-rating__pct", dataset: { testid: `stage-mark-percent-${m.mark}` } }),
      h("span", { class: "stage-rating__column" }, h("span", { class: "stage-rating__fill" })),
      h("span", { class: "stage-rating__mark", text: String(m.mark) })),
    (li, m) => {
      const [pct, column] = /** @type {HTMLElement[]} */ ([...li.children]);
      const percent = m.row ? m.row.percent : 0;
      setText(pct, m.row ? t("poll.percent", { percent }) : "");
      /** @type {HTMLElement} */ (column.firstElementChild).style.height = `${percent}%`;
      li.classList.toggle("is-top", Boolean(m.row) && percent === top && top > 0);
    });
  return JSON.stringify([score, Boolean(rating)]);
}

/**
 * The cloud, without the entries the moderators hid (never sent to the stage anyway).
 * @param {import("./state.js").Poll} poll @param {HTMLElement} cloud
 */
function renderCloud(poll, cloud) {
  const words = wordCloud(poll, { lang: pageLang() });
  cloud.dataset.count = String(words.length);
  reconcile(cloud, words.map((w, i) => ({ ...w, size: cloudSize(w.weight, CLOUD_U[0], CLOUD_U[1]), i })), (w) => w.text,
    (w) => h("li", { class: "stage-cloud__word", text: w.text, dataset: { testid: "stage-word" } }),
    (li, w) => {
      // Through the CSSOM: the page's CSP refuses style attributes.
      li.style.setProperty("--w", String(w.size));
      li.dataset.count = String(w.count);
      // The most given words in the accent colour; the others alternate two light tones.
      li.dataset.tone = w.weight >= 0.75 ? "top" : String(w.i % 2);
    });
  return JSON.stringify(words.map((w) => [w.text, cloudSize(w.weight, CLOUD_U[0], CLOUD_U[1])]));
}

/**
 * The approved answers, the most given first, as many as the screen can show legibly.
 * @param {import("./state.js").Poll} poll @param {HTMLElement} list
 */
function renderAnswers(poll, list) {
  const answers = shownAnswers(poll, STAGE_ANSWERS);
  list.dataset.count = String(answers.length);
  reconcile(list, answers, (a) => a.text,
    (a) => h("li", { class: "stage-answer", dataset: { testid: "stage-answer" } },
      h("p", { class: "stage-answer__text", text: a.text }),
      h("span", { class: "stage-answer__count" })),
    (li, a) => {
      const count = /** @type {HTMLElement} */ (li.lastElementChild);
      setText(count, a.count > 1 ? t("poll.answer_count", { count: a.count }) : "");
      count.hidden = a.count <= 1;
    });
  return JSON.stringify(answers.map((a) => [a.text, a.count > 1]));
}
