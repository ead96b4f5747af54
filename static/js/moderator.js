// Moderator page: queues, stage control, polls and bans. Works one-handed on a phone (single
// column) and as three columns on a laptop. Every action is a protocol command; the page only
// re-renders from the state the server sends back, so several moderators stay consistent.

import { byId, errorText, h, notify, reconcile, setText, setupSort, setupTabs, showFatal, showStatus, startLive } from "./dom.js";
import { formatTime, localizeDates, t } from "./i18n.js";
import { countByStatus, pollPercentages, questionsWithStatus, sortQuestions, stagePoll, stageQuestion } from "./state.js";

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 10;
const NEW_HIGHLIGHT_MS = 4000;

const ui = {
  status: byId("conn-status"),
  fatal: byId("fatal"),
  notice: byId("notice"),
  presence: byId("presence"),
  premoderation: /** @type {HTMLInputElement} */ (byId("premoderation")),
  tabs: byId("queue-tabs"),
  panel: byId("queue-panel"),
  sort: byId("sort"),
  list: byId("queue-list"),
  empty: byId("queue-empty"),
  stageCurrent: byId("stage-current"),
  stagePoll: byId("stage-poll"),
  stageClear: /** @type {HTMLButtonElement} */ (byId("stage-clear")),
  banned: byId("banned-list"),
  bannedEmpty: byId("banned-empty"),
  pollForm: /** @type {HTMLFormElement} */ (byId("poll-form")),
  pollQuestion: /** @type {HTMLInputElement} */ (byId("poll-question")),
  pollOptions: byId("poll-options"),
  pollAdd: /** @type {HTMLButtonElement} */ (byId("poll-add-option")),
  polls: byId("mod-poll-list"),
  pollsEmpty: byId("mod-polls-empty"),
  dialog: /** @type {HTMLDialogElement} */ (byId("ban-dialog")),
  dialogText: byId("ban-dialog-text"),
};

const view = {
  queue: /** @type {import("./state.js").QuestionStatus} */ ("pending"),
  sort: /** @type {"popular"|"recent"} */ ("popular"),
  /** ids of questions that just arrived, highlighted for a few seconds */
  fresh: new Set(),
  baseTitle: document.title,
};

localizeDates(document);

const live = startLive({
  render,
  onstatus: (status) => showStatus(ui.status, status, "moderator"),
  onfatal: (code) => showFatal(ui.fatal, code),
  onerror: (msg) => notify(ui.notice, errorText(msg), "error"),
  onevent: (msg) => {
    if (msg.type === "QuestionAsked" && msg.question) {
      const id = msg.question.id;
      view.fresh.add(id);
      setTimeout(() => {
        view.fresh.delete(id);
        live.requestRender();
      }, NEW_HIGHLIGHT_MS);
    }
  },
});

/**
 * Sends a command; shows the server's refusal. A retried command refused as `conflict` was most
 * likely applied before the connection dropped: stay quiet then.
 * @param {Record<string, any>} command
 * @returns {Promise<boolean>} whether it was acknowledged
 */
function run(command) {
  return live.conn.send(command).then(
    () => true,
    (err) => {
      if (!(err.retried && err.code === "conflict")) notify(ui.notice, errorText(err), "error");
      return false;
    },
  );
}

// --- header ------------------------------------------------------------------------------------

ui.premoderation.addEventListener("change", () => {
  const enabled = ui.premoderation.checked;
  run({ type: "SetPremoderation", enabled }).then(() => live.requestRender());
});

// --- question queues ---------------------------------------------------------------------------

setupTabs(ui.tabs, (tab) => {
  view.queue = /** @type {any} */ (tab);
  ui.panel.setAttribute("aria-labelledby", `tab-${tab}`);
  ui.panel.dataset.queue = tab;
  live.requestRender();
});

setupSort(ui.sort, (order) => {
  view.sort = order;
  live.requestRender();
});

