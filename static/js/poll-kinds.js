// The participant page's poll cards, one shape per poll kind (docs/protocol.md, "Poll kinds"):
// options to tick (choice), a mark from 1 to 5 (rating), up to three words (word cloud), one
// answer the moderators read first (open text). Each card keeps what the participant is typing
// across renders (`dirty`) and otherwise shows the ballot on record.

import { h, setText } from "./dom.js";
import { pageLang, t } from "./i18n.js";
import {
  MARKS, MAX_WORDS, TEXT_CHARS, WORD_CHARS, cloudSize, formatAverage, ratingResults, shownAnswers,
  textBallot, wordCloud, wordsBallot,
} from "./poll-results.js";
import { hasResults, pollKind, pollPercentages } from "./state.js";

/** Open-text answers a participant's card lists at most: a phone screen, not a wall. */
const CARD_ANSWERS = 10;
/** Word sizes in a participant's cloud, in rem: readable on a phone, one line each. */
const CLOUD_REM = [0.95, 2.1];

/**
 * @typedef {{send: (command: object) => Promise<unknown>, requestRender: () => void,
 *   onerror: (err: any) => void}} CardContext how a card casts its ballot and asks for a render
 * @typedef {{poll: import("./state.js").Poll, mine: (number|string)[]|null,
 *   blocked: "banned"|"unavailable"|null}} CardItem `blocked`: why this participant cannot vote at all
 */

/**
 * What differs between kinds: the inputs (`body`), the ballot they make (`ballot`: null when there
 * is nothing to send), how they show a ballot (`show`), the results once revealed (`results`).
 * @typedef {{body: HTMLElement, hint: string, ballot: () => (object|null), first: () => HTMLElement,
 *   show: (mine: any[]|null, keep: boolean, enabled: boolean) => void, filled: () => boolean,
 *   results?: HTMLElement, showResults?: (poll: any) => void}} KindParts
 */

/** @param {import("./state.js").Poll} poll @returns {string} the card's key: one card per poll and kind */
export function pollCardKey(poll) {
  return `${poll.id}:${pollKind(poll)}`;
}

/**
 * @param {CardItem} item @param {CardContext} context
 * @returns {HTMLElement} the card, its state in `_refs`
 */
export function createPollCard({ poll }, context) {
  const kind = pollKind(poll);
  const parts = kind === "rating" ? ratingParts(poll) : kind === "words" ? wordsParts(poll)
    : kind === "text" ? textParts(poll) : choiceParts(poll);
  const submit = h("button", { type: "submit", class: "button button--primary", dataset: { testid: "poll-vote" } });
  const ballots = h("span", { class: "poll__ballots", dataset: { testid: "poll-ballots" } });
  const mineLine = h("p", { class: "poll__mine", dataset: { testid: "poll-mine" }, hidden: true });
  const note = h("p", { class: "poll__note", dataset: { testid: "poll-note" } });
  const closed = h("span", { class: "status-badge", text: t("poll.status.closed"), dataset: { status: "closed", testid: "poll-closed" } });
  const form = h("form", { class: "poll__form" },
    h("fieldset", {},
      h("legend", { class: "poll__question" }, closed, " ", h("span", { text: poll.question })),
      h("p", { class: "hint", text: parts.hint }),
      parts.body,
    ),
    h("div", { class: "poll__footer" }, submit, ballots),
    mineLine,
    note,
  );
  const card = h("article", { class: "poll", dataset: { testid: "poll", kind } }, form, parts.results || null);
  const refs = { kind, parts, submit, ballots, mineLine, note, closed, dirty: false, busy: false };
  const edited = () => {
    refs.dirty = true;
    context.requestRender();
  };
  form.addEventListener("change", edited);
  form.addEventListener("input", edited);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const ballot = parts.ballot();
    if (!ballot || refs.busy) return;
    // The button is disabled while sending and once the ballot is recorded: keep the keyboard on
    // the inputs instead (from there the ballot can be changed).
    if (document.activeElement === submit) parts.first().focus({ preventScroll: true });
    refs.busy = true;
    context.requestRender();
    context
      .send({ type: "CastBallot", poll_id: poll.id, ...ballot })
      .then(() => { refs.dirty = false; })
      .catch(context.onerror)
      .finally(() => {
        refs.busy = false;
        context.requestRender();
      });
  });
  /** @type {any} */ (card)._refs = refs;
  return card;
}

