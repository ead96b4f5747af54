import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  applyEvent, applyPresence, applySnapshot, applyTally, countByStatus, hasUpvoted, isBanned, myBallot,
  myQuestions, openPolls, participantPolls, pollPercentages, questionsWithStatus, sortQuestions, stagePoll,
  stageQuestion, visibleQuestions,
} from "../../static/js/state.js";

/** @returns {any} */
function question(id, extra = {}) {
  return {
    id, text: `text ${id}`, author: "Ana", organisation: null, status: "approved", votes: 0,
    starred: false, asked_at: 1000, edited: false, ...extra,
  };
}

/** @returns {any} */
function poll(id, extra = {}) {
  return {
    id, question: "Q?", options: ["Oui", "Non"], multiple: false, status: "open", results_visible: false,
    ballots: 0, counts: null, opened_at: 5000, ...extra,
  };
}

function baseState(extra = {}) {
  return applySnapshot(
    {
      session: { id: "s", interactive: true },
      settings: { premoderation: true },
      questions: [question("q1", { votes: 3 }), question("q2", { status: "pending", mine: true })],
      polls: [poll("p1")],
      stage: { question_id: null, poll_id: null },
      connected: 7,
      me: { participant_id: "p_me", upvotes: [], ballots: {}, banned: false },
      ...extra,
    },
    { epoch: "e", seq: 10 },
  );
}

describe("applySnapshot", () => {
  test("copies the parts and records epoch/seq", () => {
    const s = baseState();
    assert.equal(s.epoch, "e");
    assert.equal(s.seq, 10);
    assert.ok(s.questions.every((q) => q.countsSeq === 10) && s.polls[0].countsSeq === 10, "counts as of the snapshot");
    assert.equal(s.questions.length, 2);
    assert.equal(s.connected, 7);
    assert.deepEqual(s.banned, []);
  });

  test("fills defaults for parts a role does not get", () => {
    const s = applySnapshot({ session: { id: "s" } }, { seq: 1 });
    assert.deepEqual(s.questions, []);
    assert.deepEqual(s.polls, []);
    assert.deepEqual(s.stage, { question_id: null, poll_id: null });
    assert.equal(s.me, null);
    assert.equal(s.settings.premoderation, false);
  });
});