/** Actions offered for each status, in display order. */
const ACTIONS = {
  pending: ["approve", "edit", "on_stage", "dismiss", "ban"],
  approved: ["on_stage", "answered", "star", "edit", "archive", "dismiss", "ban"],
  answered: ["restore", "archive", "star", "ban"],
  archived: ["restore", "ban"],
  dismissed: ["restore", "ban"],
};

/** Actions that are one command on the question. */
const QUESTION_COMMANDS = {
  approve: "ApproveQuestion", dismiss: "DismissQuestion", on_stage: "PutOnStage",
  answered: "MarkAnswered", archive: "ArchiveQuestion", restore: "RestoreQuestion",
};

/** @param {any} q @param {string} action */
function perform(q, action) {
  if (action === "ban") return confirmBan(q.author_id, q.author);
  if (action === "star") return run({ type: "StarQuestion", question_id: q.id, starred: !q.starred });
  if (action === "clear_stage") return run({ type: "ClearStage", target: "question" });
  const type = QUESTION_COMMANDS[/** @type {keyof typeof QUESTION_COMMANDS} */ (action)];
  return type ? run({ type, question_id: q.id }) : undefined;
}

/** @param {string|undefined} participantId @param {string|null} name */
function confirmBan(participantId, name) {
  if (!participantId) return;
  ui.dialogText.textContent = name ? t("ban.confirm", { name }) : t("ban.confirm_anonymous");
  ui.dialog.returnValue = "";
  ui.dialog.addEventListener("close", () => {
    if (ui.dialog.returnValue === "ban") run({ type: "BanParticipant", participant_id: participantId });
  }, { once: true });
  ui.dialog.showModal();
}

function createCard() {
  const card = h("li", { class: "question question--mod", dataset: { testid: "question-card" } });
  const refs = {
    flags: h("p", { class: "question__flags" }),
    text: h("p", { class: "question__text", dataset: { testid: "question-text" } }),
    editor: h("div", { class: "editor", hidden: true }),
    textarea: /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 3, maxlength: 500, "aria-label": t("action.edit"), dataset: { testid: "edit-text" } })),
    save: h("button", { type: "button", class: "button button--primary", dataset: { testid: "edit-save" } }),
    cancel: h("button", { type: "button", class: "button", text: t("action.cancel"), dataset: { testid: "edit-cancel" } }),
    meta: h("p", { class: "question__meta" }),
    actions: h("div", { class: "actions" }),
    editing: false,
    signature: "",
  };
  refs.editor.append(refs.textarea, h("div", { class: "editor__buttons" }, refs.save, refs.cancel));
  card.append(refs.flags, refs.text, refs.editor, refs.meta, refs.actions);
  const stopEditing = () => {
    refs.editing = false;
    live.requestRender();
  };
  refs.cancel.addEventListener("click", stopEditing);
  refs.save.addEventListener("click", () => {
    const q = /** @type {any} */ (card)._q;
    const text = refs.textarea.value.trim();
    if (!q || !text) return;
    const type = q.status === "pending" ? "ApproveQuestion" : "EditQuestion";
    run({ type, question_id: q.id, text }).then((ok) => ok && stopEditing());
  });
  refs.actions.addEventListener("click", (ev) => {
    const button = /** @type {HTMLElement} */ (ev.target).closest("button[data-action]");
    const q = /** @type {any} */ (card)._q;
    if (!button || !q) return;
    if (button.dataset.action === "edit") {
      refs.editing = true;
      refs.textarea.value = q.text;
      live.requestRender();
      queueMicrotask(() => refs.textarea.focus());
    } else perform(q, button.dataset.action || "");
  });
  /** @type {any} */ (card)._refs = refs;
  return card;
}

