// The poll kinds beyond a choice (docs/protocol.md, "Poll kinds") as the pages hold and show them:
// the reducer's results and resets (state.js), and the pure helpers the cards use (poll-results.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  CLOUD_WORDS, STAGE_ANSWERS, cloudSize, formatAverage, normaliseWord, ratingResults, shownAnswers, textBallot,
  wordCloud, wordsBallot,
} from "../../static/js/poll-results.js";
import {
  applyEvent, applySnapshot, applyTally, hasResults, myBallot, participantPolls, pollKind, pollPercentages,
} from "../../static/js/state.js";

/** @returns {any} */
function poll(id, extra = {}) {
  return {
    id, kind: "choice", question: "Q?", options: [], multiple: false, status: "open", results_visible: false,
    ballots: 0, counts: null, average: null, answers: null, opened_at: 5000, ...extra,
  };
}

function stateWith(polls, ballots = {}) {
  return applySnapshot(
    {
      session: { id: "s", interactive: true }, settings: { premoderation: false }, questions: [], polls,
      stage: { question_id: null, poll_id: null }, connected: 1,
      me: { participant_id: "u_me", upvotes: [], ballots, banned: false },
    },
    { epoch: "e", seq: 10 },
  );
}

const answer = (text, count, shown = true) => ({ text, count, shown });

describe("reducer: poll kinds", () => {
  test("a tally carries a rating's average and a cloud's answers as it does counts", () => {
    let s = stateWith([poll("r", { kind: "rating" }), poll("w", { kind: "words" })]);
    s = applyTally(s, {
      seq: 11, scope: "public",
      polls: {
        r: { ballots: 5, counts: [0, 0, 1, 2, 2], average: 4.2, answers: null },
        w: { ballots: 2, counts: null, average: null, answers: [answer("vélo", 2)] },
      },
    });
    const [r, w] = s.polls;
    assert.deepEqual([r.ballots, r.counts, r.average, r.answers], [5, [0, 0, 1, 2, 2], 4.2, null]);
    assert.deepEqual([w.ballots, w.counts, w.average, w.answers], [2, null, null, [answer("vélo", 2)]]);
    assert.equal(w.countsSeq, 11);
  });

  test("a tally without average or answers (an older server's) keeps the poll's", () => {
    let s = stateWith([poll("w", { kind: "words", answers: [answer("a", 1)], results_visible: true })]);
    s = applyTally(s, { seq: 11, polls: { w: { ballots: 3, counts: null } } });
    assert.deepEqual(s.polls[0].answers, [answer("a", 1)]);
    assert.equal(s.polls[0].ballots, 3);
  });

  test("a stale tally leaves a newer event's answers alone", () => {
    let s = stateWith([poll("t", { kind: "text" })]);
    s = applyEvent(s, { type: "AnswerScreened", seq: 14, at: 0, poll_id: "t", poll: poll("t", { kind: "text", answers: [answer("oui", 1)] }), stage: s.stage });
    s = applyTally(s, { seq: 12, polls: { t: { ballots: 1, counts: null, average: null, answers: [] } } });
    assert.deepEqual(s.polls[0].answers, [answer("oui", 1)]);
  });

  test("PollReset forgets my ballot in that poll only, and a new ballot counts again", () => {
    let s = stateWith([poll("p1", { status: "closed", ballots: 4 }), poll("p2", { kind: "words" })], { p1: [1], p2: ["vélo"] });
    const reset = poll("p1", { status: "closed", ballots: 0, counts: [0, 0] });
    s = applyEvent(s, { type: "PollReset", seq: 11, at: 0, poll_id: "p1", poll: reset, stage: s.stage });
    assert.equal(myBallot(s, "p1"), null);
    assert.deepEqual(myBallot(s, "p2"), ["vélo"]);
    assert.equal(s.polls[0].ballots, 0);
    s = applyEvent(s, { type: "PollOpened", seq: 12, at: 0, poll_id: "p1", poll: { ...reset, status: "open" }, stage: s.stage });
    s = applyEvent(s, { type: "BallotCast", seq: 13, at: 0, poll_id: "p1", me: { ...s.me, ballots: { ...s.me.ballots, p1: [0] } } });
    assert.equal(s.polls[0].ballots, 1, "the ballot after the reset is counted at once");
  });

  test("PollReset without a ballot of mine, or for a moderator (no me), changes nothing of me", () => {
    const s = stateWith([poll("p1", { status: "closed" })]);
    const next = applyEvent(s, { type: "PollReset", seq: 11, at: 0, poll_id: "p1", poll: poll("p1", { status: "closed" }), stage: s.stage });
    assert.equal(next.me, s.me);
    const moderator = { ...s, me: null };
    assert.equal(applyEvent(moderator, { type: "PollReset", seq: 11, at: 0, poll_id: "p1", poll: null }).me, null);
  });

  test("myBallot gives a words or text ballot's entries", () => {
    const s = stateWith([poll("w", { kind: "words" }), poll("t", { kind: "text" })], { w: ["vélo", "bus"], t: ["Plus de pistes"] });
    assert.deepEqual(myBallot(s, "w"), ["vélo", "bus"]);
    assert.deepEqual(myBallot(s, "t"), ["Plus de pistes"]);
  });

  test("pollKind defaults to choice; hasResults looks at counts or answers by kind", () => {
    assert.equal(pollKind(poll("a", { kind: undefined })), "choice");
    assert.equal(pollKind(poll("a", { kind: "quiz" })), "choice");
    assert.equal(pollKind(poll("a", { kind: "words" })), "words");
    assert.equal(hasResults(poll("a", { counts: [1, 2] })), true);
    assert.equal(hasResults(poll("a", { kind: "rating", counts: null })), false);
    assert.equal(hasResults(poll("a", { kind: "text", answers: [] })), true, "revealed, none approved yet");
    assert.equal(hasResults(poll("a", { kind: "words", counts: null, answers: null })), false);
  });

  test("a closed words poll with revealed answers stays on the participant's page", () => {
    const s = stateWith([poll("w", { kind: "words", status: "closed", results_visible: true, answers: [answer("a", 1)] })]);
    assert.deepEqual(participantPolls(s).map((p) => p.id), ["w"]);
    const hidden = stateWith([poll("w", { kind: "words", status: "closed", results_visible: false })]);
    assert.deepEqual(participantPolls(hidden), []);
  });
});

