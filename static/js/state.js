// Client-side session state: pure functions, no DOM, no I/O. Every function returns a new state
// object (the previous one is left untouched) so pages can compare and tests can reason simply.

import { addBoothMessage, boothFromSnapshot } from "./booth-lines.js";
import { addCaption, captionsFromSnapshot } from "./caption-lines.js";

/**
 * @typedef {"pending"|"approved"|"dismissed"|"answered"|"archived"|"merged"} QuestionStatus
 * @typedef {{id: string, text: string, author: string|null, organisation: string|null,
 *   status: QuestionStatus, votes: number, starred: boolean, asked_at: number, edited: boolean,
 *   origin?: "room"|"remote", merged_into?: string|null, mine?: boolean, countsSeq: number}} Question
 * @typedef {{text: string, count: number, shown: boolean}} PollAnswer an entry of a word cloud, or an
 *   open-text answer, and how many voters gave it
 * @typedef {{id: string, kind?: "choice"|"rating"|"words"|"text", question: string, options: string[],
 *   multiple: boolean, status: "draft"|"open"|"closed", results_visible: boolean, ballots: number,
 *   counts: number[]|null, average?: number|null, answers?: PollAnswer[]|null, opened_at: number|null,
 *   countsSeq: number}} Poll `kind` absent: a `choice` poll (a server from before the kinds)
 *
 * `countsSeq` (client side only) is the session seq its counts (`votes`; `ballots`, `counts`,
 * `average`, `answers`) reflect: the seq of the Snapshot or event that brought the item, or of the last tally applied
 * to it. A tally older than that is stale for this item and leaves it alone.
 * @typedef {{question_id: string|null, poll_id: string|null}} Stage
 * @typedef {{participant_id: string, upvotes: string[], ballots: Record<string, (number|string)[]>,
 *   banned: boolean}} Me `ballots`: option indexes or a mark (choice, rating polls), entries (words,
 *   text polls)
 * @typedef {{at: number, by: string, action: string, target: string|null, detail: string|null}} LogEntry
 *   one moderation act: who (the link's role), when, which command, on what, the text it concerned
 * @typedef {{ban_id: string, name: string|null}} BannedEntry the ban made through question `ban_id`;
 *   `name` is that question's author, null when it was anonymous
 * @typedef {{id: string, name: string, status: "waiting"|"on_air"|"off_air"}} Guest
 * @typedef {object} State
 * @property {string|null} epoch
 * @property {number} seq last event applied
 * @property {any} session
 * @property {{premoderation: boolean, stage_captions?: string|null, replay_published?: boolean}} settings
 * @property {Question[]} questions
 * @property {Poll[]} polls
 * @property {Stage} stage
 * @property {import("./caption-lines.js").Captions} captions the latest caption lines
 * @property {import("./booth-lines.js").BoothMessage[]} booth an interpreter's booth chat (others: empty)
 * @property {number} connected
 * @property {Me|null} me participants only
 * @property {BannedEntry[]} banned moderators only
 * @property {LogEntry[]} log moderators only: the moderation log, oldest first
 * @property {Guest[]} guests remote guests: the studio, the guests, moderators
 * @property {{message: any, timer: any}|null} speaker the moderators' message and countdown for
 *   the speaker: the stage audience and moderators only
 */

export const QUESTION_STATUSES = Object.freeze(["pending", "approved", "answered", "archived", "dismissed", "merged"]);
/** Moderation log entries a console keeps (the server sends the latest 200 on connecting). */
const LOG_KEPT = 200;
/** Statuses every audience sees (and so every audience's tally covers). */
const PUBLISHED = new Set(["approved", "answered"]);

/**
 * Builds the client state from a `Snapshot.state`.
 * @param {any} snapshot the `state` object of a Snapshot frame
 * @param {{epoch?: string|null, seq?: number}} [meta] the Snapshot's epoch and seq
 * @returns {State}
 */
export function applySnapshot(snapshot, meta = {}) {
  const s = snapshot || {};
  const seq = typeof meta.seq === "number" ? meta.seq : 0;
  return {
    epoch: meta.epoch ?? null,
    seq,
    session: s.session ?? null,
    settings: { premoderation: false, ...(s.settings || {}) },
    questions: Array.isArray(s.questions) ? s.questions.map((q) => ({ ...q, countsSeq: seq })) : [],
    polls: Array.isArray(s.polls) ? s.polls.map((p) => ({ ...p, countsSeq: seq })) : [],
    stage: { question_id: null, poll_id: null, ...(s.stage || {}) },
    captions: captionsFromSnapshot(s.captions),
    booth: boothFromSnapshot(s.booth),
    connected: typeof s.connected === "number" ? s.connected : 0,
    me: s.me ?? null,
    banned: Array.isArray(s.banned) ? [...s.banned] : [],
    guests: Array.isArray(s.guests) ? [...s.guests] : [],
    speaker: s.speaker ?? null,
    log: Array.isArray(s.log) ? s.log.slice(-LOG_KEPT) : [],
  };
}