/** @param {any} card @param {CardItem} item */
export function updatePollCard(card, { poll, mine, blocked }) {
  const r = card._refs;
  /** @type {KindParts} */
  const parts = r.parts;
  const open = poll.status === "open";
  const canVote = open && !blocked;
  const results = hasResults(poll);
  const answers = r.kind === "words" || r.kind === "text";
  card.dataset.pollId = poll.id;
  card.dataset.status = poll.status;
  card.classList.toggle("has-results", results);
  // Closed, or no longer allowed to vote: show the ballot on record, not a half-made one.
  if (!canVote) r.dirty = false;
  parts.show(mine, r.dirty, canVote);
  if (parts.showResults) parts.showResults(results ? poll : null);
  r.closed.hidden = open;
  r.submit.hidden = !canVote;
  r.submit.disabled = r.busy || !parts.filled() || (!r.dirty && Boolean(mine));
  setText(r.submit, t(answers ? (mine ? "poll.change_answer" : "poll.send") : (mine ? "poll.change_vote" : "poll.vote")));
  setText(r.ballots, t("poll.ballots", { count: poll.ballots || 0 }));
  // "Your words" stay in view after the inputs were changed or the poll closed.
  const words = r.kind === "words" && mine && mine.length ? mine.join(", ") : "";
  r.mineLine.hidden = !words;
  setText(r.mineLine, words ? t("poll.words.mine", { words }) : "");
  let note = "";
  if (!open) note = t(!mine ? "poll.closed" : answers ? "poll.closed_answered" : "poll.closed_voted");
  else if (blocked) note = t(`poll.${blocked}`);
  else if (mine && !r.dirty) note = t(r.kind === "words" ? "poll.words.recorded" : r.kind === "text" ? "poll.text.recorded" : "poll.recorded");
  else if (!results) note = t("poll.results_hidden");
  setText(r.note, note);
  r.note.dataset.recorded = String(Boolean(canVote && mine && !r.dirty));
  r.note.dataset.kind = open && blocked ? "error" : "info";
}

// --- choice: options to tick, each with its share once results are shown -------------------------

/** @param {any} poll @returns {KindParts} */
function choiceParts(poll) {
  const type = poll.multiple ? "checkbox" : "radio";
  const options = poll.options.map((/** @type {string} */ label, /** @type {number} */ index) => {
    const input = /** @type {HTMLInputElement} */ (h("input", { type, name: `poll-${poll.id}`, value: String(index), dataset: { testid: `poll-option-${index}` } }));
    const fill = h("span", { class: "bar__fill" });
    const pct = h("span", { class: "bar__pct", dataset: { testid: `poll-percent-${index}` } });
    const row = h("label", { class: "poll-option" }, input, h("span", { class: "poll-option__label", text: label }), h("span", { class: "bar" }, fill), pct);
    return { input, fill, pct, row };
  });
  const checked = () => options.flatMap((/** @type {any} */ o, /** @type {number} */ i) => (o.input.checked ? [i] : []));
  return {
    body: h("div", { class: "poll__options" }, ...options.map((/** @type {any} */ o) => o.row)),
    hint: t(poll.multiple ? "poll.multiple_hint" : "poll.single_hint"),
    ballot: () => (checked().length ? { choices: checked() } : null),
    first: () => (options[checked()[0] ?? 0] || options[0]).input,
    filled: () => checked().length > 0,
    show: (mine, keep, enabled) => options.forEach((/** @type {any} */ o, /** @type {number} */ i) => {
      if (!keep) o.input.checked = Boolean(mine && mine.includes(i));
      o.input.disabled = !enabled;
    }),
    // The shares go in the option rows themselves (the bars show with `has-results`).
    showResults: (shown) => {
      const percentages = shown ? pollPercentages(shown) : null;
      options.forEach((/** @type {any} */ o, /** @type {number} */ i) => {
        const pct = percentages ? percentages[i] : 0;
        o.fill.style.width = `${pct}%`;
        setText(o.pct, percentages ? t("poll.percent", { percent: pct }) : "");
      });
    },
  };
}

// --- rating: five marks, a real radio group; the average and distribution once shown -------------

/** @param {any} poll @returns {KindParts} */
function ratingParts(poll) {
  const marks = MARKS.map((mark) => {
    const input = /** @type {HTMLInputElement} */ (h("input", { type: "radio", name: `poll-${poll.id}`, value: String(mark), class: "rating-mark__input", dataset: { testid: `poll-mark-${mark}` } }));
    return { mark, input, row: h("label", { class: "rating-mark" }, input, h("span", { class: "rating-mark__label", text: String(mark) })) };
  });
  const average = h("p", { class: "rating-results__average", dataset: { testid: "poll-average" } });
  const rows = MARKS.map((mark) => {
    const fill = h("span", { class: "bar__fill" });
    const pct = h("span", { class: "bar__pct", dataset: { testid: `poll-mark-percent-${mark}` } });
    return { fill, pct, row: h("li", { class: "rating-results__row" }, h("span", { class: "rating-results__mark", text: String(mark) }), h("span", { class: "bar" }, fill), pct) };
  });
  const results = h("div", { class: "poll__results rating-results", dataset: { testid: "poll-results" }, hidden: true },
    average, h("ol", { class: "rating-results__rows", "aria-label": t("poll.rating.distribution") }, ...rows.map((r) => r.row)));
  const picked = () => marks.find((m) => m.input.checked);
  return {
    body: h("div", { class: "rating-marks" }, ...marks.map((m) => m.row)),
    hint: t("poll.rating_hint"),
    ballot: () => (picked() ? { choices: [/** @type {any} */ (picked()).mark] } : null),
    first: () => (picked() || marks[0]).input,
    filled: () => Boolean(picked()),
    show: (mine, keep, enabled) => marks.forEach((m) => {
      if (!keep) m.input.checked = Boolean(mine && mine.includes(m.mark));
      m.input.disabled = !enabled;
    }),
    results,
    showResults: (shown) => {
      const rating = shown ? ratingResults(shown) : null;
      results.hidden = !rating;
      if (!rating) return;
      setText(average, rating.average === null ? t("poll.rating.no_average")
        : t("poll.rating.average", { score: t("poll.rating.score", { average: formatAverage(rating.average, pageLang()) }) }));
      rating.rows.forEach((row, i) => {
        rows[i].fill.style.width = `${row.percent}%`;
        setText(rows[i].pct, t("poll.percent", { percent: row.percent }));
      });
    },
  };
}