describe("applyEvent: the generic rule", () => {
  test("question upserts by id", () => {
    let s = baseState();
    s = applyEvent(s, { type: "QuestionAsked", seq: 11, at: 0, question: question("q3", { status: "pending" }) });
    assert.equal(s.questions.length, 3);
    s = applyEvent(s, { type: "QuestionApproved", seq: 12, at: 0, question: question("q3") });
    assert.equal(s.questions.length, 3);
    assert.equal(s.questions.find((q) => q.id === "q3").status, "approved");
    assert.equal(s.seq, 12);
  });

  test("question: null with question_id removes it", () => {
    const s = applyEvent(baseState(), { type: "QuestionDismissed", seq: 11, at: 0, question: null, question_id: "q1" });
    assert.deepEqual(s.questions.map((q) => q.id), ["q2"]);
  });

  test("questions upserts each", () => {
    const s = applyEvent(baseState(), {
      type: "ParticipantBanned", seq: 11, at: 0,
      questions: [question("q1", { status: "dismissed" }), question("q9")],
      banned: [{ ban_id: "q1", name: "X" }],
    });
    assert.equal(s.questions.find((q) => q.id === "q1").status, "dismissed");
    assert.equal(s.questions.find((q) => q.id === "q1").countsSeq, 11);
    assert.ok(s.questions.some((q) => q.id === "q9"));
    assert.deepEqual(s.banned, [{ ban_id: "q1", name: "X" }]);
  });

  test("a merge removes the duplicate from the public list and updates the question it joined", () => {
    const s = applyEvent(baseState({ questions: [question("q1", { votes: 3 }), question("q2", { votes: 2 })] }), {
      type: "QuestionMerged", seq: 11, at: 0, question_id: "q2", question: null,
      questions: [question("q1", { votes: 5 })], stage: { question_id: null, poll_id: null },
    });
    assert.deepEqual(s.questions.map((q) => [q.id, q.votes]), [["q1", 5]]);
  });

  test("the moderation log grows by each entry, the latest 200 kept", () => {
    let s = baseState({ log: [{ at: 1, by: "moderator", action: "ApproveQuestion", target: "q1", detail: "x" }] });
    assert.equal(s.log.length, 1);
    for (let i = 0; i < 250; i += 1) {
      s = applyEvent(s, { type: "ModerationLogged", seq: 11 + i, at: 0, log_entry: { at: i, by: "admin", action: "StarQuestion", target: "q1", detail: null } });
    }
    assert.equal(s.log.length, 200);
    assert.equal(s.log[199].at, 249);
    assert.deepEqual(baseState().log, []);
  });

  test("poll upserts, poll: null removes", () => {
    let s = applyEvent(baseState(), { type: "PollCreated", seq: 11, at: 0, poll: poll("p2", { status: "draft" }) });
    assert.equal(s.polls.length, 2);
    s = applyEvent(s, { type: "PollOpened", seq: 12, at: 0, poll: poll("p2"), stage: { question_id: null, poll_id: "p2" } });
    assert.equal(s.polls.find((p) => p.id === "p2").status, "open");
    assert.equal(stagePoll(s).id, "p2");
    s = applyEvent(s, { type: "ResultsHidden", seq: 13, at: 0, poll: null, poll_id: "p1", stage: s.stage });
    assert.deepEqual(s.polls.map((p) => p.id), ["p2"]);
  });

  test("stage, settings, banned and me are replaced", () => {
    let s = applyEvent(baseState(), { type: "QuestionPutOnStage", seq: 11, at: 0, stage: { question_id: "q1", poll_id: null } });
    assert.equal(stageQuestion(s).id, "q1");
    s = applyEvent(s, { type: "PremoderationSet", seq: 12, at: 0, settings: { premoderation: false } });
    assert.equal(s.settings.premoderation, false);
    s = applyEvent(s, { type: "ParticipantBanned", seq: 13, at: 0, me: { participant_id: "p_me", upvotes: [], ballots: {}, banned: true } });
    assert.ok(isBanned(s));
    s = applyEvent(s, { type: "StageCleared", seq: 14, at: 0, stage: { question_id: null, poll_id: null } });
    assert.equal(stageQuestion(s), null);
  });

  test("an event not newer than the state is ignored", () => {
    const s = baseState();
    const same = applyEvent(s, { type: "QuestionAsked", seq: 10, at: 0, question: question("old") });
    assert.equal(same, s);
  });

  test("does not modify the previous state", () => {
    const s = baseState();
    const before = JSON.stringify(s);
    applyEvent(s, { type: "QuestionAnswered", seq: 11, at: 0, question: question("q1", { status: "answered" }) });
    assert.equal(JSON.stringify(s), before);
  });

  test("replaying a moderator's events on an old snapshot gives the new snapshot", () => {
    // Zulip's test idea: snapshot + events == later snapshot.
    const old = applySnapshot({ questions: [question("q1", { status: "pending" })], polls: [], stage: { question_id: null, poll_id: null }, settings: { premoderation: true }, banned: [] }, { seq: 1 });
    const events = [
      { type: "QuestionApproved", seq: 2, at: 0, question: question("q1", { text: "edited", edited: true }) },
      { type: "QuestionPutOnStage", seq: 3, at: 0, stage: { question_id: "q1", poll_id: null } },
      { type: "PollCreated", seq: 4, at: 0, poll: poll("p1", { status: "draft", counts: [0, 0] }) },
      { type: "PollOpened", seq: 5, at: 0, poll: poll("p1", { counts: [0, 0] }), stage: { question_id: "q1", poll_id: "p1" } },
      { type: "QuestionAnswered", seq: 6, at: 0, question: question("q1", { text: "edited", edited: true, status: "answered" }), stage: { question_id: null, poll_id: "p1" } },
    ];
    const replayed = events.reduce(applyEvent, old);
    const fresh = applySnapshot({
      questions: [question("q1", { text: "edited", edited: true, status: "answered" })],
      polls: [poll("p1", { counts: [0, 0] })],
      stage: { question_id: null, poll_id: "p1" },
      settings: { premoderation: true },
      banned: [],
    }, { seq: 6 });
    const plain = (/** @type {any} */ st) => ({
      ...st,
      questions: st.questions.map(({ countsSeq, ...q }) => q),
      polls: st.polls.map(({ countsSeq, ...p }) => p),
    });
    assert.deepEqual(plain(replayed), plain(fresh));
    assert.equal(replayed.questions[0].countsSeq, 6);
    assert.equal(replayed.polls[0].countsSeq, 5);
  });
});

