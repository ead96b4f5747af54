// The programme the control room's form edits: a copy of the plain data GET /control/programme
// gives ("data": event, days, sessions), changed in place by the form and sent back as it is, so
// that what the form does not show (a session's prepared polls and guests, the event's id) goes
// back unchanged. No DOM here: unit-tested under Node (tests/js/programme-draft.test.mjs).

export const KINDS = ["plenary", "workshop", "micro-workshop", "meeting", "interview", "break"];
// Titles and descriptions may be given in these languages beside French (`title_en`, `title_es`).
export const TEXT_LANGUAGES = ["en", "es"];
// As the server checks it (live/domain/programme.py): the id is in every link, it cannot change.
export const SESSION_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DAY_MS = 86_400_000;

/**
 * @typedef {Record<string, any>} Session  one entry of "sessions", as the server gives it
 * @typedef {{date: string} & Record<string, any>} Day
 * @typedef {{event: Record<string, any>, days: Day[], sessions: Session[]}} Draft
 */

/** @param {any} data the server's "data" @returns {Draft} a copy the form may change */
export function draftOf(data) {
  const copy = JSON.parse(JSON.stringify(data || {}));
  return { ...copy, event: copy.event || {}, days: copy.days || [], sessions: copy.sessions || [] };
}

/** "fr, EN  es" → ["fr", "en", "es"]: the codes as typed, the floor language first. */
export function languagesFromText(/** @type {string} */ text) {
  return text.split(/[\s,;]+/).map((code) => code.trim().toLowerCase()).filter(Boolean);
}

/** @param {unknown} languages @returns {string} */
export function languagesToText(languages) {
  return Array.isArray(languages) ? languages.join(", ") : "";
}

/** @param {Session} session @returns {{time: string, title: string, room: string}} its summary */
export function sessionSummary(session) {
  return { time: `${session.start || "?"}–${session.end || "?"}`, title: session.title || "",
    room: session.room || "" };
}

/** @param {Session} a @param {Session} b */
function byStart(a, b) {
  return String(a.start).localeCompare(String(b.start)) || String(a.id).localeCompare(String(b.id));
}

/**
 * The sessions of each day, by start time; sessions on no listed day come last, under `day: null`
 * (the server would refuse them: the form shows them so that they can be moved).
 * @param {Draft} draft
 * @returns {{day: Day|null, sessions: Session[]}[]}
 */
export function sessionsByDay(draft) {
  const groups = draft.days.map((day) => ({ day, sessions: /** @type {Session[]} */ ([]) }));
  /** @type {Session[]} */
  const astray = [];
  for (const session of draft.sessions) {
    const group = groups.find((g) => g.day.date === session.date);
    (group ? group.sessions : astray).push(session);
  }
  for (const group of groups) group.sessions.sort(byStart);
  return astray.length ? [...groups, { day: null, sessions: astray.sort(byStart) }] : groups;
}

