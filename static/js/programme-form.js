// The programme as a form, field by field, for organisers who do not write TOML: the event, its
// days, and its sessions grouped by day, each in a <details> whose summary shows its time, title
// and room. Every field writes into the draft (static/js/programme-draft.js), which is what is
// sent; adding, removing or moving things redraws the form from the draft, keeping open sessions
// open and the focus where it was.

import { h, setText } from "./dom.js";
import { formatDate, t } from "./i18n.js";
import {
  KINDS, TEXT_LANGUAGES, addDay, addSession, dataOf, draftOf, draftProblem, languagesFromText,
  languagesToText, moveDay, removeDay, removeSession, sessionSummary, sessionsByDay,
} from "./programme-draft.js";

/** @typedef {import("./programme-draft.js").Session} Session */
/** @typedef {import("./programme-draft.js").Day} Day */

const LANG_SUFFIXES = ["", ...TEXT_LANGUAGES.map((lang) => `_${lang}`)];

export class ProgrammeForm {
  /**
   * @param {HTMLFormElement} form the (empty) form element, whose submit saves
   * @param {HTMLElement} message where refusals the form finds itself are said
   * @param {(data: any) => void} onsave given the data to send
   */
  constructor(form, message, onsave) {
    this.form = form;
    this.message = message;
    this.draft = draftOf(null);
    /** @type {WeakSet<Session>} sessions added here: their id is still to be chosen */
    this.fresh = new WeakSet();
    /** @type {WeakSet<Session>} sessions whose <details> is open */
    this.open = new WeakSet();
    /** @type {WeakMap<object, number>} a number per day and session, for the fields' ids */
    this.numbers = new WeakMap();
    this.counter = 0;
    form.noValidate = true; // the draft is checked as a whole on save, with messages of our own
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const problem = draftProblem(this.draft, this.fresh);
      if (problem) {
        this.open.add(problem.session);
        this.render();
        this.say(t(problem.key, { id: problem.session.id || "" }));
        const field = this.form.querySelector(`#${this.idOf(problem.session, problem.field)}`);
        if (field instanceof HTMLElement) field.focus();
        return;
      }
      onsave(dataOf(this.draft));
    });
  }

  /** Shows the server's programme (after a load or a save): open sessions stay open. */
  show(/** @type {any} */ data) {
    const wasOpen = new Set(this.draft.sessions.filter((s) => this.open.has(s)).map((s) => s.id));
    this.draft = draftOf(data);
    this.fresh = new WeakSet();
    this.open = new WeakSet(this.draft.sessions.filter((s) => wasOpen.has(s.id)));
    this.render();
  }

  /** @param {string} text */
  say(text) {
    setText(this.message, text);
  }

  /** @param {object} entry @param {string} field @returns {string} a stable id for a field */
  idOf(entry, field) {
    let number = this.numbers.get(entry);
    if (number === undefined) this.numbers.set(entry, (number = ++this.counter));
    return `pf-${number}-${field}`;
  }

  render() {
    const focused = document.activeElement && this.form.contains(document.activeElement)
      ? document.activeElement.id : "";
    this.form.replaceChildren(
      this.eventFields(), this.dayFields(), h("h3", { text: t("programme.form.sessions") }),
      ...sessionsByDay(this.draft).map((group) => this.dayGroup(group.day, group.sessions)),
      h("p", { class: "exports__links" }, h("button", {
        type: "submit", class: "button button--primary", id: "pf-save", "data-testid": "programme-form-save",
        text: t("programme.form.save") })),
    );
    const again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  /**
   * A labelled input writing into `entry[key]`.
   * @param {Record<string, any>} entry @param {string} key @param {string} label
   * @param {{type?: string, multiline?: boolean, readonly?: boolean, required?: boolean, id?: string,
   *   testid?: string, hint?: string, oninput?: () => void, onchange?: (el: HTMLInputElement) => void}} [options]
   *   with `onchange`, the change is left to it (nothing is written while typing)
   */
  field(entry, key, label, options = {}) {
    const id = options.id || this.idOf(entry, key);
    const hintId = options.hint ? `${id}-hint` : undefined;
    const control = /** @type {HTMLInputElement} */ (h(options.multiline ? "textarea" : "input", {
      id, type: options.multiline ? undefined : options.type || "text", rows: options.multiline ? 3 : undefined,
      readonly: options.readonly, required: options.required, "aria-describedby": hintId,
      "data-testid": options.testid, "data-field": key,
    }));
    control.value = entry[key] ?? "";
    const { onchange } = options;
    if (onchange) control.addEventListener("change", () => onchange(control));
    else {
      control.addEventListener("input", () => {
        entry[key] = control.value;
        if (options.oninput) options.oninput();
      });
    }
    return h("div", { class: "field" }, h("label", { for: id, text: label }), control,
      options.hint ? h("p", { id: hintId, class: "hint", text: options.hint }) : null);
  }

  /** The French text and its translations, e.g. `title`, `title_en`, `title_es`. */
  texts(/** @type {Record<string, any>} */ entry, /** @type {string} */ key, options = {}) {
    return LANG_SUFFIXES.map((suffix) => this.field(entry, `${key}${suffix}`,
      t(`programme.form.${key}${suffix}`), { ...options, testid: `programme-form-${key}${suffix}` }));
  }

  eventFields() {
    const event = this.draft.event;
    return h("fieldset", { class: "programme-form__group" },
      h("legend", { text: t("programme.form.event") }),
      h("div", { class: "programme-form__grid" }, ...this.texts(event, "title"),
        this.field(event, "venue", t("programme.form.venue")),
        this.field(event, "timezone", t("programme.form.timezone"),
          { hint: t("programme.form.timezone_hint") })));
  }

  dayFields() {
    const list = h("ul", { class: "programme-form__days" });
    for (const day of this.draft.days) {
      const remove = h("button", { type: "button", class: "button button--danger",
        id: this.idOf(day, "remove"), text: t("programme.form.remove_day"),
        onclick: () => this.change(removeDay(this.draft, day), undefined, "pf-add-day") });
      list.append(h("li", {}, h("fieldset", { class: "programme-form__group" },
        h("legend", { text: formatDate(day.date) }),
        h("div", { class: "programme-form__grid" },
          this.field(day, "date", t("programme.form.date"), { type: "date", onchange: (el) => {
            const wanted = el.value;
            el.value = day.date; // the draft moves it (with its sessions), or says why not
            this.change(moveDay(this.draft, day, wanted));
          } }),
          ...this.texts(day, "title")),
        remove)));
    }
    return h("fieldset", { class: "programme-form__group" },
      h("legend", { text: t("programme.form.days") }), list,
      h("button", { type: "button", class: "button", id: "pf-add-day", "data-testid": "programme-form-add-day",
        text: t("programme.form.add_day"), onclick: () => {
          const day = addDay(this.draft, new Date().toISOString().slice(0, 10));
          this.change(null, undefined, this.idOf(day, "date"));
        } }));
  }

  /**
   * Redraws after a change to the draft's shape (then focuses `focus`, an element's id, when the
   * control used is gone), or says why it was refused.
   * @param {string|null} refusal @param {() => void} [apply] @param {string} [focus]
   */
  change(refusal, apply, focus) {
    if (refusal) {
      this.say(t(refusal));
      return;
    }
    if (apply) apply();
    this.say("");
    this.render();
    const target = focus && document.getElementById(focus);
    if (target) target.focus();
  }

  /** @param {Day|null} day @param {Session[]} sessions */
  dayGroup(day, sessions) {
    const headingId = day ? this.idOf(day, "sessions") : "pf-astray";
    const heading = day
      ? [formatDate(day.date), day.title].filter(Boolean).join(" · ")
      : t("programme.form.astray");
    return h("section", { class: "programme-form__day", "aria-labelledby": headingId },
      h("h4", { id: headingId, text: heading }),
      h("div", { class: "programme-form__sessions" }, ...sessions.map((s) => this.sessionFields(s))),
      day ? h("button", { type: "button", class: "button", id: this.idOf(day, "add"),
        "data-testid": "programme-form-add-session", text: t("programme.form.add_session"), onclick: () => {
          const session = addSession(this.draft, day.date);
          this.fresh.add(session);
          this.open.add(session);
          this.change(null, undefined, this.idOf(session, "id"));
        } }) : null);
  }

  /** @param {Session} session */
  sessionFields(session) {
    const summary = h("summary", { class: "programme-form__summary" });
    const showSummary = () => {
      const shown = sessionSummary(session);
      summary.replaceChildren(h("span", { class: "programme-form__time", text: shown.time }),
        h("span", { class: "programme-form__title", text: shown.title || t("programme.form.untitled") }),
        ...(shown.room ? [h("span", { class: "programme-form__room", text: shown.room })] : []));
    };
    showSummary();
    const fresh = this.fresh.has(session);
    const details = h("details", { class: "programme-form__session", "data-testid": "programme-form-session",
      "data-session": session.id, open: this.open.has(session) }, summary,
    h("div", { class: "programme-form__grid" },
      this.field(session, "id", t("programme.form.id"), { readonly: !fresh, required: fresh,
        testid: "programme-form-id", hint: t(fresh ? "programme.form.id_hint" : "programme.form.id_fixed") }),
      ...this.texts(session, "title", { oninput: showSummary }),
      ...this.texts(session, "description", { multiline: true }),
      this.daySelect(session),
      this.field(session, "start", t("programme.form.start"), { type: "time", oninput: showSummary }),
      this.field(session, "end", t("programme.form.end"), { type: "time", oninput: showSummary }),
      this.kindSelect(session),
      this.field(session, "room", t("programme.form.room"), { oninput: showSummary, testid: "programme-form-room" }),
      this.languagesField(session)),
    h("div", { class: "programme-form__checks" }, ...["interactive", "streamed", "premoderation"].map(
      (key) => this.check(session, key))),
    this.keptUnchanged(session),
    h("button", { type: "button", class: "button button--danger", "data-testid": "programme-form-remove",
      text: t("programme.form.remove_session"), onclick: () => {
        removeSession(this.draft, session);
        const day = this.draft.days.find((d) => d.date === session.date);
        this.change(null, undefined, day ? this.idOf(day, "add") : "pf-add-day");
        this.say(t("programme.form.removed", { id: session.id || "" }));
      } }));
    details.addEventListener("toggle", () => {
      if (/** @type {HTMLDetailsElement} */ (details).open) this.open.add(session);
      else this.open.delete(session);
    });
    return details;
  }

  /** @param {Session} session */
  daySelect(session) {
    const id = this.idOf(session, "date");
    const select = h("select", { id, onchange: () => {
      session.date = /** @type {HTMLSelectElement} */ (select).value;
      this.change(null); // regrouped under its new day; the focus follows it (same id)
    } }, ...this.draft.days.map((day) => h("option", { value: day.date,
      text: [formatDate(day.date), day.title].filter(Boolean).join(" · ") })));
    /** @type {HTMLSelectElement} */ (select).value = session.date;
    return h("div", { class: "field" }, h("label", { for: id, text: t("programme.form.day") }), select);
  }

  /** @param {Session} session */
  kindSelect(session) {
    const id = this.idOf(session, "kind");
    const select = h("select", { id, onchange: () => {
      session.kind = /** @type {HTMLSelectElement} */ (select).value;
    } }, ...KINDS.map((kind) => h("option", { value: kind, text: t(`programme.form.kind.${kind}`),
      selected: kind === (session.kind || "plenary") })));
    return h("div", { class: "field" }, h("label", { for: id, text: t("programme.form.kind") }), select);
  }

  /** @param {Session} session */
  languagesField(session) {
    // Typed as text ("fr, en"), kept in the draft as the list of codes the server wants.
    const shown = { languages: languagesToText(session.languages) };
    return this.field(shown, "languages", t("programme.form.languages"), {
      id: this.idOf(session, "languages"), hint: t("programme.form.languages_hint"),
      oninput: () => { session.languages = languagesFromText(shown.languages); },
    });
  }

  /** @param {Session} session @param {string} key */
  check(session, key) {
    const id = this.idOf(session, key);
    const box = /** @type {HTMLInputElement} */ (h("input", { id, type: "checkbox", "data-field": key }));
    box.checked = Boolean(session[key]);
    box.addEventListener("change", () => { session[key] = box.checked; });
    return h("label", { class: "check", for: id }, box, t(`programme.form.${key}`));
  }

  /** Prepared polls and guests: shown, not edited here, and sent back as they came. */
  keptUnchanged(/** @type {Session} */ session) {
    const polls = Array.isArray(session.polls) ? session.polls.length : 0;
    const guests = Array.isArray(session.guests) ? session.guests : [];
    return h("div", { class: "hint programme-form__kept" },
      h("p", { "data-testid": "programme-form-polls",
        text: `${t("programme.form.polls", { count: polls })} ${t("programme.form.polls_hint")}` }),
      guests.length ? h("p", { text: `${t("programme.form.guests", { names: guests.join(", ") })} ${
        t("programme.form.guests_hint")}` }) : null);
  }
}
