// Moderator page, polls column: one card per poll with its live results (moderator-poll-results.js)
// and the commands for its life cycle: a draft is edited (in the form, moderator-poll-form.js),
// deleted or opened; a poll opens ⇄ closes, goes on stage, shows or hides its results; a closed
// one is reset (ballots cleared) to run again; any poll is duplicated as a new draft.

import { byId, h, isShown, keepFocus, notify, reconcile, setText } from "./dom.js";
import { t } from "./i18n.js";
import { formKindOf, setupPollForm } from "./moderator-poll-form.js";
import { pollResults, resultsShape } from "./moderator-poll-results.js";

/** Poll card buttons that are one command on the poll. */
const POLL_COMMANDS = {
  open: "OpenPoll", reopen: "OpenPoll", close: "ClosePoll", on_stage: "PutPollOnStage",
  reveal: "RevealResults", hide: "HideResults",
};

/** The button that takes a focused one's place when the poll changes (open → close → reopen…). */
const NEXT_ACTION = /** @type {Record<string, string>} */ ({
  open: "close", close: "reopen", reopen: "close", on_stage: "clear_stage", clear_stage: "on_stage",
  reveal: "hide", hide: "reveal", edit: "close", delete: "open", reset: "reopen",
});

/** @param {HTMLElement} card @param {string} action */
function pollControl(card, action) {
  const buttons = /** @type {HTMLElement[]} */ ([...card.querySelectorAll("button[data-action]")]).filter(isShown);
  return buttons.find((b) => b.dataset.action === action)
    || buttons.find((b) => b.dataset.action === NEXT_ACTION[action])
    || buttons[0] || null;
}

/**
 * The buttons of a poll card, in order: the step forward first.
 * @param {any} poll @param {boolean} onStage @returns {string[]}
 */
function cardActions(poll, onStage) {
  if (poll.status === "draft") return ["open", "edit", "duplicate", "delete"];
  return [
    poll.status === "open" ? "close" : "reopen",
    onStage ? "clear_stage" : "on_stage",
    poll.results_visible ? "hide" : "reveal",
    "duplicate",
    // Reset only where there is something to clear; the keyboard then lands on "Reopen".
    ...(poll.status === "closed" && poll.ballots > 0 ? ["reset"] : []),
  ];
}

/**
 * Asks before an act that cannot be undone, in the page's dialog (as bans do): `onconfirm` runs
 * only when the moderator confirms. Closing the dialog gives focus back to the button that opened it.
 * @param {{title: string, text: string, confirm: string}} words @param {() => void} onconfirm
 */
function confirmAct(words, onconfirm) {
  const dialog = /** @type {HTMLDialogElement} */ (byId("poll-dialog"));
  if (dialog.open) return;
  setText(byId("poll-dialog-title"), words.title);
  setText(byId("poll-dialog-text"), words.text);
  setText(byId("poll-dialog-confirm"), words.confirm);
  dialog.returnValue = "";
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") onconfirm();
  }, { once: true });
  dialog.showModal();
}

/**
 * Wires the poll form and returns the renderer of the poll list.
 * @param {object} opts
 * @param {(command: Record<string, any>) => Promise<boolean>} opts.run sends a command, reports refusals
 * @param {HTMLElement} opts.notice the page's live region
 * @returns {(state: import("./state.js").State) => void}
 */