/**
 * @template {{id: string}} T
 * @param {T[]} list @param {T} item @returns {T[]}
 */
function upsert(list, item) {
  const i = list.findIndex((x) => x.id === item.id);
  if (i === -1) return [...list, item];
  const next = list.slice();
  next[i] = item;
  return next;
}

/**
 * @template {{id: string}} T
 * @param {T[]} list @param {string} id @returns {T[]}
 */
function remove(list, id) {
  return list.filter((x) => x.id !== id);
}

/**
 * Applies one event with the generic rule of docs/protocol.md: `question`/`questions`/`poll`
 * upsert (or remove when null), `caption` adds a line, `booth_message` a booth chat message,
 * `stage`/`settings`/`banned`/`me` replace. Events already applied
 * (seq not newer than the state's) are ignored. An upserted item's counts are as of the event.
 * @param {State} state
 * @param {any} msg an event frame (has `type` and `seq`)
 * @returns {State}
 */
export function applyEvent(state, msg) {
  if (typeof msg.seq === "number" && msg.seq <= state.seq) return state;
  const seq = typeof msg.seq === "number" ? msg.seq : state.seq;
  /** @type {State} */
  const next = { ...state, seq };

  if ("question" in msg) {
    if (msg.question === null) {
      if (msg.question_id) next.questions = remove(next.questions, msg.question_id);
    } else if (msg.question && msg.question.id) {
      next.questions = upsert(next.questions, { ...msg.question, countsSeq: seq });
    }
  }
  if (Array.isArray(msg.questions)) {
    for (const q of msg.questions) if (q && q.id) next.questions = upsert(next.questions, { ...q, countsSeq: seq });
  }
  if ("poll" in msg) {
    if (msg.poll === null) {
      if (msg.poll_id) next.polls = remove(next.polls, msg.poll_id);
    } else if (msg.poll && msg.poll.id) {
      next.polls = upsert(next.polls, { ...msg.poll, countsSeq: seq });
    }
  }
  if (msg.guest && msg.guest.id) next.guests = upsert(next.guests || [], msg.guest);
  if (msg.caption) next.captions = addCaption(state.captions, msg.caption);
  if (msg.booth_message) next.booth = addBoothMessage(state.booth, msg.booth_message);
  if (msg.log_entry) next.log = [...(state.log || []), msg.log_entry].slice(-LOG_KEPT);
  for (const key of /** @type {const} */ (["stage", "settings", "banned", "me", "speaker"])) {
    if (key in msg && msg[key] !== undefined) /** @type {any} */ (next)[key] = msg[key];
  }
  // A reset poll's ballots were all cleared: this participant's too (the event carries no `me`).
  if (msg.type === "PollReset" && msg.poll_id) next.me = withoutBallot(next.me, msg.poll_id);
  return optimisticCounts(state, next, msg);
}

/**
 * @param {Me|null} me @param {string} pollId
 * @returns {Me|null} `me` without its ballot in that poll (the same object when it had none)
 */
function withoutBallot(me, pollId) {
  if (!me || !me.ballots || !Object.prototype.hasOwnProperty.call(me.ballots, pollId)) return me;
  const { [pollId]: _forgotten, ...ballots } = me.ballots;
  return { ...me, ballots };
}

/**
 * The voter's own events carry no counts (tallies do, up to a second later). Adjust the count at
 * once unless a tally at least as new as the event already did (the item's `countsSeq`), and mark
 * the counts as of the event so an older tally arriving later does not take the vote back.
 * @param {State} prev @param {State} next @param {any} msg @returns {State}
 */