describe("own votes", () => {
  test("an upvote event counts at once; a newer tally then wins", () => {
    let s = baseState();
    s = applyEvent(s, { type: "QuestionUpvoted", seq: 12, at: 0, question_id: "q1", me: { ...s.me, upvotes: ["q1"] } });
    assert.ok(hasUpvoted(s, "q1"));
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 4);
    s = applyTally(s, { seq: 12, questions: { q1: 9 }, polls: {} });
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 9);
    s = applyEvent(s, { type: "UpvoteWithdrawn", seq: 13, at: 0, question_id: "q1", me: { ...s.me, upvotes: [] } });
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 8);
  });

  test("no double count when the tally already includes the vote", () => {
    let s = baseState();
    s = applyTally(s, { seq: 12, questions: { q1: 4 }, polls: {} });
    s = applyEvent(s, { type: "QuestionUpvoted", seq: 12, at: 0, question_id: "q1", me: { ...s.me, upvotes: ["q1"] } });
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 4);
  });

  test("an older tally sent after my upvote does not take it back", () => {
    let s = baseState();
    s = applyEvent(s, { type: "QuestionUpvoted", seq: 12, at: 0, question_id: "q1", me: { ...s.me, upvotes: ["q1"] } });
    s = applyTally(s, { seq: 11, scope: "public", questions: { q1: 3 } });
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 4);
    s = applyTally(s, { seq: 13, scope: "public", questions: { q1: 6 } });
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 6);
  });

  test("a first ballot counts a voter; changing it does not", () => {
    let s = baseState();
    s = applyEvent(s, { type: "BallotCast", seq: 11, at: 0, poll_id: "p1", me: { ...s.me, ballots: { p1: [0] } } });
    assert.deepEqual(myBallot(s, "p1"), [0]);
    assert.equal(s.polls[0].ballots, 1);
    s = applyEvent(s, { type: "BallotCast", seq: 12, at: 0, poll_id: "p1", me: { ...s.me, ballots: { p1: [1] } } });
    assert.equal(s.polls[0].ballots, 1);
    assert.equal(myBallot(s, "p2"), null);
  });
});

