// Participant page: ask questions, upvote, answer polls (their cards: poll-kinds.js). Built for phones on weak venue Wi-Fi:
// questions typed while offline wait in the connection's outbox and are sent once when it returns.

import {
  byId, errorText, h, isShown, notify, reconcile, setText, setupSort, setupTabs, showFatal, showStatus, startLive,
} from "./dom.js";
import { localizeDates, t } from "./i18n.js";
import { askedFrom, setupIdentity } from "./participant-identity.js";
import { createPollCard, pollCardKey, updatePollCard } from "./poll-kinds.js";
import {
  hasUpvoted, isBanned, myBallot, myQuestions, participantPolls, questionsWithStatus, sortQuestions,
  stageQuestion, visibleQuestions,
} from "./state.js";


const ui = {
  status: byId("conn-status"),
  fatal: byId("fatal"),
  ask: byId("ask"),
  form: /** @type {HTMLFormElement} */ (byId("ask-form")),
  closed: byId("ask-closed"),
  name: /** @type {HTMLInputElement} */ (byId("identity-name")),
  organisation: /** @type {HTMLInputElement} */ (byId("identity-organisation")),
  anonymous: /** @type {HTMLInputElement} */ (byId("identity-anonymous")),
  identity: /** @type {HTMLDetailsElement} */ (byId("identity")),
  text: /** @type {HTMLTextAreaElement} */ (byId("question-text")),
  counter: byId("question-counter"),
  submit: /** @type {HTMLButtonElement} */ (byId("question-submit")),
  notice: byId("notice"),
  tabs: byId("question-tabs"),
  panel: byId("question-panel"),
  sort: byId("sort"),
  list: byId("question-list"),
  empty: byId("questions-empty"),
  pollsPanel: byId("polls"),
  polls: byId("poll-list"),
  pollsEmpty: byId("polls-empty"),
};

const view = {
  tab: "questions",
  sort: /** @type {"popular"|"recent"} */ ("popular"),
  fatal: false,
  /** questions sent but not yet acknowledged: shown in "My questions" as "sending" */
  sending: /** @type {{ref: number, text: string, author: string|null, organisation: string|null}[]} */ ([]),
  /** question ids with an upvote command in flight */
  voting: new Set(),
  maxChars: 500,
};
let localRef = 0;

localizeDates(document);
const identity = setupIdentity(ui);

const live = startLive({
  rememberParticipant: true,
  render,
  onstatus: (status) => {
    showStatus(ui.status, status, "participant");
    live.requestRender();
  },
  onfatal: (code) => {
    view.fatal = true;
    showFatal(ui.fatal, code);
    live.requestRender();
  },
  onerror: (msg) => notify(ui.notice, errorText(msg), "error"),
  // Too many new participants from this network, or a ban holds it: say so while it retries.
  onrefused: (code) => notify(ui.notice, t(`refused.${code}`), "error"),
  onwelcome: (msg) => {
    identity.prefill(msg);
    const max = msg.limits && msg.limits.question_chars;
    if (typeof max === "number" && max > 0) {
      view.maxChars = max;
      ui.text.maxLength = max;
      updateCounter();
    }
  },
});

// --- identity and question form ----------------------------------------------------------------

function updateCounter() {
  setText(ui.counter, t("ask.counter", { count: ui.text.value.length, max: view.maxChars }));
  ui.counter.classList.toggle("is-near-limit", ui.text.value.length > view.maxChars * 0.9);
}

ui.text.addEventListener("input", updateCounter);
// Ctrl/Cmd+Enter sends, as in chat tools.
ui.text.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) ui.form.requestSubmit();
});

ui.form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = ui.text.value.trim();
  if (!text) {
    notify(ui.notice, t("ask.empty"), "error");
    ui.text.focus();
    return;
  }
  identity.save();
  const anonymous = ui.anonymous.checked;
  /** @type {Record<string, any>} */
  const command = { type: "AskQuestion", text, anonymous, origin: askedFrom(location) };
  const name = ui.name.value.trim();
  const organisation = ui.organisation.value.trim();
  if (organisation && !name && !anonymous) {
    // An organisation alone is not shown (it could say who asked): ask for the name, do not drop it.
    notify(ui.notice, t("ask.organisation_needs_name"), "error");
    ui.name.focus();
    return;
  }
  // An anonymous question carries no name at all: nothing to leak.
  if (name && !anonymous) command.name = name;
  if (organisation && !anonymous) command.organisation = organisation;

  const item = { ref: ++localRef, text, author: command.name || null, organisation: command.organisation || null };
  view.sending.push(item);
  ui.text.value = "";
  updateCounter();
  const offline = live.conn.status !== "open";
  notify(ui.notice, t(offline ? "ask.queued" : "ask.sending"));
  live.requestRender();

  live.conn.send(command).then(
    () => {
      const state = live.getState();
      notify(ui.notice, t(state && state.settings.premoderation ? "ask.sent_pending" : "ask.sent"));
    },
    (err) => {
      // A re-sent question refused as a duplicate did arrive the first time.
      if (err.retried && err.code === "conflict") return;
      notify(ui.notice, errorText(err), "error");
      if (!ui.text.value) {
        ui.text.value = text;
        updateCounter();
      }
    },
  ).finally(() => {
    view.sending = view.sending.filter((s) => s !== item);
    live.requestRender();
  });
});

