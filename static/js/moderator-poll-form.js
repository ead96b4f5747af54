// Moderator page, polls column: the form that prepares a poll. It creates one (CreatePoll) or, sent
// from a draft's "Edit" button, rewrites that draft (EditPoll): one form, so that both read alike.

import { byId, h, isShown, notify, setText } from "./dom.js";
import { t } from "./i18n.js";

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 10;

/** The form's kind choices: two of them are the `choice` kind, one answer or several. */
const FORM_KINDS = Object.freeze(["single", "multiple", "rating", "words", "text"]);

/**
 * The protocol's kind of a form choice.
 * @param {string} choice one of FORM_KINDS @returns {{kind: string, multiple: boolean}}
 */
export function pollKindOf(choice) {
  if (choice === "single" || choice === "multiple") return { kind: "choice", multiple: choice === "multiple" };
  return { kind: FORM_KINDS.includes(choice) ? choice : "choice", multiple: false };
}

/**
 * The form choice (and the `poll.kind.*` key) of a poll: a poll from before kinds is a choice poll.
 * @param {{kind?: string, multiple?: boolean}} poll @returns {string}
 */
export function formKindOf(poll) {
  if (!poll.kind || poll.kind === "choice") return poll.multiple ? "multiple" : "single";
  return poll.kind;
}

/**
 * Wires the poll form.
 * @param {object} opts
 * @param {(command: Record<string, any>) => Promise<boolean>} opts.run sends a command, reports refusals
 * @param {HTMLElement} opts.notice the page's live region
 * @returns {{edit: (poll: any, from: HTMLElement|null) => void, forget: (drafts: Set<string>) => void}}
 *   `edit` fills the form with a draft; `forget` leaves edit mode when that draft is a draft no more
 */
export function setupPollForm({ run, notice }) {
  const ui = {
    details: /** @type {HTMLDetailsElement} */ (byId("poll-create")),
    title: byId("poll-form-title"),
    form: /** @type {HTMLFormElement} */ (byId("poll-form")),
    editing: byId("poll-form-editing"),
    question: /** @type {HTMLInputElement} */ (byId("poll-question")),
    hint: byId("poll-kind-hint"),
    optionsBox: byId("poll-options-fieldset"),
    options: byId("poll-options"),
    add: /** @type {HTMLButtonElement} */ (byId("poll-add-option")),
    submit: /** @type {HTMLButtonElement} */ (byId("poll-submit")),
    cancel: /** @type {HTMLButtonElement} */ (byId("poll-edit-cancel")),
  };
  /** The draft being edited, and the button to give focus back to when done. */
  let editing = /** @type {{id: string, from: HTMLElement|null}|null} */ (null);

  function addOptionInput(value = "") {
    const row = h("li", { class: "poll-form__option" });
    const input = h("input", { type: "text", maxlength: 100, value, dataset: { testid: "poll-option-input" } });
    const removeBtn = h("button", { type: "button", class: "button button--quiet", text: t("poll.create.remove_option"), dataset: { testid: "poll-remove-option" } });
    removeBtn.addEventListener("click", () => {
      // Focus stays in the list: on the option now at this place, else the add button.
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      refreshOptionInputs();
      const target = next ? next.querySelector("input") : ui.add;
      if (target) target.focus();
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

  /** @param {string[]} values */
  function setOptions(values) {
    ui.options.replaceChildren();
    for (const value of values) addOptionInput(value);
    for (let i = values.length; i < MIN_OPTIONS; i++) addOptionInput();
  }

  function chosenKind() {
    const checked = /** @type {HTMLInputElement|null} */ (ui.form.querySelector("input[name='poll-kind']:checked"));
    return checked ? checked.value : "single";
  }

  /** @param {string} choice */
  function setKind(choice) {
    for (const radio of /** @type {NodeListOf<HTMLInputElement>} */ (ui.form.querySelectorAll("input[name='poll-kind']"))) {
      radio.checked = radio.value === choice;
    }
    showKind();
  }

  // Options belong to choice polls only: for the other kinds they are hidden and not sent.
  function showKind() {
    const { kind } = pollKindOf(chosenKind());
    ui.optionsBox.hidden = kind !== "choice";
    setText(ui.hint, kind === "choice" ? "" : t(`poll.create.hint.${kind}`));
  }

  function showMode() {
    setText(ui.title, t(editing ? "poll.create.edit_title" : "poll.create.title"));
    setText(ui.submit, t(editing ? "poll.create.save" : "poll.create.submit"));
    ui.submit.dataset.testid = editing ? "poll-save" : "poll-create";
    ui.cancel.hidden = !editing;
    ui.editing.hidden = !editing;
  }

  function resetForm() {
    ui.form.reset();
    setOptions([]);
    showKind();
  }

  /** Back to creating; focus returns to the draft's Edit button when it is still there. */
  function endEditing() {
    const from = editing && editing.from;
    editing = null;
    resetForm();
    showMode();
    if (from && isShown(from)) from.focus();
  }

  ui.form.addEventListener("change", (ev) => {
    if (/** @type {HTMLInputElement} */ (ev.target).name === "poll-kind") showKind();
  });
  ui.add.addEventListener("click", () => addOptionInput().focus());
  ui.cancel.addEventListener("click", () => endEditing());
  ui.form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && editing) {
      ev.preventDefault();
      endEditing();
    }
  });
  // On a phone the creation form starts folded: the running polls matter more.
  if (window.matchMedia("(max-width: 699px)").matches) ui.details.open = false;

  ui.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const question = ui.question.value.trim();
    const { kind, multiple } = pollKindOf(chosenKind());
    const options = kind !== "choice" ? []
      : [...ui.options.querySelectorAll("input")].map((i) => i.value.trim()).filter(Boolean);
    if (!question || (kind === "choice" && options.length < MIN_OPTIONS)) {
      notify(notice, t(kind === "choice" ? "poll.create.incomplete" : "poll.create.question_missing"), "error");
      (question ? /** @type {HTMLElement|null} */ (ui.options.querySelector("input")) : ui.question)?.focus();
      return;
    }
    const poll = { question, kind, options, multiple };
    if (editing) {
      const id = editing.id;
      run({ type: "EditPoll", poll_id: id, ...poll }).then((ok) => {
        if (!ok || !editing || editing.id !== id) return;
        notify(notice, t("poll.create.saved"));
        endEditing();
      });
      return;
    }
    // The connection gives it a client_key: re-sent after a reconnect, it is created once.
    run({ type: "CreatePoll", ...poll }).then((ok) => ok && resetForm());
  });
  resetForm();

  return {
    edit(poll, from) {
      editing = { id: poll.id, from };
      ui.question.value = poll.question;
      setKind(formKindOf(poll));
      setOptions(poll.kind && poll.kind !== "choice" ? [] : poll.options || []);
      setText(ui.editing, t("poll.create.editing", { question: poll.question }));
      showMode();
      ui.details.open = true;
      ui.question.focus();
      ui.question.select();
    },
    forget(drafts) {
      // Opened or deleted meanwhile (by another moderator, say): what was typed stays, to be
      // created as a new poll if wanted.
      if (!editing || drafts.has(editing.id)) return;
      editing = null;
      showMode();
      notify(notice, t("poll.create.edit_gone"), "error");
    },
  };
}