describe("applyTally and applyPresence", () => {
  test("updates question votes and poll ballots/counts", () => {
    const s = applyTally(baseState(), { seq: 15, questions: { q1: 12, unknown: 3 }, polls: { p1: { ballots: 210, counts: [120, 90] } } });
    assert.equal(s.questions.find((q) => q.id === "q1").votes, 12);
    assert.equal(s.questions.find((q) => q.id === "q2").votes, 0);
    assert.equal(s.polls[0].ballots, 210);
    assert.deepEqual(s.polls[0].counts, [120, 90]);
    assert.equal(s.questions.find((q) => q.id === "q1").countsSeq, 15);
    assert.equal(s.polls[0].countsSeq, 15);
  });

  test("a published question missing from a tally has no votes left; others keep theirs", () => {
    const s = baseState({ questions: [question("q1", { votes: 1 }), question("q2", { status: "pending", votes: 1, mine: true })] });
    const next = applyTally(s, { seq: 11, questions: {}, polls: {} });
    assert.equal(next.questions[0].votes, 0);
    assert.equal(next.questions[1].votes, 1);
  });

  test("answered questions are published too: missing from a public tally, they have no votes", () => {
    const s = baseState({ questions: [question("q1", { status: "answered", votes: 2 }),
      question("q2", { status: "archived", votes: 2 }), question("q3", { status: "dismissed", votes: 2 })] });
    const next = applyTally(s, { seq: 11, scope: "public", questions: {}, polls: {} });
    assert.deepEqual(next.questions.map((q) => q.votes), [0, 2, 2]);
  });

  test("null counts hide results again", () => {
    const shown = applyTally(baseState(), { seq: 11, polls: { p1: { ballots: 2, counts: [1, 1] } } });
    const hidden = applyTally(shown, { seq: 12, polls: { p1: { ballots: 3, counts: null } } });
    assert.equal(hidden.polls[0].counts, null);
    assert.equal(hidden.polls[0].ballots, 3);
  });

  test("a tally older than the snapshot changes nothing", () => {
    const s = baseState();
    const next = applyTally(s, { seq: 9, scope: "public", questions: { q1: 99 }, polls: { p1: { ballots: 5, counts: [5, 0] } } });
    assert.equal(next.questions[0].votes, 3);
    assert.equal(next.polls[0].ballots, 0);
  });

  test("each item keeps counts newer than the tally: only the others take it", () => {
    let s = baseState({ questions: [question("q1", { votes: 3 }), question("q3", { votes: 1 })] });
    s = applyEvent(s, { type: "QuestionStarred", seq: 14, at: 0, question: question("q1", { votes: 5, starred: true }) });
    s = applyTally(s, { seq: 12, scope: "public", questions: { q1: 4 } });
    assert.equal(s.questions[0].votes, 5, "the event's counts are newer");
    assert.equal(s.questions[1].votes, 0, "covered, absent, and older than the tally: no votes");
    s = applyTally(s, { seq: 14, scope: "public", questions: { q1: 7, q3: 2 } });
    assert.deepEqual(s.questions.map((q) => [q.votes, q.countsSeq]), [[7, 14], [2, 14]]);
  });

  test("revealed results are not hidden again by an older tally sent after the reveal", () => {
    // The server queued a tally (seq 12, results hidden), then the reveal (seq 13) happened and
    // was sent first.
    let s = applyTally(baseState(), { seq: 11, scope: "public", polls: { p1: { ballots: 2, counts: null } } });
    s = applyEvent(s, {
      type: "ResultsRevealed", seq: 13, at: 0, poll: poll("p1", { results_visible: true, ballots: 3, counts: [2, 1] }),
      stage: { question_id: null, poll_id: "p1" },
    });
    s = applyTally(s, { seq: 12, scope: "public", polls: { p1: { ballots: 3, counts: null } } });
    assert.deepEqual(s.polls[0].counts, [2, 1]);
    assert.equal(s.polls[0].countsSeq, 13);
    s = applyTally(s, { seq: 15, scope: "public", polls: { p1: { ballots: 4, counts: [3, 1] } } });
    assert.deepEqual([s.polls[0].ballots, s.polls[0].counts], [4, [3, 1]]);
  });

  test("a restored question keeps its counts against an older tally", () => {
    // Restored to approved at seq 13 with its 4 votes; a public tally from seq 12 (when it was
    // archived, so not covered) would count it absent, i.e. 0 votes.
    let s = baseState({ questions: [question("q1", { status: "archived", votes: 4 })] });
    s = applyEvent(s, { type: "QuestionRestored", seq: 13, at: 0, question: question("q1", { votes: 4 }) });
    s = applyTally(s, { seq: 12, scope: "public", questions: {} });
    assert.equal(s.questions[0].votes, 4);
    s = applyTally(s, { seq: 13, scope: "public", questions: { q1: 4 } });
    assert.equal(s.questions[0].votes, 4);
    s = applyTally(s, { seq: 16, scope: "public", questions: {} });
    assert.equal(s.questions[0].votes, 0, "a newer tally applies, absent means none");
  });

  test("a moderators' tally covers every question, pending ones included", () => {
    const s = baseState({ questions: [question("q1", { status: "archived", votes: 2 })] });
    assert.equal(applyTally(s, { seq: 11, scope: "all", questions: {} }).questions[0].votes, 0);
    assert.equal(applyTally(s, { seq: 11, scope: "public", questions: {} }).questions[0].votes, 2);
  });

  test("presence sets the connected count", () => {
    assert.equal(applyPresence(baseState(), { connected: 412 }).connected, 412);
  });
});

