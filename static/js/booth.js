// The interpreter's console without the DOM: when the page is on air, when its booth partner took
// over, whether a lost connection is to be re-made; the Opus settings for speech; the input level;
// the cough button's hold. Page code (static/js/interpreter.js) does the I/O and calls these, so
// Node tests run them as they are.
//
// A language's channel has one voice at a time: the relay puts on air the connection that connected
// last and ends the one before (live/media/channels.py). Its readout (GET /sessions/S@L/broadcast)
// names the voice on air by a digest of its WHIP resource id, so a page knows its own voice from its
// partner's: `publisher` equal to the digest of one of its own resources means "us".

/** Opus for interpreting: full band (48 kHz), mono, a speech bitrate with headroom, in-band FEC
 * against lost packets, no DTX (it clips the starts of words and the booth's breathing). */
export const SPEECH_OPUS = { maxaveragebitrate: 64000, useinbandfec: 1, usedtx: 0, stereo: 0 };
/** Parameters that could narrow the band below 48 kHz: set back to it where present. */
const FULL_BAND = ["maxplaybackrate", "sprop-maxcapturerate"];
export const LEVEL_FLOOR_DB = -60; // the input meter's empty end

/**
 * The payload types an SDP maps to Opus.
 * @param {string} sdp @returns {string[]}
 */
export function opusPayloadTypes(sdp) {
  return [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000(?:\/\d+)?\s*$/gim)].map((m) => m[1]);
}

/**
 * The SDP with `params` in every Opus format's fmtp line (the line added when missing). The other
 * parameters stay, in their order; the clock stays 48000.
 * @param {string} sdp
 * @param {Record<string, string|number>} [params]
 * @returns {string}
 */
export function withOpusParams(sdp, params = SPEECH_OPUS) {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const types = new Set(opusPayloadTypes(sdp));
  if (!types.size) return sdp;
  const lines = sdp.split(eol);
  const hasFmtp = new Set();
  for (let i = 0; i < lines.length; i++) {
    const m = /^a=fmtp:(\d+) ?(.*)$/.exec(lines[i]);
    if (!m || !types.has(m[1])) continue;
    hasFmtp.add(m[1]);
    lines[i] = `a=fmtp:${m[1]} ${fmtp(m[2], params)}`;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^a=rtpmap:(\d+) /.exec(lines[i]);
    if (m && types.has(m[1]) && !hasFmtp.has(m[1])) lines.splice(i + 1, 0, `a=fmtp:${m[1]} ${fmtp("", params)}`);
  }
  return lines.join(eol);
}

/** @param {string} line @param {Record<string, string|number>} params @returns {string} */
function fmtp(line, params) {
  /** @type {Map<string, string>} */
  const values = new Map();
  for (const part of line.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) values.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of FULL_BAND) if (values.has(name)) values.set(name, "48000");
  for (const [name, value] of Object.entries(params)) values.set(name, String(value));
  return [...values].map(([name, value]) => `${name}=${value}`).join(";");
}

/**
 * The peer connection as whip.js's negotiate() sees it: its offer and the server's answer both
 * carry the speech settings. The answer matters most: a browser configures its Opus encoder from
 * the remote description's fmtp (what the receiver asks for), the offer's only says what this
 * side would take. Everything else goes to the real connection.
 * @template {object} P
 * @param {P} pc RTCPeerConnection
 * @param {(sdp: string) => string} [munge]
 * @returns {P}
 */
