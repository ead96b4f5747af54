// The programme form's data (static/js/programme-draft.js): the draft the form edits, grouped by
// day, days and sessions added, moved and removed, what is checked before the server, and the
// data sent, with what the form does not show (polls, guests) kept as it came.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  KINDS, SESSION_ID, addDay, addSession, dataOf, draftOf, draftProblem, languagesFromText,
  languagesToText, moveDay, removeDay, removeSession, sessionSummary, sessionsByDay,
} from "../../static/js/programme-draft.js";

const poll = { question: "Oui ou non ?", kind: "choice", options: ["Oui", "Non"], multiple: false };

/** A programme as GET /control/programme gives it in "data". */
function served() {
  return {
    event: { id: "demo", title: "Rencontres", title_en: "Meetings", venue: "Lyon", timezone: "Europe/Paris" },
    days: [{ date: "2020-09-22", title: "Mardi" }, { date: "2020-09-23" }],
    sessions: [
      { id: "pleniere", title: "Ouverture", date: "2020-09-22", start: "10:30", end: "11:30", kind: "plenary",
        room: "Auditorium", interactive: true, streamed: true, premoderation: true, languages: ["fr", "en"],
        guests: ["Ana Ruiz"], polls: [poll] },
      { id: "accueil", title: "Accueil", description: "Café", date: "2020-09-22", start: "09:00", end: "10:00",
        kind: "break", room: "Hall", interactive: false, streamed: false, premoderation: true, languages: ["fr"],
        guests: [], polls: [] },
      { id: "atelier-1", title: "Atelier", date: "2020-09-23", start: "09:00", end: "10:00", kind: "workshop",
        room: "", interactive: true, streamed: false, premoderation: false, languages: ["fr"], guests: [], polls: [] },
    ],
  };
}

describe("the draft", () => {
  test("is a copy: the server's data is not changed by the form", () => {
    const data = served();
    const draft = draftOf(data);
    draft.sessions[0].title = "Changé";
    assert.equal(data.sessions[0].title, "Ouverture");
    assert.deepEqual(draftOf(null), { event: {}, days: [], sessions: [] });
  });

  test("sent untouched, it is the data it came from", () => {
    assert.deepEqual(dataOf(draftOf(served())), served());
  });

  test("groups sessions by day, by start time, those on no day last", () => {
    const draft = draftOf(served());
    draft.sessions.push({ ...draft.sessions[2], id: "perdue", date: "2021-01-01" });
    const groups = sessionsByDay(draft);
    assert.deepEqual(groups.map((g) => g.day && g.day.date), ["2020-09-22", "2020-09-23", null]);
    assert.deepEqual(groups[0].sessions.map((s) => s.id), ["accueil", "pleniere"]);
    assert.deepEqual(groups[2].sessions.map((s) => s.id), ["perdue"]);
    assert.equal(sessionsByDay(draftOf(served())).length, 2);
  });

  test("a session's summary: time, title and room", () => {
    assert.deepEqual(sessionSummary(served().sessions[0]), { time: "10:30–11:30", title: "Ouverture", room: "Auditorium" });
  });

  test("languages are typed as text and kept as codes, the floor first", () => {
    assert.deepEqual(languagesFromText(" FR, en ,, es "), ["fr", "en", "es"]);
    assert.deepEqual(languagesFromText("fr en;ar"), ["fr", "en", "ar"]);
    assert.deepEqual(languagesFromText(""), []);
    assert.equal(languagesToText(["fr", "en"]), "fr, en");
    assert.equal(languagesToText(undefined), "");
  });
});