function optimisticCounts(prev, next, msg) {
  if (typeof msg.seq !== "number") return next;
  const seq = msg.seq;
  if ((msg.type === "QuestionUpvoted" || msg.type === "UpvoteWithdrawn") && msg.question_id) {
    const had = hasUpvoted(prev, msg.question_id);
    const has = hasUpvoted(next, msg.question_id);
    if (had === has) return next;
    const delta = has ? 1 : -1;
    next.questions = next.questions.map((q) =>
      q.id === msg.question_id && seq > (q.countsSeq || 0)
        ? { ...q, votes: Math.max(0, (q.votes || 0) + delta), countsSeq: seq }
        : q,
    );
  } else if (msg.type === "BallotCast" && msg.poll_id) {
    if (myBallot(prev, msg.poll_id) === null && myBallot(next, msg.poll_id) !== null) {
      next.polls = next.polls.map((p) =>
        p.id === msg.poll_id && seq > (p.countsSeq || 0) ? { ...p, ballots: (p.ballots || 0) + 1, countsSeq: seq } : p,
      );
    }
  }
  return next;
}

/**
 * Applies coalesced counts. A tally is complete (not a delta): it lists every question it covers
 * that has votes, so a covered question it leaves out has none. `scope` "all" (moderators) covers
 * every question, "public" the approved and answered ones; others keep their count.
 * Each item takes the tally's counts only if they are at least as new as its own (`countsSeq`):
 * the server sends queued events before a pending tally, so an event may bring newer counts
 * (e.g. revealed results) than the tally that follows it.
 * @param {State} state
 * @param {{seq: number, scope?: "all"|"public", questions?: Record<string, number>,
 *   polls?: Record<string, {ballots: number, counts?: number[]|null, average?: number|null,
 *   answers?: PollAnswer[]|null}>}} msg
 * @returns {State}
 */
export function applyTally(state, msg) {
  const seq = typeof msg.seq === "number" ? msg.seq : null;
  const votes = msg.questions || {};
  const polls = msg.polls || {};
  const has = (/** @type {object} */ o, /** @type {string} */ id) => Object.prototype.hasOwnProperty.call(o, id);
  const covers = (/** @type {Question} */ q) => has(votes, q.id) || msg.scope === "all" || PUBLISHED.has(q.status);
  // Without a seq (not sent by the server) the counts are taken as they come.
  const fresh = (/** @type {{countsSeq: number}} */ item) => seq === null || seq >= (item.countsSeq || 0);
  const stamp = (/** @type {{countsSeq: number}} */ item) => (seq === null ? item.countsSeq : Math.max(seq, item.countsSeq || 0));
  return {
    ...state,
    questions: state.questions.map((q) => {
      if (!covers(q) || !fresh(q)) return q;
      const n = has(votes, q.id) ? votes[q.id] : 0;
      return q.votes === n && q.countsSeq === stamp(q) ? q : { ...q, votes: n, countsSeq: stamp(q) };
    }),
    polls: state.polls.map((p) => {
      const t = has(polls, p.id) ? polls[p.id] : null;
      if (!t || !fresh(p)) return p;
      // Each result the tally carries replaces the poll's; one it leaves out (an older server's
      // tally has no `average`, no `answers`) is kept.
      const next = { ...p, ballots: t.ballots ?? p.ballots, countsSeq: stamp(p) };
      for (const key of /** @type {const} */ (["counts", "average", "answers"])) {
        if (t[key] !== undefined) /** @type {any} */ (next)[key] = t[key];
      }
      return next;
    }),
  };
}

/**
 * @param {State} state @param {{connected: number}} msg @returns {State}
 */
export function applyPresence(state, msg) {
  return typeof msg.connected === "number" ? { ...state, connected: msg.connected } : state;
}

/**
 * Sorts a copy of `list`. "popular": most votes first, ties to the question asked first.
 * "recent": newest first. `starredFirst` (moderators) puts starred questions on top.
 * @param {Question[]} list
 * @param {"popular"|"recent"} order
 * @param {{starredFirst?: boolean}} [options]
 * @returns {Question[]}
 */
export function sortQuestions(list, order, options = {}) {
  const byRecent = (/** @type {Question} */ a, /** @type {Question} */ b) =>
    (b.asked_at || 0) - (a.asked_at || 0) || cmpId(b, a);
  const byPopular = (/** @type {Question} */ a, /** @type {Question} */ b) =>
    (b.votes || 0) - (a.votes || 0) || (a.asked_at || 0) - (b.asked_at || 0) || cmpId(a, b);
  const base = order === "recent" ? byRecent : byPopular;
  const cmp = options.starredFirst
    ? (/** @type {Question} */ a, /** @type {Question} */ b) => Number(b.starred) - Number(a.starred) || base(a, b)
    : base;
  return [...list].sort(cmp);
}