/** @param {any} card @param {{q: any, onStage: boolean}} item */
function updateCard(card, { q, onStage }) {
  const r = card._refs;
  card._q = q;
  card.dataset.questionId = q.id;
  card.dataset.status = q.status;
  card.classList.toggle("is-on-stage", onStage);
  card.classList.toggle("is-starred", Boolean(q.starred));
  card.classList.toggle("is-new", view.fresh.has(q.id));
  card.classList.toggle("is-editing", r.editing);

  r.flags.replaceChildren(
    ...(onStage ? [h("span", { class: "badge badge--live", text: t("question.on_stage") })] : []),
    ...(q.starred ? [h("span", { class: "badge badge--star", text: t("question.starred") })] : []),
    ...(q.edited ? [h("span", { class: "badge", text: t("question.edited") })] : []),
  );
  r.flags.hidden = !r.flags.childElementCount;
  setText(r.text, q.text);
  r.text.hidden = r.editing;
  r.editor.hidden = !r.editing;
  setText(r.save, t(q.status === "pending" ? "action.approve_edit" : "action.save"));

  r.meta.replaceChildren(...[
    h("span", { class: "question__author", text: q.author || t("question.anonymous") }),
    q.organisation && h("span", { class: "question__org", text: q.organisation }),
    q.asked_at && h("time", { class: "question__time", datetime: new Date(q.asked_at).toISOString(), text: formatTime(q.asked_at) }),
    h("span", { class: "question__votes", dataset: { testid: "vote-count" }, text: t("question.votes", { count: q.votes || 0 }) }),
  ].filter((el) => el instanceof Node));

  // Rebuild the buttons only when they change, so keyboard focus survives tallies.
  const signature = [q.status, onStage, q.starred, Boolean(q.author_id), r.editing].join("|");
  if (signature !== r.signature) {
    r.signature = signature;
    const actions = (ACTIONS[/** @type {keyof typeof ACTIONS} */ (q.status)] || [])
      .filter((a) => a !== "ban" || q.author_id)
      .map((a) => (a === "on_stage" && onStage ? "clear_stage" : a));
    r.actions.replaceChildren(...actions.map((action) => {
      const label = action === "star" && q.starred ? "action.unstar" : `action.${action}`;
      const cls = action === "approve" || action === "on_stage" ? "button button--primary" : action === "ban" ? "button button--danger" : "button";
      return h("button", { type: "button", class: cls, text: t(label), dataset: { action, testid: `action-${action}` } });
    }));
    r.actions.hidden = r.editing;
  }
}

/** @param {import("./state.js").State} state */
function renderQueues(state) {
  const counts = countByStatus(state);
  for (const el of ui.tabs.querySelectorAll("[data-count]")) {
    setText(el, String(counts[/** @type {keyof typeof counts} */ (/** @type {HTMLElement} */ (el).dataset.count)] || 0));
  }
  document.title = counts.pending ? `(${counts.pending}) ${view.baseTitle}` : view.baseTitle;
  const sortable = view.queue === "approved" || view.queue === "answered";
  ui.sort.hidden = !sortable;
  // The pending queue reads oldest first (first come, first moderated); the others newest first.
  let list = questionsWithStatus(state, view.queue);
  if (sortable) list = sortQuestions(list, view.sort, { starredFirst: true });
  else if (view.queue === "pending") list = sortQuestions(list, "recent").reverse();
  else list = sortQuestions(list, "recent");
  const onStageId = state.stage && state.stage.question_id;
  reconcile(ui.list, list.map((q) => ({ q, onStage: q.id === onStageId })), (i) => i.q.id, createCard, updateCard);
  ui.empty.hidden = list.length > 0;
  setText(ui.empty, t(`queue.empty.${view.queue}`));
}

// --- stage box, banned list --------------------------------------------------------------------

ui.stageClear.addEventListener("click", () => run({ type: "ClearStage" }));

/** @param {import("./state.js").State} state */
function renderStage(state) {
  const q = stageQuestion(state);
  const poll = stagePoll(state);
  setText(ui.stageCurrent, q ? q.text : t("moderator.stage.empty"));
  ui.stageCurrent.classList.toggle("is-empty", !q);
  ui.stagePoll.hidden = !poll;
  setText(ui.stagePoll, poll ? t("moderator.stage.poll", { question: poll.question }) : "");
  ui.stageClear.hidden = !(state.stage && (state.stage.question_id || state.stage.poll_id));
}

