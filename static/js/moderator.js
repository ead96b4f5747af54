// Moderator page: queues, stage control and bans (polls: moderator-polls.js). Works one-handed on
// a phone (single column) and as three columns on a laptop. Every action is a protocol command; the
// page only re-renders from the state the server sends back, so several moderators stay consistent.

import {
  byId, commandRunner, errorText, h, isShown, keepFocus, notify, reconcile, setText, setupSort, setupTabs, showFatal, showStatus, startLive,
} from "./dom.js";
import { formatTime, localizeDates, t } from "./i18n.js";
import { setupLog } from "./moderator-log.js";
import { setupMerge } from "./moderator-merge.js";
import { setupPolls } from "./moderator-polls.js";
import { countByStatus, questionsWithStatus, sortQuestions, stagePoll, stageQuestion } from "./state.js";

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
  origin: /** @type {HTMLSelectElement} */ (byId("origin-filter")),
  list: byId("queue-list"),
  empty: byId("queue-empty"),
  stageCurrent: byId("stage-current"),
  stagePoll: byId("stage-poll"),
  stageTitle: byId("stage-title"),
  stageClear: /** @type {HTMLButtonElement} */ (byId("stage-clear")),
  banned: byId("banned-list"),
  bannedEmpty: byId("banned-empty"),
  dialog: /** @type {HTMLDialogElement} */ (byId("ban-dialog")),
  dialogText: byId("ban-dialog-text"),
};

const view = {
  queue: /** @type {import("./state.js").QuestionStatus} */ ("pending"),
  sort: /** @type {"popular"|"recent"} */ ("popular"),
  /** "room", "remote" or "" (both): the moderator alternates between the room and remote */
  origin: "",
  /** ids of questions that just arrived, highlighted for a few seconds */
  fresh: new Set(),
  baseTitle: document.title,
  /** the editor to focus once the render has shown it */
  focusEditor: /** @type {HTMLTextAreaElement|null} */ (null),
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

const run = commandRunner(() => live.conn, ui.notice);

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

ui.origin.addEventListener("change", () => {
  view.origin = ui.origin.value;
  live.requestRender();
});

/** Actions offered for each status, in display order. Projecting is its own act, on an approved
 * question only: approving never puts a question on the screen. */
const ACTIONS = {
  pending: ["approve", "edit", "merge", "dismiss", "ban"],
  approved: ["on_stage", "answered", "reply", "star", "edit", "merge", "archive", "dismiss", "ban"],
  answered: ["reply", "restore", "archive", "star", "ban"],
  archived: ["restore", "ban"],
  dismissed: ["restore", "ban"],
  merged: ["unmerge", "ban"],
};

/** Actions that are one command on the question. */
const QUESTION_COMMANDS = {
  approve: "ApproveQuestion", dismiss: "DismissQuestion", on_stage: "PutOnStage",
  answered: "MarkAnswered", archive: "ArchiveQuestion", restore: "RestoreQuestion",
  unmerge: "UnmergeQuestion",
};

/** @param {any} q @param {string} action */
function perform(q, action) {
  if (action === "ban") return confirmBan(q);
  if (action === "merge") return openMerge(q);
  if (action === "star") return run({ type: "StarQuestion", question_id: q.id, starred: !q.starred });
  if (action === "clear_stage") return run({ type: "ClearStage", target: "question" });
  const type = QUESTION_COMMANDS[/** @type {keyof typeof QUESTION_COMMANDS} */ (action)];
  return type ? run({ type, question_id: q.id }) : undefined;
}

/**
 * Bans the author of question `q` after confirmation. Moderators never see participant ids (an
 * anonymous question must not be linkable to a named one): the ban goes through the question.
 * @param {{id: string, author: string|null}} q
 */
function confirmBan(q) {
  if (ui.dialog.open) return;
  ui.dialogText.textContent = q.author ? t("ban.confirm", { name: q.author }) : t("ban.confirm_anonymous");
  ui.dialog.returnValue = "";
  ui.dialog.addEventListener("close", () => {
    if (ui.dialog.returnValue === "ban") run({ type: "BanParticipant", question_id: q.id });
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
    mode: "edit", // or "reply": the editor writes the answer under the question
    reply: h("p", { class: "question__reply", dataset: { testid: "question-reply" } }),
    signature: "",
  };
  refs.editor.append(refs.textarea, h("div", { class: "editor__buttons" }, refs.save, refs.cancel));
  card.append(refs.flags, refs.text, refs.reply, refs.editor, refs.meta, refs.actions);
  const stopEditing = () => {
    refs.editing = false;
    live.requestRender();
  };
  refs.cancel.addEventListener("click", stopEditing);
  // Escape cancels, Ctrl/Cmd+Enter saves, as in the participant's form.
  refs.textarea.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      stopEditing();
    } else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      refs.save.click();
    }
  });
  refs.save.addEventListener("click", () => {
    const q = /** @type {any} */ (card)._q;
    const text = refs.textarea.value.trim();
    if (q && refs.mode === "reply") { // empty: the reply taken back
      run({ type: "ReplyToQuestion", question_id: q.id, text }).then((ok) => ok && stopEditing());
      return;
    }
    if (!q || !text) return;
    const type = q.status === "pending" ? "ApproveQuestion" : "EditQuestion";
    run({ type, question_id: q.id, text }).then((ok) => ok && stopEditing());
  });
  refs.actions.addEventListener("click", (ev) => {
    const button = /** @type {HTMLElement} */ (ev.target).closest("button[data-action]");
    const q = /** @type {any} */ (card)._q;
    if (!button || !q) return;
    if (button.dataset.action === "edit" || button.dataset.action === "reply") {
      refs.editing = true;
      refs.mode = button.dataset.action;
      refs.textarea.value = refs.mode === "reply" ? q.reply || "" : q.text;
      refs.textarea.maxLength = refs.mode === "reply" ? 1000 : 500;
      refs.textarea.setAttribute("aria-label", t(`action.${refs.mode}`));
      view.focusEditor = refs.textarea; // hidden until the next render
      live.requestRender();
    } else perform(q, button.dataset.action || "");
  });
  /** @type {any} */ (card)._refs = refs;
  return card;
}