describe("sorting and selectors", () => {
  const list = [
    question("a", { votes: 2, asked_at: 3 }),
    question("b", { votes: 5, asked_at: 2 }),
    question("c", { votes: 2, asked_at: 1, starred: true }),
    question("d", { votes: 0, asked_at: 4 }),
  ];

  test("popular: votes desc, then older first", () => {
    assert.deepEqual(sortQuestions(list, "popular").map((q) => q.id), ["b", "c", "a", "d"]);
  });

  test("recent: newest first", () => {
    assert.deepEqual(sortQuestions(list, "recent").map((q) => q.id), ["d", "a", "b", "c"]);
  });

  test("starred first for moderators", () => {
    assert.deepEqual(sortQuestions(list, "popular", { starredFirst: true }).map((q) => q.id), ["c", "b", "a", "d"]);
    assert.deepEqual(sortQuestions(list, "recent", { starredFirst: true }).map((q) => q.id), ["c", "d", "a", "b"]);
  });

  test("does not sort in place", () => {
    const copy = [...list];
    sortQuestions(list, "recent");
    assert.deepEqual(list, copy);
  });

  test("selectors", () => {
    let s = baseState({
      questions: [
        question("q1"), question("q2", { status: "answered" }), question("q3", { status: "pending", mine: true }),
        question("q4", { status: "dismissed" }),
      ],
      polls: [poll("p1", { opened_at: 2 }), poll("p0", { opened_at: 1 }), poll("p2", { status: "closed", results_visible: true, counts: [1, 0] }), poll("p3", { status: "closed" })],
      stage: { question_id: "q1", poll_id: "p2" },
    });
    assert.deepEqual(visibleQuestions(s).map((q) => q.id), ["q1"]);
    assert.deepEqual(questionsWithStatus(s, "answered").map((q) => q.id), ["q2"]);
    assert.deepEqual(myQuestions(s).map((q) => q.id), ["q3"]);
    assert.deepEqual(countByStatus(s), { pending: 1, approved: 1, answered: 1, archived: 0, dismissed: 1, merged: 0 });
    assert.equal(stageQuestion(s).id, "q1");
    assert.equal(stagePoll(s).id, "p2");
    assert.deepEqual(openPolls(s).map((p) => p.id), ["p0", "p1"]);
    assert.deepEqual(participantPolls(s).map((p) => p.id), ["p0", "p1", "p2"]);
    s = applyEvent(s, { type: "QuestionDismissed", seq: 11, at: 0, question: null, question_id: "q1" });
    assert.equal(stageQuestion(s), null, "a stage id without its question shows nothing");
  });

  test("participantPolls keeps the closed polls that concern the participant, newest first, at most 3", () => {
    const s = baseState({
      polls: [
        poll("open2", { opened_at: 20 }), poll("open1", { opened_at: 10 }),
        poll("voted", { status: "closed", opened_at: 5 }),
        poll("stage", { status: "closed", opened_at: 4 }),
        poll("revealed", { status: "closed", opened_at: 3, results_visible: true, counts: [1, 0] }),
        poll("old-voted", { status: "closed", opened_at: 2 }),
        poll("ignored", { status: "closed", opened_at: 9 }),
        poll("draft", { status: "draft", opened_at: null }),
      ],
      stage: { question_id: null, poll_id: "stage" },
      me: { participant_id: "p_me", upvotes: [], ballots: { voted: [0], "old-voted": [1] }, banned: false },
    });
    assert.deepEqual(participantPolls(s).map((p) => p.id), ["open1", "open2", "voted", "stage", "revealed"]);
    // Once one leaves the stage, the next one comes in.
    const off = applyEvent(s, { type: "StageCleared", seq: 11, at: 0, stage: { question_id: null, poll_id: null } });
    assert.deepEqual(participantPolls(off).map((p) => p.id), ["open1", "open2", "voted", "revealed", "old-voted"]);
  });

  test("pollPercentages", () => {
    assert.equal(pollPercentages(poll("p")), null);
    assert.deepEqual(pollPercentages(poll("p", { ballots: 0, counts: [0, 0] })), [0, 0]);
    assert.deepEqual(pollPercentages(poll("p", { ballots: 1, counts: [1, 0] })), [100, 0]);
    assert.deepEqual(pollPercentages(poll("p", { ballots: 3, counts: [2, 1] })), [67, 33]);
    // Multiple choice: share of voters per option.
    assert.deepEqual(pollPercentages(poll("p", { multiple: true, ballots: 4, counts: [4, 2, 1] })), [100, 50, 25]);
  });
});