/** @param {import("./state.js").State} state */
function renderBanned(state) {
  reconcile(
    ui.banned,
    state.banned || [],
    (b) => b.participant_id,
    (b) => {
      const li = h("li", { class: "banned-list__item", dataset: { testid: "banned-item" } }, h("span", { class: "banned-list__name" }));
      li.append(h("button", {
        type: "button", class: "button", text: t("action.unban"), dataset: { testid: "action-unban" },
        onclick: () => run({ type: "UnbanParticipant", participant_id: b.participant_id }),
      }));
      return li;
    },
    (li, b) => setText(/** @type {Element} */ (li.firstElementChild), b.name || t("banned.anonymous", { id: b.participant_id.slice(-6) })),
  );
  ui.bannedEmpty.hidden = (state.banned || []).length > 0;
}

// --- polls -------------------------------------------------------------------------------------

function addOptionInput(value = "") {
  const row = h("li", { class: "poll-form__option" });
  const input = h("input", { type: "text", maxlength: 100, value, dataset: { testid: "poll-option-input" } });
  const removeBtn = h("button", { type: "button", class: "button button--quiet", text: t("poll.create.remove_option"), dataset: { testid: "poll-remove-option" } });
  removeBtn.addEventListener("click", () => {
    row.remove();
    refreshOptionInputs();
  });
  row.append(input, removeBtn);
  ui.pollOptions.append(row);
  refreshOptionInputs();
  return input;
}

function refreshOptionInputs() {
  const rows = [...ui.pollOptions.children];
  rows.forEach((row, i) => {
    const input = /** @type {HTMLInputElement} */ (row.querySelector("input"));
    input.setAttribute("aria-label", t("poll.create.option", { n: i + 1 }));
    input.placeholder = t("poll.create.option", { n: i + 1 });
    /** @type {HTMLButtonElement} */ (row.querySelector("button")).disabled = rows.length <= MIN_OPTIONS;
  });
  ui.pollAdd.disabled = rows.length >= MAX_OPTIONS;
}

function resetPollForm() {
  ui.pollForm.reset();
  ui.pollOptions.replaceChildren();
  for (let i = 0; i < MIN_OPTIONS; i++) addOptionInput();
}

ui.pollAdd.addEventListener("click", () => addOptionInput().focus());
// On a phone the creation form starts folded: the running polls matter more.
if (window.matchMedia("(max-width: 699px)").matches) /** @type {HTMLDetailsElement} */ (byId("poll-create")).open = false;
ui.pollForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const question = ui.pollQuestion.value.trim();
  const options = [...ui.pollOptions.querySelectorAll("input")].map((i) => i.value.trim()).filter(Boolean);
  if (!question || options.length < MIN_OPTIONS) {
    notify(ui.notice, t("poll.create.incomplete"), "error");
    return;
  }
  const multiple = /** @type {HTMLInputElement|null} */ (ui.pollForm.querySelector("input[name='poll-kind']:checked"))?.value === "multiple";
  run({ type: "CreatePoll", question, options, multiple }).then((ok) => ok && resetPollForm());
});
resetPollForm();

