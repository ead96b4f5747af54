// What a participant listens to: the original (the floor) or an interpretation channel, the floor's
// level under an interpretation, and audio only. No DOM: storage and fetch are passed in, so Node
// tests run it as it is.
//
// The server sends a player up to two audio tracks (live/media/channels.py): the first carries the
// chosen language (the floor while nobody interprets into it), the second the floor under it,
// which the browser plays at the chosen level. A level of zero asks the server not to send it at
// all: a listener receives only the audio it chose.

export const STORAGE_KEY = "tribune.listening";
export const DEFAULT_FLOOR_LEVEL = 0.2; // the original softly under the interpretation

/**
 * @typedef {{language: string|null, floor: number, audioOnly: boolean}} Choice
 * `language` null: the original; `floor` 0..1, the original's level under an interpretation.
 */

/**
 * The listener's remembered choice, kept to what this session offers.
 * @param {{get(key: string): any}} storage
 * @param {string[]} languages the session's interpretation languages
 * @returns {Choice}
 */
export function loadChoice(storage, languages) {
  const saved = storage.get(STORAGE_KEY) || {};
  const language = typeof saved.language === "string" && languages.includes(saved.language) ? saved.language : null;
  const floor = typeof saved.floor === "number" && saved.floor >= 0 && saved.floor <= 1 ? saved.floor : DEFAULT_FLOOR_LEVEL;
  return { language, floor, audioOnly: saved.audioOnly === true };
}

/**
 * Remembers the choice for every session (a listener's language is theirs, not the session's).
 * A language this session lacks is kept only if no other was chosen here.
 * @param {{get(key: string): any, set(key: string, value: any): void}} storage
 * @param {Choice} choice
 */
export function saveChoice(storage, choice) {
  storage.set(STORAGE_KEY, { language: choice.language, floor: choice.floor, audioOnly: choice.audioOnly });
}

/**
 * What the server is asked for: the language, and whether to send the floor under it.
 * @param {Choice} choice
 * @returns {{language: string|null, floor: boolean}}
 */
export function audioRequest(choice) {
  return { language: choice.language, floor: choice.floor > 0 };
}

/**
 * The WHEP URL with the first choice in it, so the first packets already follow it.
 * @param {string} endpoint @param {Choice} choice @returns {string}
 */
export function whepUrl(endpoint, choice) {
  if (choice.language === null) return endpoint;
  const url = new URL(endpoint);
  url.searchParams.set("language", choice.language);
  url.searchParams.set("floor", choice.floor > 0 ? "1" : "0");
  return url.href;
}

/**
 * Tells the server about a new choice on the current connection (PUT …/audio).
 * @param {string} resource the WHEP session's URL
 * @param {string} token
 * @param {Choice} choice
 * @param {typeof fetch} [fetchFn]
 * @returns {Promise<boolean>} whether the server took it
 */
export async function sendChoice(resource, token, choice, fetchFn = globalThis.fetch) {
  try {
    const response = await fetchFn(`${resource}/audio`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(audioRequest(choice)),
    });
    return response.ok;
  } catch {
    return false; // offline: the next connection carries the choice in its URL
  }
}

/**
 * What the listener hears now, given which channels have an interpreter on air.
 * @param {Choice} choice
 * @param {Record<string, boolean>|null} channels from GET …/broadcast (null: not known yet)
 * @returns {{interpreted: boolean, fallback: boolean, floorUnder: number}}
 *   interpreted: the first track carries the interpretation; fallback: a language was chosen but
 *   nobody interprets into it (the original plays); floorUnder: the level of the second track.
 */
export function hearing(choice, channels) {
  if (choice.language === null) return { interpreted: false, fallback: false, floorUnder: 0 };
  const onAir = channels !== null && channels[choice.language] === true;
  return { interpreted: onAir, fallback: channels !== null && !onAir, floorUnder: onAir ? choice.floor : 0 };
}
