// Stage screen: the question being answered and the poll on stage (a rating's, a word cloud's or
// open answers' results: stage-poll-kinds.js), large enough for the back of the room. It runs unattended for hours: it reconnects and resyncs by itself, never needs a reload.

import { byId, h, reconcile, setText, showFatal, showStatus, startLive } from "./dom.js";
import { t } from "./i18n.js";
import { renderPollKind } from "./stage-poll-kinds.js";
import { hasResults, pollKind, pollPercentages, stagePoll, stageQuestion } from "./state.js";

const ui = {
  main: byId("main"),
  content: byId("stage-content"),
  idle: byId("stage-idle"),
  question: byId("stage-question"),
  text: byId("stage-question-text"),
  author: byId("stage-question-author"),
  org: byId("stage-question-org"),
  votes: byId("stage-question-votes"),
  origin: byId("stage-question-origin"),
  poll: byId("stage-poll"),
  pollQuestion: byId("stage-poll-question"),
  options: byId("stage-poll-options"),
  footer: byId("stage-poll-footer"),
  status: byId("conn-status"),
  fatal: byId("fatal"),
};

startLive({
  render,
  onstatus: (status) => showStatus(ui.status, status, "stage"),
  onfatal: (code) => showFatal(ui.fatal, code),
});

// "f" toggles full screen on the presenting machine (the browser needs a key press to allow it).
document.addEventListener("keydown", (ev) => {
  if (ev.key !== "f" && ev.key !== "F") return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else document.documentElement.requestFullscreen().catch(() => {});
});

// Hide the mouse pointer when it rests over the projected screen.
let pointerTimer = 0;
document.addEventListener("mousemove", () => {
  document.body.classList.remove("hide-pointer");
  clearTimeout(pointerTimer);
  pointerTimer = setTimeout(() => document.body.classList.add("hide-pointer"), 3000);
});

/** Size step from the text length, so a 500-character question starts near the size it needs. */
function lengthStep(/** @type {string} */ text) {
  return text.length > 280 ? "long" : text.length > 140 ? "medium" : "short";
}

/** @param {import("./state.js").Question|null} q */
function renderQuestion(q) {
  ui.question.hidden = !q;
  if (!q) return;
  ui.question.dataset.questionId = q.id;
  setText(ui.text, q.text);
  ui.question.dataset.length = lengthStep(q.text);
  setText(ui.author, q.author || t("question.anonymous"));
  setText(ui.org, q.organisation || "");
  ui.org.hidden = !q.organisation;
  setText(ui.votes, t("question.votes", { count: q.votes || 0 }));
  const origin = q.origin === "room" ? "room" : "remote";
  ui.origin.dataset.origin = origin;
  setText(ui.origin, t(`origin.${origin}`));
}

/** @param {import("./state.js").Poll|null} poll */
function renderPoll(poll) {
  ui.poll.hidden = !poll;
  if (!poll) return;
  const kind = pollKind(poll);
  const results = hasResults(poll);
  ui.poll.dataset.pollId = poll.id;
  ui.poll.dataset.kind = kind;
  ui.poll.classList.toggle("has-results", results);
  setText(ui.pollQuestion, poll.question);
  // Rating, words and text polls have their own results (stage-poll-kinds.js); what they drew
  // goes into the fit's signature.
  ui.poll.dataset.drawn = renderPollKind(poll);
  ui.options.hidden = kind !== "choice";
  renderOptions(kind === "choice" ? poll : null);
  const ballots = t("poll.ballots", { count: poll.ballots || 0 });
  let footer = ballots;
  if (!results) footer = t(poll.status === "open" ? "stage.results_soon" : "stage.poll_closed", { ballots });
  else if (poll.status === "closed") footer = t("stage.poll_closed", { ballots });
  setText(ui.footer, footer);
}