/** @param {{poll: any}} item */
function createPollCard({ poll }) {
  const rows = poll.options.map((label, i) => {
    const fill = h("span", { class: "bar__fill" });
    const value = h("span", { class: "bar__pct", dataset: { testid: `poll-percent-${i}` } });
    return { fill, value, row: h("li", { class: "poll-option poll-option--result" }, h("span", { class: "poll-option__label", text: label }), h("span", { class: "bar" }, fill), value) };
  });
  const refs = {
    rows,
    status: h("span", { class: "status-badge", dataset: { testid: "poll-status" } }),
    flags: h("span", { class: "poll__flags" }),
    ballots: h("span", { class: "poll__ballots", dataset: { testid: "poll-ballots" } }),
    actions: h("div", { class: "actions" }),
    signature: "",
  };
  const card = h("li", { class: "poll poll--mod", dataset: { testid: "mod-poll" } },
    h("p", { class: "poll__head" }, refs.status, refs.flags),
    h("p", { class: "poll__question", text: poll.question }),
    h("p", { class: "hint", text: t(poll.multiple ? "poll.kind.multiple" : "poll.kind.single") }),
    h("ol", { class: "poll__options" }, ...rows.map((/** @type {any} */ r) => r.row)),
    refs.ballots,
    refs.actions,
  );
  refs.actions.addEventListener("click", (ev) => {
    const button = /** @type {HTMLElement} */ (ev.target).closest("button[data-action]");
    if (button && button.dataset.action === "clear_stage") return run({ type: "ClearStage", target: "poll" });
    const types = { open: "OpenPoll", close: "ClosePoll", on_stage: "PutPollOnStage", reveal: "RevealResults", hide: "HideResults" };
    const type = button && types[/** @type {keyof typeof types} */ (button.dataset.action)];
    if (type) run({ type, poll_id: poll.id });
  });
  /** @type {any} */ (card)._refs = refs;
  return card;
}

/** @param {any} card @param {{poll: any, onStage: boolean}} item */
function updatePollCard(card, { poll, onStage }) {
  const r = card._refs;
  card.dataset.pollId = poll.id;
  card.dataset.status = poll.status;
  r.status.dataset.status = poll.status;
  setText(r.status, t(`poll.status.${poll.status}`));
  r.flags.replaceChildren(
    ...(poll.results_visible ? [h("span", { class: "badge", text: t("poll.results_visible") })] : []),
    ...(onStage ? [h("span", { class: "badge badge--live", text: t("question.on_stage") })] : []),
  );
  const percentages = pollPercentages(poll) || [];
  r.rows.forEach((/** @type {any} */ row, /** @type {number} */ i) => {
    const pct = percentages[i] || 0;
    row.fill.style.width = `${pct}%`;
    setText(row.value, t("poll.result", { percent: pct, count: (poll.counts && poll.counts[i]) || 0 }));
  });
  setText(r.ballots, t("poll.ballots", { count: poll.ballots || 0 }));
  const signature = `${poll.status}|${poll.results_visible}|${onStage}`;
  if (signature !== r.signature) {
    r.signature = signature;
    const actions = [];
    if (poll.status === "draft") actions.push("open");
    if (poll.status === "open") actions.push("close");
    if (poll.status !== "draft") actions.push(onStage ? "clear_stage" : "on_stage");
    if (poll.status !== "draft") actions.push(poll.results_visible ? "hide" : "reveal");
    r.actions.replaceChildren(...actions.map((action) =>
      h("button", { type: "button", class: action === "open" ? "button button--primary" : "button", text: t(`poll.action.${action}`), dataset: { action, testid: `poll-${action}` } })));
  }
}

/** @param {import("./state.js").State} state */
function renderPolls(state) {
  const order = { open: 0, draft: 1, closed: 2 };
  const polls = [...state.polls].sort((a, b) => order[a.status] - order[b.status] || (b.opened_at || 0) - (a.opened_at || 0));
  const stageId = state.stage && state.stage.poll_id;
  reconcile(ui.polls, polls.map((poll) => ({ poll, onStage: poll.id === stageId })), (p) => p.poll.id, createPollCard, updatePollCard);
  ui.pollsEmpty.hidden = polls.length > 0;
}

// --- page --------------------------------------------------------------------------------------

/** @param {import("./state.js").State} state */
function render(state) {
  setText(ui.presence, t("moderator.connected", { count: state.connected || 0 }));
  ui.premoderation.disabled = false;
  ui.premoderation.checked = Boolean(state.settings && state.settings.premoderation);
  renderQueues(state);
  renderStage(state);
  renderBanned(state);
  renderPolls(state);
}