describe("days", () => {
  test("a day is added after the last one, or on today when there is none", () => {
    const draft = draftOf(served());
    assert.equal(addDay(draft, "2030-01-01").date, "2020-09-24");
    assert.equal(addDay(draftOf({ days: [] }), "2030-01-01").date, "2030-01-01");
    assert.equal(addDay(draftOf({ days: [{ date: "2020-12-31" }] }), "x").date, "2021-01-01");
  });

  test("a day moved takes its sessions along; not onto another day", () => {
    const draft = draftOf(served());
    assert.equal(moveDay(draft, draft.days[0], "2020-09-23"), "programme.form.day_taken");
    assert.equal(moveDay(draft, draft.days[0], ""), "programme.form.day_date_needed");
    assert.equal(moveDay(draft, draft.days[0], "2020-09-21"), null);
    assert.deepEqual(draft.sessions.map((s) => s.date), ["2020-09-21", "2020-09-21", "2020-09-23"]);
    assert.equal(draft.days[0].date, "2020-09-21");
  });

  test("a day is removed once it has no session, and the last one stays", () => {
    const draft = draftOf(served());
    assert.equal(removeDay(draft, draft.days[1]), "programme.form.day_has_sessions");
    removeSession(draft, draft.sessions[2]);
    assert.equal(removeDay(draft, draft.days[1]), null);
    assert.deepEqual(draft.days.map((d) => d.date), ["2020-09-22"]);
    assert.equal(removeDay(draft, draft.days[0]), "programme.form.day_last");
  });
});

describe("sessions", () => {
  test("a session added starts when the day's last one ends, for an hour", () => {
    const draft = draftOf(served());
    const added = addSession(draft, "2020-09-22");
    assert.deepEqual([added.start, added.end, added.kind, added.date], ["11:30", "12:30", "plenary", "2020-09-22"]);
    assert.deepEqual(added.languages, ["fr"]);
    assert.equal(draft.sessions.at(-1), added);
    const empty = draftOf({ days: [{ date: "2020-09-24" }] });
    assert.deepEqual([addSession(empty, "2020-09-24").start, empty.sessions[0].end], ["09:00", "10:00"]);
    const late = draftOf({ sessions: [{ date: "d", start: "23:00", end: "23:30" }] });
    assert.equal(addSession(late, "d").end, "23:59");
  });

  test("removed", () => {
    const draft = draftOf(served());
    removeSession(draft, draft.sessions[1]);
    removeSession(draft, { id: "not-there" });
    assert.deepEqual(draft.sessions.map((s) => s.id), ["pleniere", "atelier-1"]);
  });

  test("a new session's id is checked; an existing one is the server's", () => {
    const draft = draftOf(served());
    const added = addSession(draft, "2020-09-23");
    const fresh = new Set([added]);
    assert.equal(draftProblem(draft, fresh)?.key, "programme.form.id_needed");
    added.id = "Atelier 2";
    assert.deepEqual(draftProblem(draft, fresh), { key: "programme.form.id_pattern", session: added, field: "id" });
    added.id = "accueil";
    assert.equal(draftProblem(draft, fresh)?.key, "programme.form.id_taken");
    added.id = "atelier-2";
    assert.equal(draftProblem(draft, fresh)?.key, "programme.form.title_needed");
    added.title = "Atelier 2";
    added.end = added.start;
    assert.equal(draftProblem(draft, fresh)?.field, "end");
    added.end = "23:00";
    assert.equal(draftProblem(draft, fresh), null);
    assert.ok(SESSION_ID.test("atelier-2") && !SESSION_ID.test("-x") && !SESSION_ID.test("é"));
    assert.deepEqual(KINDS.slice(-1), ["break"]);
  });
});

describe("the data sent", () => {
  test("keeps polls, guests and the event's id; leaves out the texts left empty", () => {
    const draft = draftOf(served());
    Object.assign(draft.sessions[0], { title: "Plénière déplacée", room: "Salle Europe", title_en: "", title_es: " ",
      description: "", description_en: "" });
    Object.assign(draft.sessions[1], { description: "", description_es: "Café" });
    draft.event.title_en = "";
    draft.days[1].title = "";
    const sent = dataOf(draft);
    assert.deepEqual(sent.event, { id: "demo", title: "Rencontres", venue: "Lyon", timezone: "Europe/Paris" });
    assert.deepEqual(sent.days, [{ date: "2020-09-22", title: "Mardi" }, { date: "2020-09-23" }]);
    const [moved, coffee] = sent.sessions;
    assert.deepEqual(moved, { ...served().sessions[0], title: "Plénière déplacée", room: "Salle Europe" });
    assert.deepEqual(moved.polls, [poll]);
    assert.deepEqual(moved.guests, ["Ana Ruiz"]);
    assert.equal(coffee.description, "", "kept for the Spanish one to count");
    assert.equal(coffee.description_es, "Café");
    assert.equal(draft.sessions[0].title_en, "", "the draft itself is left as the form shows it");
  });
});
