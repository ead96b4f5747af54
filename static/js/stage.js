// Stage screen: the question being answered and the poll on stage, large enough for the back of
// the room. It runs unattended for hours: it reconnects and resyncs by itself, never needs a reload.

import { byId, h, reconcile, setText, showFatal, showStatus, startLive } from "./dom.js";
import { t } from "./i18n.js";
import { pollPercentages, stagePoll, stageQuestion } from "./state.js";

const ui = {
  main: byId("main"),
  content: byId("stage-content"),
  idle: byId("stage-idle"),
  question: byId("stage-question"),
  text: byId("stage-question-text"),
  author: byId("stage-question-author"),
  org: byId("stage-question-org"),
  votes: byId("stage-question-votes"),
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

/** Size class from the text length, so a 500-character question still fits the screen. */
function lengthClass(/** @type {string} */ text) {
  return text.length > 280 ? "is-long" : text.length > 140 ? "is-medium" : "is-short";
}

/** @param {import("./state.js").Question|null} q */
function renderQuestion(q) {
  ui.question.hidden = !q;
  if (!q) return;
  ui.question.dataset.questionId = q.id;
  setText(ui.text, q.text);
  ui.text.classList.remove("is-long", "is-medium", "is-short");
  ui.text.classList.add(lengthClass(q.text));
  setText(ui.author, q.author || t("question.anonymous"));
  setText(ui.org, q.organisation || "");
  ui.org.hidden = !q.organisation;
  setText(ui.votes, t("question.votes", { count: q.votes || 0 }));
}

/** @param {import("./state.js").Poll|null} poll */
function renderPoll(poll) {
  ui.poll.hidden = !poll;
  if (!poll) return;
  const percentages = pollPercentages(poll);
  ui.poll.dataset.pollId = poll.id;
  ui.poll.classList.toggle("has-results", Boolean(percentages));
  setText(ui.pollQuestion, poll.question);
  // Highlight the leading option(s) once results are shown.
  const top = percentages ? Math.max(...percentages) : -1;
  reconcile(
    ui.options,
    poll.options.map((label, i) => ({ key: `${poll.id}:${i}`, label, i })),
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
  const ballots = t("poll.ballots", { count: poll.ballots || 0 });
  let footer = ballots;
  if (!percentages) footer = t(poll.status === "open" ? "stage.results_soon" : "stage.poll_closed", { ballots });
  else if (poll.status === "closed") footer = t("stage.poll_closed", { ballots });
  setText(ui.footer, footer);
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
}