/** How many duplicates were merged into each question, and each question's text, as of the
 * render in progress. */
let merged = /** @type {Map<string, number>} */ (new Map());
let texts = /** @type {Map<string, string>} */ (new Map());
const textOf = (/** @type {string} */ id) => texts.get(id) || "";

/** Where the question was asked: a badge on every card, so the moderator can alternate. */
function originBadge(/** @type {any} */ q) {
  const origin = q.origin === "room" ? "room" : "remote";
  return [h("span", { class: `badge badge--${origin}`, dataset: { testid: "origin-badge", origin }, text: t(`origin.${origin}`) })];
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
    ...originBadge(q),
    ...(merged.get(q.id) ? [h("span", { class: "badge", dataset: { testid: "merged-count" }, text: t("merge.count", { count: merged.get(q.id) || 0 }) })] : []),
    ...(q.merged_into ? [h("span", { class: "badge", text: t("merge.into_badge", { text: textOf(q.merged_into) }) })] : []),
  );
  r.flags.hidden = !r.flags.childElementCount;
  setText(r.text, q.text);
  r.text.hidden = r.editing;
  r.editor.hidden = !r.editing;
  setText(r.save, t(r.mode === "reply" ? "action.publish_reply" : q.status === "pending" ? "action.approve_edit" : "action.save"));
  setText(r.reply, q.reply ? t("question.reply", { reply: q.reply }) : "");
  r.reply.hidden = !q.reply || (r.editing && r.mode === "reply");

  r.meta.replaceChildren(...[
    h("span", { class: "question__author", text: q.author || t("question.anonymous") }),
    q.organisation && h("span", { class: "question__org", text: q.organisation }),
    q.asked_at && h("time", { class: "question__time", datetime: new Date(q.asked_at).toISOString(), text: formatTime(q.asked_at) }),
    h("span", { class: "question__votes", dataset: { testid: "vote-count" }, text: t("question.votes", { count: q.votes || 0 }) }),
  ].filter((el) => el instanceof Node));

  // Rebuild the buttons only when they change, so keyboard focus survives tallies.
  const signature = [q.status, onStage, q.starred, r.editing].join("|");
  if (signature !== r.signature) {
    r.signature = signature;
    const actions = (ACTIONS[/** @type {keyof typeof ACTIONS} */ (q.status)] || [])
      .map((a) => (a === "on_stage" && onStage ? "clear_stage" : a));
    r.actions.replaceChildren(...actions.map((action) => {
      // The card's button takes its own question off stage; the stage box's clears everything.
      const label = action === "star" && q.starred ? "action.unstar" : action === "clear_stage" ? "action.take_off_stage" : `action.${action}`;
      const cls = action === "approve" || action === "on_stage" ? "button button--primary" : action === "ban" ? "button button--danger" : "button";
      return h("button", { type: "button", class: cls, text: t(label), dataset: { action, testid: `action-${action}` } });
    }));
    r.actions.hidden = r.editing;
  }
}