describe("rating results", () => {
  test("percentages of each mark, and the average", () => {
    const p = poll("r", { kind: "rating", ballots: 5, counts: [0, 0, 1, 2, 2], average: 4.2 });
    assert.deepEqual(pollPercentages(p), [0, 0, 20, 40, 40]);
    const r = ratingResults(p);
    assert.equal(r.average, 4.2);
    assert.deepEqual(r.rows.map((row) => [row.mark, row.count, row.percent]), [[1, 0, 0], [2, 0, 0], [3, 1, 20], [4, 2, 40], [5, 2, 40]]);
  });

  test("hidden results: null; no ballots: a null average and zero percentages", () => {
    assert.equal(ratingResults(poll("r", { kind: "rating" })), null);
    const empty = ratingResults(poll("r", { kind: "rating", counts: [0, 0, 0, 0, 0], average: null }));
    assert.equal(empty.average, null);
    assert.ok(empty.rows.every((row) => row.percent === 0));
  });

  test("the average has one decimal, with the page language's separator", () => {
    assert.equal(formatAverage(4.2, "fr"), "4,2");
    assert.equal(formatAverage(4.2, "en"), "4.2");
    assert.equal(formatAverage(4, "es"), "4,0");
    assert.equal(formatAverage(3.25, "fr").length, 3);
    assert.equal(formatAverage(4.2, "not a language!"), "4,2", "a bad tag falls back to French");
  });
});

describe("answers and the word cloud", () => {
  test("shownAnswers drops hidden ones, puts the most given first, keeps ties in order, caps", () => {
    const p = poll("t", { kind: "text", answers: [answer("b", 1), answer("secret", 9, false), answer("a", 3), answer("c", 1)] });
    assert.deepEqual(shownAnswers(p).map((a) => a.text), ["a", "b", "c"]);
    assert.deepEqual(shownAnswers(p, 2).map((a) => a.text), ["a", "b"]);
    assert.deepEqual(shownAnswers(poll("t", { kind: "text" })), []);
    const many = poll("t", { kind: "text", answers: Array.from({ length: 20 }, (_, i) => answer(`r${i}`, 1)) });
    assert.equal(shownAnswers(many, STAGE_ANSWERS).length, 6);
  });

  test("cloud weights follow the square root of count over the top count; alphabetical order", () => {
    const p = poll("w", { kind: "words", answers: [answer("vélo", 16), answer("bus", 4), answer("tram", 1), answer("auto", 9, false)] });
    const cloud = wordCloud(p);
    assert.deepEqual(cloud.map((w) => w.text), ["bus", "tram", "vélo"]);
    assert.deepEqual(cloud.map((w) => w.weight), [0.5, 0.25, 1]);
    assert.ok(!cloud.some((w) => w.text === "auto"), "a hidden word is never drawn");
    assert.equal(cloudSize(1, 1.5, 5), 5);
    assert.equal(cloudSize(0.5, 1.5, 5), 3.25);
    assert.equal(cloudSize(0.001, 1.5, 5), 1.5);
    assert.equal(cloudSize(7, 1.5, 5), 5, "clamped");
  });

  test("the cloud shows the 40 most given words at most", () => {
    const answers = Array.from({ length: 60 }, (_, i) => answer(`mot${String(i).padStart(2, "0")}`, 60 - i));
    const cloud = wordCloud(poll("w", { kind: "words", answers }));
    assert.equal(cloud.length, CLOUD_WORDS);
    assert.ok(cloud.every((w) => w.count > 20), "the least given are left out");
    assert.deepEqual(wordCloud(poll("w", { kind: "words", answers: [] })), []);
  });
});

describe("ballots from the participant's inputs", () => {
  test("a word is normalised as the server keeps it", () => {
    assert.equal(normaliseWord("  Mobilités !  "), "mobilités");
    assert.equal(normaliseWord("« Vélo   électrique »"), "vélo électrique");
    assert.equal(normaliseWord("C++"), "c++", "symbols inside or after a word are kept");
    assert.equal(normaliseWord("...\n"), "");
  });

  test("a words ballot: up to three distinct entries, empty ones dropped, cut at 40", () => {
    assert.deepEqual(wordsBallot(["Vélo", "", "vélo !"]), ["vélo"]);
    assert.deepEqual(wordsBallot(["a", "b", "c", "d"]), ["a", "b", "c"]);
    assert.deepEqual(wordsBallot(["", "  "]), []);
    assert.equal(wordsBallot(["x".repeat(50)])[0].length, 40);
  });

  test("a text ballot: one line, trimmed, at most 280 characters", () => {
    assert.deepEqual(textBallot("  Plus de\npistes  cyclables "), ["Plus de pistes cyclables"]);
    assert.deepEqual(textBallot("   "), []);
    assert.equal(textBallot("é".repeat(300))[0].length, 280);
  });
});