export function setupPolls({ run, notice }) {
  const ui = {
    list: byId("mod-poll-list"),
    empty: byId("mod-polls-empty"),
    question: byId("poll-question"),
  };
  const form = setupPollForm({ run, notice });

  /** @param {any} poll @param {string} action @param {HTMLElement} button */
  function perform(poll, action, button) {
    if (action === "clear_stage") return run({ type: "ClearStage", target: "poll" });
    if (action === "edit") return form.edit(poll, button);
    if (action === "duplicate") {
      return run({ type: "DuplicatePoll", poll_id: poll.id }).then((ok) => ok && notify(notice, t("poll.duplicated")));
    }
    if (action === "delete") {
      return confirmAct({
        title: t("poll.delete.title"), text: t("poll.delete.text", { question: poll.question }), confirm: t("poll.delete.confirm"),
      }, () => run({ type: "DeletePoll", poll_id: poll.id }));
    }
    if (action === "reset") {
      return confirmAct({
        title: t("poll.reset.title"), text: t("poll.reset.text", { count: poll.ballots || 0, question: poll.question }),
        confirm: t("poll.reset.confirm"),
      }, () => run({ type: "ResetPoll", poll_id: poll.id }));
    }
    const type = POLL_COMMANDS[/** @type {keyof typeof POLL_COMMANDS} */ (action)];
    return type ? run({ type, poll_id: poll.id }) : undefined;
  }

  /** @param {{poll: any}} item */
  function createCard({ poll }) {
    const refs = {
      poll,
      status: h("span", { class: "status-badge", dataset: { testid: "poll-status" } }),
      flags: h("span", { class: "poll__flags" }),
      question: h("p", { class: "poll__question", dataset: { testid: "poll-question-text" } }),
      kind: h("p", { class: "hint", dataset: { testid: "poll-kind-label" } }),
      results: /** @type {{el: HTMLElement, update: (poll: any) => void}|null} */ (null),
      shape: "",
      ballots: h("span", { class: "poll__ballots", dataset: { testid: "poll-ballots" } }),
      actions: h("div", { class: "actions" }),
      signature: "",
    };
    const card = h("li", { class: "poll poll--mod", dataset: { testid: "mod-poll" } },
      h("p", { class: "poll__head" }, refs.status, refs.flags), refs.question, refs.kind, refs.ballots, refs.actions);
    refs.actions.addEventListener("click", (ev) => {
      const button = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (ev.target).closest("button[data-action]"));
      if (button) perform(refs.poll, button.dataset.action || "", button);
    });
    /** @type {any} */ (card)._refs = refs;
    return card;
  }

  /** @param {any} card @param {{poll: any, onStage: boolean}} item */
  function updateCard(card, { poll, onStage }) {
    const r = card._refs;
    r.poll = poll;
    card.dataset.pollId = poll.id;
    card.dataset.status = poll.status;
    card.dataset.kind = poll.kind || "choice";
    r.status.dataset.status = poll.status;
    setText(r.status, t(`poll.status.${poll.status}`));
    r.flags.replaceChildren(
      ...(poll.results_visible ? [h("span", { class: "badge", text: t("poll.results_visible") })] : []),
      ...(onStage ? [h("span", { class: "badge badge--live", text: t("question.on_stage") })] : []),
    );
    setText(r.question, poll.question);
    setText(r.kind, t(`poll.kind.${formKindOf(poll)}`));
    // A draft edited may change kind or options: its results are then built anew.
    const shape = resultsShape(poll);
    if (shape !== r.shape || !r.results) {
      r.shape = shape;
      const results = pollResults(poll, run);
      if (r.results) r.results.el.replaceWith(results.el);
      else r.kind.after(results.el);
      r.results = results;
    } else r.results.update(poll);
    setText(r.ballots, t("poll.ballots", { count: poll.ballots || 0 }));
    // Rebuild the buttons only when they change, so keyboard focus survives tallies.
    const actions = cardActions(poll, onStage);
    const signature = actions.join("|");
    if (signature !== r.signature) {
      r.signature = signature;
      r.actions.replaceChildren(...actions.map((action) => h("button", {
        type: "button",
        class: action === "open" ? "button button--primary" : action === "delete" || action === "reset" ? "button button--danger" : "button",
        text: t(`poll.action.${action}`),
        dataset: { action, testid: `poll-${action}` },
      })));
    }
  }

  /** @param {import("./state.js").State} state */
  return function renderPolls(state) {
    const order = { open: 0, draft: 1, closed: 2 };
    const polls = [...state.polls].sort((a, b) => order[a.status] - order[b.status] || (b.opened_at || 0) - (a.opened_at || 0));
    const stageId = state.stage && state.stage.poll_id;
    form.forget(new Set(polls.filter((p) => p.status === "draft").map((p) => p.id)));
    // The last poll deleted, the keyboard goes back to the form.
    const restoreFocus = keepFocus(ui.list, (el) => el.dataset.action || "", pollControl, () => ui.question);
    reconcile(ui.list, polls.map((poll) => ({ poll, onStage: poll.id === stageId })), (p) => p.poll.id, createCard, updateCard);
    restoreFocus();
    ui.empty.hidden = polls.length > 0;
  };
}
