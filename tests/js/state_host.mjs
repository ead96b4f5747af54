// The browser's own client state (static/js/state.js) for the Python tests: one Node process keeps
// each test client's state and applies what that client receives, so the end-to-end tests check
// what a page would hold, not a copy of its rules.
//
// Protocol: one JSON line in, one JSON line out. In: {"ops": [[key, op, msg, meta], ...]} with op
// "snapshot" (msg: a Snapshot's state, meta: {epoch, seq}), "event", "tally", "presence", "forget".
// Out: {"views": [...]}, the state after each op as a test reads it (see `view`), or {"error": "..."}.
import { createInterface } from "node:readline";
import { applyEvent, applyPresence, applySnapshot, applyTally } from "../../static/js/state.js";

/** @type {Map<string, any>} */
const states = new Map();

/** The state without the client's bookkeeping (per-item `countsSeq`, the resume point). */
function view(state) {
  if (!state) return null;
  const { epoch, seq, ...rest } = state;
  const strip = (/** @type {any} */ { countsSeq, ...item }) => item;
  return { ...rest, questions: state.questions.map(strip), polls: state.polls.map(strip) };
}

function run([key, op, msg, meta]) {
  const state = states.get(key);
  if (op === "snapshot") states.set(key, applySnapshot(msg, meta || {}));
  else if (op === "forget") states.delete(key);
  else if (!state) throw new Error(`${op} for ${key} before any snapshot`);
  else if (op === "event") states.set(key, applyEvent(state, msg));
  else if (op === "tally") states.set(key, applyTally(state, msg));
  else if (op === "presence") states.set(key, applyPresence(state, msg));
  else throw new Error(`unknown op ${op}`);
  return view(states.get(key));
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let out;
  try {
    out = { views: JSON.parse(line).ops.map(run) };
  } catch (err) {
    out = { error: String(err && err.stack ? err.stack : err) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