// --- question list -----------------------------------------------------------------------------

setupTabs(ui.tabs, (tab) => {
  view.tab = tab;
  ui.panel.setAttribute("aria-labelledby", `tab-${tab}`);
  live.requestRender();
});

setupSort(ui.sort, (order) => {
  view.sort = order;
  live.requestRender();
});

/** @param {import("./state.js").Question} q */
function toggleUpvote(q) {
  const state = live.getState();
  if (!state || view.voting.has(q.id)) return;
  const type = hasUpvoted(state, q.id) ? "WithdrawUpvote" : "UpvoteQuestion";
  view.voting.add(q.id);
  live.requestRender();
  live.conn
    .send({ type, question_id: q.id })
    .catch((err) => notify(ui.notice, errorText(err), "error"))
    .finally(() => {
      view.voting.delete(q.id);
      live.requestRender();
    });
}

function createQuestion() {
  const card = h("li", { class: "question", dataset: { testid: "question-card" } });
  const refs = {
    flag: h("p", { class: "question__flag", text: t("question.on_stage") }),
    text: h("p", { class: "question__text", dataset: { testid: "question-text" } }),
    author: h("span", { class: "question__author" }),
    organisation: h("span", { class: "question__org" }),
    status: h("span", { class: "status-badge", dataset: { testid: "question-status" } }),
    edited: h("span", { class: "question__edited", text: t("question.edited") }),
    count: h("span", { class: "vote__count", dataset: { testid: "vote-count" } }),
    vote: h("button", { type: "button", class: "vote", dataset: { testid: "upvote" } }),
    reply: h("p", { class: "question__reply", dataset: { testid: "question-reply" } }),
  };
  refs.vote.append(refs.count);
  refs.vote.addEventListener("click", () => card._q && toggleUpvote(card._q));
  card.append(
    refs.flag,
    h("div", { class: "question__body" }, refs.text, h("p", { class: "question__meta" }, refs.author, refs.organisation, refs.edited, refs.status), refs.reply),
    refs.vote,
  );
  /** @type {any} */ (card)._refs = refs;
  return card;
}

/**
 * @param {any} card
 * @param {{q: any, onStage: boolean, upvoted: boolean, canVote: boolean, sending?: boolean,
 *   mergedInto?: string}} item `mergedInto`: the text of the question one's own was merged into
 */
function updateQuestion(card, item) {
  const { q, onStage, upvoted, canVote } = item;
  const r = card._refs;
  card._q = item.sending ? null : q;
  card.dataset.questionId = q.id;
  card.dataset.status = item.sending ? "sending" : q.status;
  card.classList.toggle("is-on-stage", onStage);
  card.classList.toggle("is-mine", Boolean(q.mine) || Boolean(item.sending));
  r.flag.hidden = !onStage;
  setText(r.text, q.text);
  setText(r.author, q.author || t("question.anonymous"));
  setText(r.organisation, q.organisation || "");
  r.organisation.hidden = !q.organisation;
  r.edited.hidden = !q.edited;
  setText(r.reply, q.reply ? t("question.reply", { reply: q.reply }) : "");
  r.reply.hidden = !q.reply;
  // Status badges only where they tell something: in "My questions".
  const showStatus = view.tab === "mine";
  r.status.hidden = !showStatus;
  r.status.dataset.status = card.dataset.status;
  setText(r.status, item.mergedInto ? t("status.merged_into", { text: item.mergedInto }) : t(`status.${card.dataset.status}`));
  setText(r.count, String(q.votes || 0));
  // Votes only make sense on published questions (approved, answered).
  r.vote.hidden = Boolean(item.sending) || !(q.status === "approved" || q.status === "answered");
  r.vote.setAttribute("aria-pressed", String(upvoted));
  r.vote.setAttribute("aria-label", t(upvoted ? "question.upvoted" : "question.upvote", { count: q.votes || 0 }));
  r.vote.disabled = !canVote || view.voting.has(q.id);
}

