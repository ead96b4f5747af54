// Moderator page, polls column: the creation form and one card per poll with its live counts and
// the commands for its life cycle (draft → open ⇄ closed, on stage, results shown or hidden).

import { byId, h, isShown, keepFocus, notify, reconcile, setText } from "./dom.js";
import { t } from "./i18n.js";
import { pollPercentages } from "./state.js";

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 10;

/** Poll card buttons that are one command on the poll. */
const POLL_COMMANDS = {
  open: "OpenPoll", reopen: "OpenPoll", close: "ClosePoll", on_stage: "PutPollOnStage",
  reveal: "RevealResults", hide: "HideResults",
};

/** The button that takes a focused one's place when the poll changes (open → close → reopen…). */
const NEXT_ACTION = /** @type {Record<string, string>} */ ({
  open: "close", close: "reopen", reopen: "close", on_stage: "clear_stage", clear_stage: "on_stage",
  reveal: "hide", hide: "reveal",
});

/** @param {HTMLElement} card @param {string} action */
function pollControl(card, action) {
  const buttons = /** @type {HTMLElement[]} */ ([...card.querySelectorAll("button[data-action]")]).filter(isShown);
  return buttons.find((b) => b.dataset.action === action)
    || buttons.find((b) => b.dataset.action === NEXT_ACTION[action])
    || buttons[0] || null;
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
    form: /** @type {HTMLFormElement} */ (byId("poll-form")),
    question: /** @type {HTMLInputElement} */ (byId("poll-question")),
    options: byId("poll-options"),
    add: /** @type {HTMLButtonElement} */ (byId("poll-add-option")),
    list: byId("mod-poll-list"),
    empty: byId("mod-polls-empty"),
  };

  function addOptionInput(value = "") {
    const row = h("li", { class: "poll-form__option" });
    const input = h("input", { type: "text", maxlength: 100, value, dataset: { testid: "poll-option-input" } });
    const removeBtn = h("button", { type: "button", class: "button button--quiet", text: t("poll.create.remove_option"), dataset: { testid: "poll-remove-option" } });
    removeBtn.addEventListener("click", () => {
      row.remove();
      refreshOptionInputs();
    });
    row.append(input, removeBtn);
    ui.options.append(row);
    refreshOptionInputs();
    return input;
  }

  function refreshOptionInputs() {
    const rows = [...ui.options.children];
    rows.forEach((row, i) => {
      const input = /** @type {HTMLInputElement} */ (row.querySelector("input"));
      input.setAttribute("aria-label", t("poll.create.option", { n: i + 1 }));
      input.placeholder = t("poll.create.option", { n: i + 1 });
      /** @type {HTMLButtonElement} */ (row.querySelector("button")).disabled = rows.length <= MIN_OPTIONS;
    });
    ui.add.disabled = rows.length >= MAX_OPTIONS;
  }

  function resetForm() {
    ui.form.reset();
    ui.options.replaceChildren();
    for (let i = 0; i < MIN_OPTIONS; i++) addOptionInput();
  }

  ui.add.addEventListener("click", () => addOptionInput().focus());
  // On a phone the creation form starts folded: the running polls matter more.
  if (window.matchMedia("(max-width: 699px)").matches) /** @type {HTMLDetailsElement} */ (byId("poll-create")).open = false;
  ui.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const question = ui.question.value.trim();
    const options = [...ui.options.querySelectorAll("input")].map((i) => i.value.trim()).filter(Boolean);
    if (!question || options.length < MIN_OPTIONS) {
      notify(notice, t("poll.create.incomplete"), "error");
      return;
    }
    const multiple = /** @type {HTMLInputElement|null} */ (ui.form.querySelector("input[name='poll-kind']:checked"))?.value === "multiple";
    // The connection gives it a client_key: re-sent after a reconnect, it is created once.
    run({ type: "CreatePoll", question, options, multiple }).then((ok) => ok && resetForm());
  });
  resetForm();

  /** @param {{poll: any}} item */
  function createCard({ poll }) {
    const rows = poll.options.map((/** @type {string} */ label, /** @type {number} */ i) => {
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
      if (!button) return;
      if (button.dataset.action === "clear_stage") return run({ type: "ClearStage", target: "poll" });
      const type = POLL_COMMANDS[/** @type {keyof typeof POLL_COMMANDS} */ (button.dataset.action)];
      if (type) run({ type, poll_id: poll.id });
    });
    /** @type {any} */ (card)._refs = refs;
    return card;
  }

  /** @param {any} card @param {{poll: any, onStage: boolean}} item */
  function updateCard(card, { poll, onStage }) {
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
    // Rebuild the buttons only when they change, so keyboard focus survives tallies.
    const signature = `${poll.status}|${poll.results_visible}|${onStage}`;
    if (signature !== r.signature) {
      r.signature = signature;
      const actions = [];
      if (poll.status === "draft") actions.push("open");
      if (poll.status === "open") actions.push("close");
      if (poll.status === "closed") actions.push("reopen");
      if (poll.status !== "draft") actions.push(onStage ? "clear_stage" : "on_stage");
      if (poll.status !== "draft") actions.push(poll.results_visible ? "hide" : "reveal");
      r.actions.replaceChildren(...actions.map((action) =>
        h("button", { type: "button", class: action === "open" ? "button button--primary" : "button", text: t(`poll.action.${action}`), dataset: { action, testid: `poll-${action}` } })));
    }
  }

  /** @param {import("./state.js").State} state */
  return function renderPolls(state) {
    const order = { open: 0, draft: 1, closed: 2 };
    const polls = [...state.polls].sort((a, b) => order[a.status] - order[b.status] || (b.opened_at || 0) - (a.opened_at || 0));
    const stageId = state.stage && state.stage.poll_id;
    const restoreFocus = keepFocus(ui.list, (el) => el.dataset.action || "", pollControl);
    reconcile(ui.list, polls.map((poll) => ({ poll, onStage: poll.id === stageId })), (p) => p.poll.id, createCard, updateCard);
    restoreFocus();
    ui.empty.hidden = polls.length > 0;
  };
}