/** Buttons that take each other's place when the question changes. */
const TWIN_ACTIONS = /** @type {Record<string, string>} */ ({ on_stage: "clear_stage", clear_stage: "on_stage" });

/** The focused control's role in its card: its action; the editor's controls count as "edit". */
function cardControlRole(/** @type {HTMLElement} */ el) {
  return el.dataset.action || "edit";
}

/** The control to focus in `card` for `role`: the editor while it is open, else the same button. */
function cardControl(/** @type {HTMLElement} */ card, /** @type {string} */ role) {
  const r = /** @type {any} */ (card)._refs;
  if (r && r.editing) return r.textarea;
  const buttons = /** @type {HTMLElement[]} */ ([...card.querySelectorAll("button[data-action]")]).filter(isShown);
  return buttons.find((b) => b.dataset.action === role)
    || buttons.find((b) => b.dataset.action === TWIN_ACTIONS[role])
    || buttons[0] || null;
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
  merged = new Map();
  texts = new Map(state.questions.map((q) => [q.id, q.text]));
  for (const q of state.questions) if (q.merged_into) merged.set(q.merged_into, (merged.get(q.merged_into) || 0) + 1);
  let list = questionsWithStatus(state, view.queue);
  if (view.origin) list = list.filter((q) => (q.origin === "room" ? "room" : "remote") === view.origin);
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
ui.stageTitle.tabIndex = -1; // takes the focus when the clear button it held goes away

/** @param {import("./state.js").State} state */
function renderStage(state) {
  const q = stageQuestion(state);
  const poll = stagePoll(state);
  setText(ui.stageCurrent, q ? q.text : t("moderator.stage.empty"));
  ui.stageCurrent.classList.toggle("is-empty", !q);
  ui.stagePoll.hidden = !poll;
  setText(ui.stagePoll, poll ? t("moderator.stage.poll", { question: poll.question }) : "");
  const hadFocus = document.activeElement === ui.stageClear;
  ui.stageClear.hidden = !(state.stage && (state.stage.question_id || state.stage.poll_id));
  if (hadFocus && ui.stageClear.hidden) ui.stageTitle.focus();
}

/**
 * Each ban is named by the question it was made through (`ban_id`): the author's name on that
 * question, or "anonymous participant", with the question's text to tell bans apart.
 * @param {import("./state.js").State} state
 */
function renderBanned(state) {
  const banned = state.banned || [];
  reconcile(
    ui.banned,
    banned,
    (b) => b.ban_id,
    (b) => {
      const name = h("span", { class: "banned-list__name", dataset: { testid: "banned-name" } });
      const question = h("span", { class: "banned-list__question" });
      const li = h("li", { class: "banned-list__item", dataset: { testid: "banned-item" } }, h("span", { class: "banned-list__who" }, name, question));
      li.append(h("button", {
        type: "button", class: "button", text: t("action.unban"), dataset: { testid: "action-unban" },
        onclick: () => run({ type: "UnbanParticipant", ban_id: b.ban_id }),
      }));
      /** @type {any} */ (li)._refs = { name, question };
      return li;
    },
    (li, b) => {
      const r = /** @type {any} */ (li)._refs;
      setText(r.name, b.name || t("banned.anonymous"));
      const q = state.questions.find((x) => x.id === b.ban_id);
      setText(r.question, q ? t("banned.question", { text: q.text }) : "");
      r.question.hidden = !q;
    },
  );
  ui.bannedEmpty.hidden = banned.length > 0;
}

// --- polls (moderator-polls.js) ----------------------------------------------------------------

const renderPolls = setupPolls({ run, notice: ui.notice });
const renderLog = setupLog();
const openMerge = setupMerge({ run, state: () => live.getState() });

// --- page --------------------------------------------------------------------------------------

/** @param {import("./state.js").State} state */
function render(state) {
  // Keyboard users keep their place when a card's buttons change or the card leaves the queue.
  const restoreFocus = keepFocus(ui.list, cardControlRole, cardControl,
    () => /** @type {HTMLElement|null} */ (ui.tabs.querySelector("[aria-selected='true']")));
  setText(ui.presence, t("moderator.connected", { count: state.connected || 0 }));
  ui.premoderation.disabled = false;
  ui.premoderation.checked = Boolean(state.settings && state.settings.premoderation);
  renderQueues(state);
  renderStage(state);
  renderBanned(state);
  renderPolls(state);
  renderLog(state);
  restoreFocus();
  const editor = view.focusEditor;
  view.focusEditor = null;
  if (editor && isShown(editor)) {
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }
}