/** @param {import("./state.js").Poll|null} poll a choice poll, or null to empty the options */
function renderOptions(poll) {
  const options = poll ? poll.options : [];
  const percentages = poll ? pollPercentages(poll) : null;
  // Option text scales with their number (app.css); from six on, two columns are tried (fitStage).
  ui.poll.dataset.count = String(options.length);
  ui.options.style.setProperty("--rows", String(Math.ceil(options.length / 2)));
  // Highlight the leading option(s) once results are shown.
  const top = percentages ? Math.max(...percentages) : -1;
  reconcile(
    ui.options,
    options.map((label, i) => ({ key: `${poll && poll.id}:${i}`, label, i })),
    (o) => o.key,
    (o) => {
      const li = h("li", { class: "stage-option", dataset: { testid: `stage-option-${o.i}` } });
      li.append(
        h("span", { class: "stage-option__label" }),
        h("span", { class: "stage-option__bar" }, h("span", { class: "stage-option__fill" })),
        h("span", { class: "stage-option__pct", dataset: { testid: `stage-percent-${o.i}` } }),
      );
      return li;
    },
    (li, o) => {
      const [label, bar, pct] = /** @type {HTMLElement[]} */ ([...li.children]);
      setText(label, o.label);
      const value = percentages ? percentages[o.i] : 0;
      /** @type {HTMLElement} */ (bar.firstElementChild).style.width = `${value}%`;
      bar.hidden = !percentages;
      setText(pct, percentages ? t("poll.percent", { percent: value }) : "");
      li.classList.toggle("is-top", Boolean(percentages) && value === top && top > 0);
    },
  );
}

/** @param {import("./state.js").State} state */
function render(state) {
  const q = stageQuestion(state);
  const poll = stagePoll(state);
  renderQuestion(q);
  renderPoll(poll);
  ui.idle.hidden = Boolean(q || poll);
  const layout = q && poll ? "both" : q ? "question" : poll ? "poll" : "idle";
  ui.content.dataset.layout = layout;
  ui.main.dataset.layout = layout;
  fitStage();
}

// --- fitting the screen --------------------------------------------------------------------------

/** Below this factor text gets too small for the room: the section is clipped instead. */
const MIN_FIT = 0.45;
/** Options from which two columns are tried. */
const COLUMNS_FROM = 6;
/** Question : poll widths tried when both are on stage; the first wins ties. */
const SPLITS = [[1, 1], [2, 3], [1, 2]];

/** Portrait screens stack the question above the poll (app.css), each in half the height. */
const portrait = window.matchMedia("(max-aspect-ratio: 1/1)");

/** What the last fit was made for: tallies (new percentages, ballots) do not change it. */
let fittedFor = "";

/**
 * Makes every shown section fit the height of the stage: each section's `--fit` factor (which
 * multiplies all its sizes in app.css) is the largest in [MIN_FIT, 1] that fits, found by bisection
 * (synchronous layouts of a small DOM, before the frame is painted). A poll from COLUMNS_FROM
 * options tries one and two columns; a question beside a poll tries a few width shares; the
 * arrangement with the larger text wins. What does not fit even at MIN_FIT is clipped
 * (`is-clipped` fades its bottom edge): the stage never scrolls.
 */