/** @param {{id: string}} a @param {{id: string}} b */
function cmpId(a, b) {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * @param {State} state @param {QuestionStatus} status @returns {Question[]}
 */
export function questionsWithStatus(state, status) {
  return state.questions.filter((q) => q.status === status);
}

/**
 * What the audience sees in the main list: approved questions.
 * @param {State} state @returns {Question[]}
 */
export function visibleQuestions(state) {
  return questionsWithStatus(state, "approved");
}

/** @param {State} state @returns {Question[]} the participant's own questions, any status */
export function myQuestions(state) {
  return state.questions.filter((q) => q.mine === true);
}

/** @param {State} state @returns {Record<QuestionStatus, number>} */
export function countByStatus(state) {
  /** @type {Record<string, number>} */
  const counts = Object.fromEntries(QUESTION_STATUSES.map((s) => [s, 0]));
  for (const q of state.questions) if (q.status in counts) counts[q.status] += 1;
  return /** @type {Record<QuestionStatus, number>} */ (counts);
}

/** @param {State} state @returns {Question|null} */
export function stageQuestion(state) {
  const id = state.stage && state.stage.question_id;
  return (id && state.questions.find((q) => q.id === id)) || null;
}

/** @param {State} state @returns {Poll|null} */
export function stagePoll(state) {
  const id = state.stage && state.stage.poll_id;
  return (id && state.polls.find((p) => p.id === id)) || null;
}

/** @param {State} state @returns {Poll[]} open polls, oldest opened first */
export function openPolls(state) {
  return state.polls
    .filter((p) => p.status === "open")
    .sort((a, b) => (a.opened_at || 0) - (b.opened_at || 0));
}

/** Closed polls a participant still sees, at most. */
export const MAX_CLOSED_POLLS = 3;

/**
 * Polls a participant should see: the open ones (oldest opened first), then the closed ones that
 * concern them — voted in, on stage, or with results shown — most recent first, at most
 * {@link MAX_CLOSED_POLLS}.
 * @param {State} state @returns {Poll[]}
 */
export function participantPolls(state) {
  const stageId = state.stage && state.stage.poll_id;
  const closed = state.polls.filter((p) => p.status === "closed"
    && (p.id === stageId || myBallot(state, p.id) !== null || (p.results_visible && hasResults(p))));
  closed.sort((a, b) => (b.opened_at || 0) - (a.opened_at || 0) || cmpId(b, a));
  return [...openPolls(state), ...closed.slice(0, MAX_CLOSED_POLLS)];
}

/** @param {State} state @param {string} questionId @returns {boolean} */
export function hasUpvoted(state, questionId) {
  return Boolean(state.me && Array.isArray(state.me.upvotes) && state.me.upvotes.includes(questionId));
}

/**
 * @param {State} state @param {string} pollId
 * @returns {(number|string)[]|null} the ballot I cast: option indexes (choice), `[mark]` (rating),
 *   entries as the server normalised them (words, text)
 */
export function myBallot(state, pollId) {
  const ballots = state.me && state.me.ballots;
  return ballots && Array.isArray(ballots[pollId]) ? ballots[pollId] : null;
}

/** @param {State} state @returns {boolean} */
export function isBanned(state) {
  return Boolean(state.me && state.me.banned);
}

/** @param {Poll} poll @returns {"choice"|"rating"|"words"|"text"} */
export function pollKind(poll) {
  const kind = poll && poll.kind;
  return kind === "rating" || kind === "words" || kind === "text" ? kind : "choice";
}

/**
 * Whether the poll view carries its results (participants and the stage get them once revealed):
 * `counts` for choice and rating polls, `answers` for words and text polls.
 * @param {Poll} poll @returns {boolean}
 */
export function hasResults(poll) {
  if (!poll) return false;
  const kind = pollKind(poll);
  return kind === "words" || kind === "text" ? Array.isArray(poll.answers) : Array.isArray(poll.counts);
}

/**
 * Whole-number percentage of ballots for each option (for a multiple-choice poll the share of
 * voters who ticked it, so the total may exceed 100; for a rating poll, of each mark 1 to 5), or
 * null while counts are hidden.
 * @param {Poll} poll @returns {number[]|null}
 */
export function pollPercentages(poll) {
  if (!poll || !Array.isArray(poll.counts)) return null;
  const total = poll.ballots || 0;
  return poll.counts.map((c) => (total > 0 ? Math.round((c * 100) / total) : 0));
}