// --- words: up to three short entries; the cloud once shown ---------------------------------------

/** @param {any} poll @returns {KindParts} */
function wordsParts(poll) {
  const inputs = Array.from({ length: MAX_WORDS }, (_, i) => /** @type {HTMLInputElement} */ (h("input", {
    type: "text", id: `poll-${poll.id}-word-${i + 1}`, maxlength: WORD_CHARS, autocomplete: "off",
    autocapitalize: "none", enterkeyhint: "send", dataset: { testid: `poll-word-${i + 1}` },
  })));
  const body = h("div", { class: "poll-words" }, ...inputs.map((input, i) =>
    h("div", { class: "field poll-words__field" }, h("label", { for: input.id, text: t("poll.words.label", { n: i + 1 }) }), input)));
  const cloud = h("ul", { class: "poll-cloud", "aria-label": t("poll.words.cloud"), dataset: { testid: "poll-cloud" } });
  const none = h("p", { class: "hint", text: t("poll.answers.none") });
  const results = h("div", { class: "poll__results", dataset: { testid: "poll-results" }, hidden: true }, cloud, none);
  const ballot = () => wordsBallot(inputs.map((input) => input.value));
  return {
    body,
    hint: t("poll.words_hint"),
    ballot: () => (ballot().length ? { answers: ballot() } : null),
    first: () => inputs[0],
    filled: () => ballot().length > 0,
    show: (mine, keep, enabled) => inputs.forEach((input, i) => {
      if (!keep) input.value = mine && typeof mine[i] === "string" ? mine[i] : "";
      input.disabled = !enabled;
    }),
    results,
    showResults: (shown) => {
      results.hidden = !shown;
      const words = shown ? wordCloud(shown, { lang: pageLang() }) : [];
      none.hidden = words.length > 0;
      cloud.replaceChildren(...words.map((w) => {
        const li = h("li", { class: "poll-cloud__word" }, w.text, " ",
          h("span", { class: "poll-cloud__count", text: t("poll.answer_count", { count: w.count }) }));
        // Through the CSSOM: the page's CSP refuses style attributes.
        li.style.fontSize = `${cloudSize(w.weight, CLOUD_REM[0], CLOUD_REM[1])}rem`;
        return li;
      }));
    },
  };
}

// --- text: one answer, read by the moderators before anyone sees it -------------------------------

/** @param {any} poll @returns {KindParts} */
function textParts(poll) {
  const counterId = `poll-${poll.id}-counter`;
  const textarea = /** @type {HTMLTextAreaElement} */ (h("textarea", {
    id: `poll-${poll.id}-text`, rows: 3, maxlength: TEXT_CHARS, "aria-describedby": counterId, dataset: { testid: "poll-text" },
  }));
  const counter = h("span", { id: counterId, class: "counter" });
  const list = h("ol", { class: "poll-answers", "aria-label": t("poll.text.approved"), dataset: { testid: "poll-answers" } });
  const none = h("p", { class: "hint", text: t("poll.answers.none") });
  const results = h("div", { class: "poll__results", dataset: { testid: "poll-results" }, hidden: true }, list, none);
  return {
    body: h("div", { class: "field poll-text" }, h("label", { for: textarea.id, text: t("poll.text.label") }), textarea, counter),
    hint: t("poll.text_hint"),
    ballot: () => (textBallot(textarea.value).length ? { answers: textBallot(textarea.value) } : null),
    first: () => textarea,
    filled: () => textBallot(textarea.value).length > 0,
    show: (mine, keep, enabled) => {
      if (!keep) textarea.value = mine && typeof mine[0] === "string" ? mine[0] : "";
      textarea.disabled = !enabled;
      setText(counter, t("ask.counter", { count: [...textarea.value].length, max: TEXT_CHARS }));
    },
    results,
    showResults: (shown) => {
      results.hidden = !shown;
      const answers = shown ? shownAnswers(shown, CARD_ANSWERS) : [];
      none.hidden = answers.length > 0;
      list.replaceChildren(...answers.map((a) => h("li", { class: "poll-answers__item" },
        h("span", { text: a.text }), a.count > 1 ? h("span", { class: "poll-answers__count", text: t("poll.answer_count", { count: a.count }) }) : null)));
    },
  };
}