/** @param {string} iso "2020-09-22" @param {number} days @returns {string} */
function plusDays(iso, days) {
  const moment = Date.parse(`${iso}T12:00:00Z`);
  return new Date(moment + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Adds a day after the last one (or on `today` when there is none) and returns it.
 * @param {Draft} draft @param {string} today "YYYY-MM-DD"
 */
export function addDay(draft, today) {
  const dates = draft.days.map((d) => d.date).filter((d) => !Number.isNaN(Date.parse(d))).sort();
  let date = dates.length ? plusDays(dates[dates.length - 1], 1) : today;
  while (draft.days.some((d) => d.date === date)) date = plusDays(date, 1);
  const day = { date, title: "" };
  draft.days.push(day);
  return day;
}

/**
 * Moves a day to another date, and its sessions with it.
 * @param {Draft} draft @param {Day} day @param {string} date
 * @returns {string|null} the catalog key of why not (null when done)
 */
export function moveDay(draft, day, date) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return "programme.form.day_date_needed";
  if (draft.days.some((d) => d !== day && d.date === date)) return "programme.form.day_taken";
  for (const session of draft.sessions) if (session.date === day.date) session.date = date;
  day.date = date;
  return null;
}

/**
 * Removes a day that has no session left (the sessions are moved or removed first, knowingly).
 * @param {Draft} draft @param {Day} day
 * @returns {string|null} the catalog key of why not
 */
export function removeDay(draft, day) {
  if (draft.days.length <= 1) return "programme.form.day_last";
  if (draft.sessions.some((s) => s.date === day.date)) return "programme.form.day_has_sessions";
  draft.days.splice(draft.days.indexOf(day), 1);
  return null;
}

/** @param {string} time "HH:MM" @param {number} minutes @returns {string} capped at 23:59 */
function later(time, minutes) {
  const [hours, mins] = time.split(":").map(Number);
  const total = Math.min(hours * 60 + mins + minutes, 23 * 60 + 59);
  return `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

/**
 * Adds a session to a day, starting when the day's last session ends (09:00 on an empty day),
 * for an hour; its id is left to the organiser. Returns it.
 * @param {Draft} draft @param {string} date
 */
export function addSession(draft, date) {
  const ends = draft.sessions.filter((s) => s.date === date && /^\d\d:\d\d$/.test(s.end))
    .map((s) => s.end).sort();
  const start = ends.length ? ends[ends.length - 1] : "09:00";
  const session = {
    id: "", title: "", date, start, end: later(start, 60), kind: "plenary", room: "",
    interactive: true, streamed: false, premoderation: true, languages: ["fr"], guests: [],
    polls: [],
  };
  draft.sessions.push(session);
  return session;
}

/** @param {Draft} draft @param {Session} session */
export function removeSession(draft, session) {
  const index = draft.sessions.indexOf(session);
  if (index >= 0) draft.sessions.splice(index, 1);
}

/**
 * What the form can tell before the server does: a new session's id, a title in French, times
 * in order. The server checks everything again and names the field of anything else.
 * @param {Draft} draft
 * @param {Set<Session>|WeakSet<Session>} fresh the sessions added in the form (their id is editable)
 * @returns {{key: string, session: Session, field: string}|null} the first problem
 */
export function draftProblem(draft, fresh) {
  for (const session of draft.sessions) {
    const id = String(session.id || "");
    if (fresh.has(session)) {
      if (!id) return { key: "programme.form.id_needed", session, field: "id" };
      if (!SESSION_ID.test(id)) return { key: "programme.form.id_pattern", session, field: "id" };
      if (draft.sessions.some((other) => other !== session && other.id === id)) {
        return { key: "programme.form.id_taken", session, field: "id" };
      }
    }
    if (!String(session.title || "").trim()) {
      return { key: "programme.form.title_needed", session, field: "title" };
    }
    if (session.start && session.end && session.end <= session.start) {
      return { key: "programme.form.end_before_start", session, field: "end" };
    }
  }
  return null;
}

/**
 * Optional texts left empty are left out (the server would keep an empty English title, shown
 * instead of the French one); a description goes only when one of its languages has text.
 * @param {Record<string, any>} entry
 */
function withoutEmptyTexts(entry) {
  const out = { ...entry };
  for (const key of ["title", "description"]) {
    for (const lang of TEXT_LANGUAGES) {
      if (typeof out[`${key}_${lang}`] === "string" && !out[`${key}_${lang}`].trim()) {
        delete out[`${key}_${lang}`];
      }
    }
  }
  const described = ["description", ...TEXT_LANGUAGES.map((l) => `description_${l}`)]
    .some((key) => typeof out[key] === "string" && out[key].trim());
  if (!described) delete out.description;
  else if (typeof out.description !== "string") out.description = "";
  return out;
}

/**
 * The data to send (PUT /control/programme "data"): the draft, with what was left empty left out.
 * @param {Draft} draft
 */
export function dataOf(draft) {
  const event = { ...draft.event };
  for (const lang of TEXT_LANGUAGES) {
    if (typeof event[`title_${lang}`] === "string" && !event[`title_${lang}`].trim()) {
      delete event[`title_${lang}`];
    }
  }
  return {
    ...draft, event,
    days: draft.days.map((day) => {
      const out = withoutEmptyTexts(day);
      if (typeof out.title === "string" && !out.title.trim() && !out.title_en && !out.title_es) {
        delete out.title;
      }
      return out;
    }),
    sessions: draft.sessions.map(withoutEmptyTexts),
  };
}