/** @param {import("./state.js").State} state */
function renderQuestions(state) {
  const onStage = stageQuestion(state);
  const counts = {
    questions: visibleQuestions(state).length,
    answered: questionsWithStatus(state, "answered").length,
    mine: myQuestions(state).length + view.sending.length,
  };
  for (const el of ui.tabs.querySelectorAll("[data-count]")) {
    const n = counts[/** @type {keyof typeof counts} */ (/** @type {HTMLElement} */ (el).dataset.count)];
    setText(el, n ? String(n) : "");
  }

  let list;
  if (view.tab === "answered") list = sortQuestions(questionsWithStatus(state, "answered"), view.sort);
  else if (view.tab === "mine") list = sortQuestions(myQuestions(state), "recent");
  else {
    list = sortQuestions(visibleQuestions(state), view.sort);
    // The question being answered on stage comes first.
    if (onStage) list = [onStage, ...list.filter((q) => q.id !== onStage.id)];
  }
  ui.sort.hidden = view.tab === "mine";

  const canVote = !isBanned(state) && !view.fatal;
  const items = list.map((q) => ({
    q,
    onStage: Boolean(onStage && onStage.id === q.id),
    upvoted: hasUpvoted(state, q.id),
    canVote: canVote && q.status === "approved" && !q.mine, // not one's own question
    mergedInto: q.merged_into ? state.questions.find((x) => x.id === q.merged_into)?.text : undefined,
  }));
  if (view.tab === "mine") {
    const sending = view.sending.map((s) => ({
      q: { id: `local-${s.ref}`, text: s.text, author: s.author, organisation: s.organisation, status: "pending", votes: 0, mine: true },
      onStage: false, upvoted: false, canVote: false, sending: true,
    }));
    items.unshift(...sending.reverse());
  }
  reconcile(ui.list, items, (i) => i.q.id, createQuestion, updateQuestion);
  ui.empty.hidden = items.length > 0;
  // Not "ask the first one" to someone whose question waits for the moderators.
  const waiting = view.tab === "questions" && (view.sending.length > 0 || myQuestions(state).some((q) => q.status === "pending"));
  setText(ui.empty, t(waiting ? "questions.empty.waiting" : `questions.empty.${view.tab}`));
}

// --- polls -------------------------------------------------------------------------------------

/** @type {import("./poll-kinds.js").CardContext} */
const pollContext = {
  send: (command) => live.conn.send(command),
  requestRender: () => live.requestRender(),
  onerror: (err) => notify(ui.notice, errorText(err), "error"),
};

/** @param {import("./state.js").State} state */
function renderPolls(state) {
  /** @type {"banned"|"unavailable"|null} */
  const blocked = isBanned(state) ? "banned" : view.fatal ? "unavailable" : null;
  const polls = participantPolls(state).map((poll) => ({ poll, mine: myBallot(state, poll.id), blocked }));
  reconcile(ui.polls, polls, (p) => pollCardKey(p.poll), (p) => createPollCard(p, pollContext), updatePollCard);
  // No poll running: the panel steps aside so the questions come up on a phone.
  ui.pollsPanel.hidden = polls.length === 0;
  ui.pollsEmpty.hidden = polls.length > 0;
  // A poll waiting for this participant's vote comes before the question form (on a phone it
  // would be below the fold); once they voted, the usual order is back.
  placePolls(!blocked && polls.some((p) => p.poll.status === "open" && !p.mine));
}

/**
 * Puts the polls panel before (`first`) or after the question form, keeping on screen what the
 * participant was looking at and the keyboard focus where it was.
 * @param {boolean} first
 */
function placePolls(first) {
  const panel = ui.pollsPanel;
  if ((panel.nextElementSibling === ui.ask) === first) return;
  const focused = /** @type {HTMLElement|null} */ (document.activeElement);
  const keepFocus = focused && panel.contains(focused) ? focused : null;
  // Moving back down: the participant may be reading their poll; it stays where it is on screen.
  const box = panel.getBoundingClientRect();
  const inView = !first && isShown(panel) && box.bottom > 0 && box.top < window.innerHeight;
  if (first) ui.ask.before(panel);
  else ui.ask.after(panel);
  if (inView) window.scrollBy(0, panel.getBoundingClientRect().top - box.top);
  if (keepFocus) keepFocus.focus({ preventScroll: true });
}

// --- page --------------------------------------------------------------------------------------

/** @param {import("./state.js").State} state */
function render(state) {
  const banned = isBanned(state);
  const interactive = !state.session || state.session.interactive !== false;
  let closedKey = "";
  if (view.fatal) closedKey = "ask.unavailable";
  else if (banned) closedKey = "ask.banned";
  else if (!interactive) closedKey = "ask.not_interactive";
  ui.closed.hidden = !closedKey;
  setText(ui.closed, closedKey ? t(closedKey) : "");
  ui.form.hidden = Boolean(closedKey);
  ui.submit.disabled = Boolean(closedKey);
  renderPolls(state);
  renderQuestions(state);
}