export function speechPeer(pc, munge = (sdp) => withOpusParams(sdp)) {
  return new Proxy(pc, {
    get(target, prop) {
      const real = /** @type {any} */ (target);
      if (prop === "createOffer") {
        return async (/** @type {any[]} */ ...args) => {
          const offer = await real.createOffer(...args);
          return { type: offer.type, sdp: munge(offer.sdp) };
        };
      }
      if (prop === "setRemoteDescription") {
        return (/** @type {{type: string, sdp: string}} */ desc) => real.setRemoteDescription({ type: desc.type, sdp: munge(desc.sdp) });
      }
      const value = Reflect.get(target, prop); // getters run on the real connection
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * What the channel's readout shows of a WHIP resource: the first 16 hex digits of the SHA-256 of
 * its id, the last segment of its URL (live/media/relay.py, publisher_digest).
 * @param {string} resource the resource's URL
 * @param {SubtleCrypto} [subtle]
 * @returns {Promise<string>}
 */
export async function publisherDigest(resource, subtle = globalThis.crypto.subtle) {
  const path = new URL(resource, "http://localhost/").pathname;
  const id = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
  const hash = new Uint8Array(await subtle.digest("SHA-256", new TextEncoder().encode(id)));
  return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
}

/**
 * The microphone as an interpreter needs it. Voice processing (echo cancellation, noise
 * suppression, automatic gain) is off unless asked for: interpreters wear headsets, so there is no
 * echo to cancel, and the processing colours the voice and pumps its level.
 * @param {string} deviceId "" for the default one
 * @param {boolean} processing
 * @returns {MediaTrackConstraints}
 */
export function microphoneConstraints(deviceId, processing) {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing,
    channelCount: { ideal: 1 }, sampleRate: { ideal: 48000 },
  };
}

/**
 * The input level of a block of samples (-1..1): its RMS in dBFS, and where that sits on a meter
 * running from LEVEL_FLOOR_DB (0) to full scale (1).
 * @param {ArrayLike<number>} samples
 * @returns {{db: number, fraction: number}}
 */
export function inputLevel(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  const rms = samples.length ? Math.sqrt(sum / samples.length) : 0;
  const db = rms > 0 ? Math.max(LEVEL_FLOOR_DB, 20 * Math.log10(rms)) : LEVEL_FLOOR_DB;
  return { db, fraction: Math.min(1, Math.max(0, (db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB)) };
}

export const METER_FALL_DB_PER_S = 20;

/**
 * What the meter shows: the level now, or the peak before it falling back slowly, so that a short
 * syllable stays visible long enough to be seen (as a broadcast meter's ballistics do).
 * @param {number} shownDb what the meter showed
 * @param {number} nowDb the level now
 * @param {number} elapsedMs since the meter showed `shownDb`
 * @returns {number} dB
 */
export function meterDb(shownDb, nowDb, elapsedMs) {
  return Math.max(nowDb, LEVEL_FLOOR_DB, shownDb - (METER_FALL_DB_PER_S * elapsedMs) / 1000);
}

/**
 * Held while any of its sources holds it: the cough button is pressed by the pointer, a key on the
 * button, or the page-wide shortcut, and released by each on its own.
 */
export class Hold {
  /** @param {(held: boolean) => void} onChange */
  constructor(onChange) {
    this.onChange = onChange;
    /** @type {Set<string>} */
    this.sources = new Set();
  }

  get held() {
    return this.sources.size > 0;
  }

  /** @param {string} source */
  press(source) {
    const was = this.held;
    this.sources.add(source);
    if (!was) this.onChange(true);
  }

  /** @param {string} source */
  release(source) {
    if (!this.sources.delete(source) || this.held) return;
    this.onChange(false);
  }

  /** The window lost focus: its key-ups and pointer-ups will not come. */
  releaseAll() {
    if (!this.held) return;
    this.sources.clear();
    this.onChange(false);
  }
}

export const COUGH_KEY = "c";

/**
 * Whether a key event is the page-wide cough shortcut (C, held): not with a modifier (Ctrl+C
 * copies), not while typing in a field.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean}} ev
 * @param {boolean} inField the event's target takes text or choices
 */
export function isCoughShortcut(ev, inField) {
  return !inField && !ev.ctrlKey && !ev.metaKey && !ev.altKey && ev.key.toLowerCase() === COUGH_KEY;
}

/**
 * What the relay source choice gives: the floor, the chosen booth, or the floor because nobody is
 * on air in that booth (the server sends the floor then).
 * @param {string|null} source a language, or null for the floor
 * @param {Record<string, boolean>|null} channels from the floor's readout (null: not known yet)
 * @returns {"floor"|"relay"|"fallback"|"unknown"}
 */
export function relayHearing(source, channels) {
  if (source === null) return "floor";
  if (channels === null) return "unknown";
  return channels[source] === true ? "relay" : "fallback";
}

/**
 * @typedef {"off"|"connecting"|"on_air"|"reconnecting"|"taken_over"|"error"} Phase
 * @typedef {{live: boolean, publisher?: string|null}} Readout the channel's, from GET …/broadcast
 */

/**
 * Whether this page is on air in its language's channel, and what to do next. Going on air is
 * always asked for (never on load); from then until the interpreter leaves, the partner takes
 * over or the link is refused, a lost connection is re-made.
 *
 * "Taken over" needs proof that this page had the air in this stretch (the readout named it, or its
 * connection came up, which is when the relay puts it on air): while it is still connecting to
 * take over from the partner, the readout naming the partner is expected, not a takeover.
 */
export class Booth {
  constructor() {
    /** @type {Phase} */
    this.phase = "off";
    this.want = false;
    /** Digests of this page's connections since it last asked for the air. */
    this.mine = new Set();
    /** @type {string|null} the current connection's */
    this.current = null;
    this.connectedOnce = false;
    this.confirmed = false;
    /** @type {{live: boolean, publisher: string|null}} */
    this.channel = { live: false, publisher: null };
    this.attempt = 0; // reconnections since last on air: the backoff's step
  }

  /** "Go on air" or "Take over". @returns {boolean} whether to publish now */
  goOnAir() {
    if (this.want) return false;
    this.want = true;
    this.phase = "connecting";
    this.mine.clear();
    this.current = null;
    this.connectedOnce = this.confirmed = false;
    this.attempt = 0;
    return true;
  }

  /** The server answered this page's offer. @param {string} digest its resource's */
  published(digest) {
    if (!this.want) return;
    this.current = digest;
    this.mine.add(digest);
  }

  /** The current connection came up (the relay puts it on air now). */
  connected() {
    if (this.want && this.current !== null) this.connectedOnce = true;
  }

  /** Someone else's voice is on the channel (someone: a readout without a name counts). */
  get othersOnAir() {
    return this.channel.live && (this.channel.publisher === null || !this.mine.has(this.channel.publisher));
  }

  /** The partner's voice is on the channel: named, and not one of ours. */
  get partnerOnAir() {
    return this.channel.live && this.channel.publisher !== null && !this.mine.has(this.channel.publisher);
  }

  /** @param {Readout|null} r */
  note(r) {
    if (r) this.channel = { live: Boolean(r.live), publisher: r.live && typeof r.publisher === "string" ? r.publisher : null };
  }

  /**
   * A readout of the channel arrived.
   * @param {Readout|null} r
   * @returns {"stop"|null} "stop": the partner took over, hang up without reconnecting
   */
  readout(r) {
    if (!r) return null;
    this.note(r);
    if (!this.want) return null;
    if (this.current !== null && this.channel.publisher === this.current) {
      this.confirmed = true;
      this.attempt = 0;
      this.phase = "on_air";
      return null;
    }
    if (this.confirmed && this.partnerOnAir) return this.takenOver();
    // On air no more by the server's account (its side of the connection is going): the light
    // says so at once, the connection's loss follows.
    if (this.phase === "on_air") this.phase = "reconnecting";
    return null;
  }

  /**
   * The current connection is gone. `r` is a readout taken since (null: none could be had).
   * @param {Readout|null} r
   * @returns {"stop"|"retry"|null}
   */
  lost(r) {
    if (!this.want) return null;
    this.note(r);
    if ((this.connectedOnce || this.confirmed) && this.partnerOnAir) return this.takenOver();
    this.phase = "reconnecting";
    this.current = null;
    return "retry";
  }

  /**
   * The offer was refused, or could not be sent.
   * @param {boolean} fatal retrying cannot help (a bad link, a session not streamed)
   * @returns {"stop"|"retry"|null}
   */
  failed(fatal) {
    if (!this.want) return null;
    this.current = null;
    if (fatal) {
      this.want = false;
      this.phase = "error";
      return "stop";
    }
    this.phase = "reconnecting";
    return "retry";
  }

  /** "Leave the air". */
  leave() {
    this.want = false;
    this.phase = "off";
    this.current = null;
  }

  /** @returns {"stop"} */
  takenOver() {
    this.want = false;
    this.phase = "taken_over";
    this.current = null;
    return "stop";
  }

  /** The on-air light. @returns {"on_air"|"connecting"|"reconnecting"|"partner"|"off"} */
  get light() {
    if (this.phase === "on_air" || this.phase === "connecting" || this.phase === "reconnecting") return this.phase;
    return this.othersOnAir ? "partner" : "off";
  }

  /** The main button: "go" on air, "take_over" from the partner, or none while on air. */
  get button() {
    if (this.want) return null;
    return this.othersOnAir ? "take_over" : "go";
  }
}