function fitStage() {
  const layout = ui.content.dataset.layout || "idle";
  const stacked = layout === "both" && portrait.matches;
  const gap = parseFloat(getComputedStyle(ui.content).rowGap) || 0;
  const room = stacked ? (ui.content.clientHeight - gap) / 2 : ui.content.clientHeight;
  if (!room) return;
  const labels = [...ui.options.querySelectorAll(".stage-option__label")].map((el) => el.textContent);
  const signature = JSON.stringify([
    innerWidth, innerHeight, room, layout, ui.question.hidden ? "" : ui.question.textContent,
    ui.poll.hidden ? "" : ui.pollQuestion.textContent, labels, ui.poll.classList.contains("has-results"),
    ui.poll.dataset.kind, ui.poll.dataset.drawn,
  ]);
  if (signature === fittedFor) return;
  fittedFor = signature;
  if (!ui.idle.hidden) fitSection(ui.idle, room);
  if (layout !== "both" || stacked) {
    if (!ui.question.hidden) fitSection(ui.question, room);
    if (!ui.poll.hidden) fitPoll(room, stacked);
    return;
  }
  let best = { split: SPLITS[0], score: -Infinity };
  for (const split of SPLITS) {
    setSplit(split);
    const q = fitSection(ui.question, room);
    const p = fitPoll(room, true);
    // The smaller of the two texts decides; a clipped section loses.
    const score = Math.min(fontPx(ui.text), pollTextPx()) - (q.fits && p.fits ? 0 : 1000);
    if (score > best.score + 0.5) best = { split, score };
  }
  if (best.split !== SPLITS[SPLITS.length - 1]) {
    setSplit(best.split);
    fitSection(ui.question, room);
    fitPoll(room, true);
  }
}

/** @param {number[]} split question and poll shares of the width */
function setSplit([question, poll]) {
  ui.content.style.setProperty("--question-share", `${question}fr`);
  ui.content.style.setProperty("--poll-share", `${poll}fr`);
}

/** The poll's text that must stay legible, by kind: options, marks, cloud words, answers. */
const POLL_TEXT = { choice: ".stage-option", rating: ".stage-rating__mark", words: ".stage-cloud__word", text: ".stage-answer__text" };

/** @returns {number} the font size in px of the poll's smallest such text (Infinity: none) */
function pollTextPx() {
  const selector = POLL_TEXT[/** @type {keyof typeof POLL_TEXT} */ (ui.poll.dataset.kind || "choice")] || POLL_TEXT.choice;
  const sizes = [...ui.poll.querySelectorAll(selector)].map(fontPx);
  return sizes.length ? Math.min(...sizes) : Infinity;
}

/** @param {Element} el @returns {number} its font size in px */
function fontPx(el) {
  return parseFloat(getComputedStyle(el).fontSize) || 0;
}

/**
 * Fits the poll, in one or two columns of options.
 * @param {number} room @param {boolean} beside whether a question shares the screen
 * @returns {{fit: number, fits: boolean}}
 */
function fitPoll(room, beside) {
  if (ui.options.childElementCount < COLUMNS_FROM) {
    ui.options.classList.remove("is-columns");
    return fitSection(ui.poll, room);
  }
  ui.options.classList.add("is-columns");
  const two = fitSection(ui.poll, room);
  ui.options.classList.remove("is-columns");
  const one = fitSection(ui.poll, room);
  // Alone on screen two columns win unless one reads clearly larger; beside a question, where
  // columns get narrow, one column wins unless two read clearly larger.
  if (!(beside ? two.fit > one.fit * 1.1 : two.fit * 1.1 >= one.fit)) return one;
  ui.options.classList.add("is-columns");
  return fitSection(ui.poll, room);
}

/**
 * @param {HTMLElement} section @param {number} room available height in px
 * @returns {{fit: number, fits: boolean}}
 */
function fitSection(section, room) {
  const fitsAt = (/** @type {number} */ f) => {
    section.style.setProperty("--fit", String(f));
    return section.getBoundingClientRect().height <= room + 0.5 && section.scrollWidth <= section.clientWidth + 1;
  };
  let fit = 1;
  let fits = fitsAt(1);
  if (!fits) {
    let lo = MIN_FIT;
    let hi = 1;
    for (let i = 0; i < 8; i++) {
      const mid = (lo + hi) / 2;
      if (fitsAt(mid)) lo = mid;
      else hi = mid;
    }
    fit = Math.floor(lo * 1000) / 1000;
    fits = fitsAt(fit);
  }
  section.classList.toggle("is-clipped", !fits);
  section.dataset.fit = String(fit);
  return { fit, fits };
}

// A new window size (full screen on, projector plugged in) refits, once per frame.
let refit = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(refit);
  refit = requestAnimationFrame(fitStage);
});
