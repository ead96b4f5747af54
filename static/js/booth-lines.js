// The booth chat as pages keep it (docs/protocol.md, "Booth chat"): the latest messages of the
// interpreter's own booth, in the order they came; which of them are the page's own; which new
// ones its screen-reader region announces. Pure: no DOM, no I/O; every function returns new values.

/**
 * Messages kept: as many as a Snapshot carries (KEPT in live/domain/booth.py), so a page that
 * followed the events holds what a freshly connected one would.
 */
export const BOOTH_KEPT = 50;

/**
 * @typedef {{id: string, language: string, text: string, at: number, sender: string|null,
 *   device: string|null}} BoothMessage
 */

/** @param {any} m @returns {m is BoothMessage} */
function isMessage(m) {
  return Boolean(m) && typeof m.id === "string" && typeof m.text === "string" && typeof m.at === "number";
}

/**
 * The booth chat of a Snapshot's state (`state.booth`, sent to interpreters only), checked.
 * @param {any} raw @returns {BoothMessage[]}
 */
export function boothFromSnapshot(raw) {
  return Array.isArray(raw) ? raw.filter(isMessage).slice(-BOOTH_KEPT) : [];
}

/**
 * Adds the message a `BoothMessageSent` event carries (once: a message already there is left as
 * it is); the oldest beyond {@link BOOTH_KEPT} are dropped.
 * @param {BoothMessage[]} messages @param {any} message @returns {BoothMessage[]}
 */
export function addBoothMessage(messages, message) {
  if (!isMessage(message) || messages.some((m) => m.id === message.id)) return messages;
  return [...messages, message].slice(-BOOTH_KEPT);
}

/**
 * Whether the page sent `message`: both partners hold the same link, so each page names itself
 * with an id of its own (`device`), which the server echoes in the messages it sent.
 * @param {BoothMessage} message @param {string} device @returns {boolean}
 */
export function isOwn(message, device) {
  return Boolean(device) && message.device === device;
}

/**
 * The partner's messages the page has not announced yet, oldest first; `announced` (the ids
 * handled so far) is not changed. A message of the page's own is never announced.
 * @param {BoothMessage[]} messages @param {Set<string>} announced @param {string} device
 * @returns {BoothMessage[]}
 */
export function partnerArrivals(messages, announced, device) {
  return messages.filter((m) => !announced.has(m.id) && !isOwn(m, device));
}

/**
 * The messages sent and not answered yet that have not come back either: the event of a message
 * comes before its `Ack`, and the page must not show it twice meanwhile. A waiting message has
 * come back when a new message of the page's own (not among those it `knew` when sent) has its
 * text; each message comes back once.
 * @template {{text: string, knew: Set<string>}} W
 * @param {W[]} waiting oldest first @param {BoothMessage[]} messages @param {string} device
 * @returns {W[]}
 */
export function stillWaiting(waiting, messages, device) {
  /** @type {Set<string>} */
  const claimed = new Set();
  return waiting.filter((w) => {
    const back = messages.find((m) => !claimed.has(m.id) && !w.knew.has(m.id) && isOwn(m, device) && m.text === w.text);
    if (back) claimed.add(back.id);
    return !back;
  });
}

/**
 * The page's own id: kept for the tab (a reload keeps it, another tab or device gets its own), a
 * new one when the store has none or cannot keep it.
 * @param {{getItem: (k: string) => (string|null), setItem: (k: string, v: string) => void}|null} store
 * @param {() => number} random in [0, 1)
 * @returns {string}
 */
export function deviceId(store, random) {
  const KEY = "tribune.booth.device";
  try {
    const kept = store && store.getItem(KEY);
    if (kept && /^[\w-]{8,64}$/.test(kept)) return kept;
  } catch {
    /* storage refused: a new id for this page */
  }
  let id = "d";
  for (let i = 0; i < 3; i++) id += Math.floor(random() * 2 ** 32).toString(36).padStart(7, "0");
  try {
    if (store) store.setItem(KEY, id);
  } catch {
    /* not kept: the page's messages are its own until it reloads */
  }
  return id;
}
