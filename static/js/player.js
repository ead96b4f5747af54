// Participant page: the session's live video (WHEP), in #player when the session is streamed.
// Starts muted (browsers allow muted autoplay) with a "turn sound on" button; waits by itself for
// the broadcast to start; says when the signal stops, or when the studio ended the broadcast;
// reconnects without reloading the page, at once when the page's WebSocket says the studio is on air.

import { byId, pageData, setText } from "./dom.js";
import { pageLang, t } from "./i18n.js";
import { createListening } from "./player-listen.js";
import { offerReplay } from "./player-replay.js";
import { WhipError, hangUp, iceServerSource, negotiate, receiverStats, retryDelay, watchConnection } from "./whip.js";

const STATS_EVERY_MS = 1000;
const STALL_MS = 3000; // no new frame for that long: "signal lost"
const AIR_POLL_MS = 3000; // while nothing is on air, ask whether it is (plus up to as much jitter)
const RESUME_GRACE_MS = 5000; // on air again but still no frame after that long: reconnect
const PROBE_AFTER_MS = 15000; // stalled that long, without the readout: ask for a new connection

/**
 * @typedef {"connecting"|"waiting"|"live"|"stalled"|"ended"|"reconnecting"|"busy"|"unavailable"|"unsupported"} PlayerState
 */

const ui = {
  player: byId("player"),
  video: /** @type {HTMLVideoElement} */ (byId("player-video")),
  live: byId("player-live"),
  status: byId("player-status"),
  unmute: /** @type {HTMLButtonElement} */ (byId("player-unmute")),
  quality: /** @type {HTMLButtonElement} */ (byId("player-quality")),
  fullscreen: /** @type {HTMLButtonElement} */ (byId("player-fullscreen")),
  stats: byId("player-stats"),
  replay: byId("player-replay"),
};

const { session, token } = pageData();
const endpoint = new URL(`/sessions/${encodeURIComponent(session)}/whep`, location.href).href;
const broadcastUrl = new URL(`/sessions/${encodeURIComponent(session)}/broadcast`, location.href).href;
const numbers = new Intl.NumberFormat(pageLang(), { maximumFractionDigits: 1 });
// The language heard, the original under it, audio only (static/js/player-listen.js).
const listening = createListening({
  session,
  token,
  languages: (document.body.dataset.languages || "").split(" ").filter(Boolean),
  onReconnect: () => {
    if (pc) connect(true); // the new connection replaces the current one once granted
  },
});

/** @type {RTCPeerConnection|null} */
let pc = null;
let resource = "";
// Fresh TURN credentials for each new connection (the page may stay open longer than they hold).
const iceServers = iceServerSource(new URL(`/sessions/${encodeURIComponent(session)}/ice-servers`, location.href).href, token);
let attempt = 0;
let generation = 0; // bumps on every connection attempt: late answers of older ones are dropped
/** @type {ReturnType<typeof setTimeout>|null} */
let retryTimer = null;
/** @type {PlayerState} */
let state = "connecting";
let lastFrames = 0;
let lastProgress = 0;
let probing = false;
let nextProbe = 0;
/** When the readout first said "on air" while the picture was stalled (null: not yet). */
let airSeenAt = /** @type {number|null} */ (null);
let checkingAir = false;
/** Whether GET …/broadcast answers this page's token; if not, WHEP's 409s tell instead. */
let readoutWorks = true;
/** @type {import("./rtcstats.js").Readout|null} */
let readout = null;
let soundOn = false;
let hasPlayed = false; // once it has: a pause in the broadcast is "signal lost", not "not started"
/** @type {null | (() => void)} stops offering the replay */
let stopReplay = null;
let studioEnded = false; // the studio stopped on purpose (WebSocket news or readout): "ended", not "signal lost"

ui.video.muted = true;

/** @param {PlayerState} next */
function setState(next) {
  if (next === state && ui.status.dataset.state === next) return;
  state = next;
  if (next === "live") hasPlayed = true;
  ui.player.dataset.state = next;
  ui.status.dataset.state = next;
  setText(ui.status, t(`player.state.${next}`));
  if (next === "ended" && !stopReplay) stopReplay = offerReplay(ui.replay, session, token);
  else if (next !== "ended" && stopReplay) {
    stopReplay(); // on air again: the replay comes after
    stopReplay = null;
  }
  ui.live.hidden = next !== "live";
  updateUnmute();
}

function updateUnmute() {
  const playing = state === "live" || state === "stalled";
  ui.unmute.hidden = soundOn || !playing;
  ui.fullscreen.hidden = !playing || !canFullscreen();
}

// --- connection --------------------------------------------------------------------------------

/**
 * @param {number} delay ms
 * @param {() => void} [then] what to do after it (connect by default)
 */
function retryIn(delay, then = () => connect()) {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    then();
  }, delay);
}

/**
 * Whether the broadcast is on air, from the readout every token may read: asking WHEP before the
 * studio starts would fill the console with 409s. `null` when the readout cannot tell.
 * @returns {Promise<boolean|null>}
 */
async function onAir() {
  if (!readoutWorks) return null;
  try {
    const response = await fetch(broadcastUrl, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!response.ok) {
      if (response.status !== 503) readoutWorks = false;
      return null;
    }
    const body = await response.json();
    studioEnded = Boolean(body && !body.live && body.ended);
    return Boolean(body && body.live);
  } catch {
    return null; // offline: connecting will fail and back off
  }
}

/** Waits, by the readout, for the broadcast to start; then connects. */
async function waitForAir() {
  const gen = generation;
  const live = await onAir();
  if (gen !== generation) return; // the page was hidden, or another attempt started meanwhile
  if (live === false) {
    setState(offAirState());
    retryIn(AIR_POLL_MS + Math.random() * AIR_POLL_MS, waitForAir);
  } else connect();
}

/**
 * Opens a viewer connection. With `probe`, the current one (stalled) stays until a new one is
 * granted: if nothing is on air, nothing changes.
 * @param {boolean} [probe]
 */
async function connect(probe = false) {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const gen = ++generation;
  if (!probe && !pc) setState(state === "waiting" || state === "busy" ? state : "connecting");
  const servers = await iceServers();
  if (gen !== generation) return; // another attempt started meanwhile
  const next = new RTCPeerConnection({ iceServers: servers });
  listening.addTransceivers(next);
  const stream = new MediaStream();
  next.addEventListener("track", (ev) => listening.takeTrack(ev) || stream.addTrack(ev.track));
  let result;
  try {
    result = await negotiate(listening.url(endpoint), token, next);
  } catch (err) {
    next.close();
    if (gen !== generation) return;
    probing = false;
    failed(err, probe);
    return;
  }
  if (gen !== generation) {
    hangUp(next, result.resource, token);
    return;
  }
  probing = false;
  if (retryTimer) clearTimeout(retryTimer); // the old connection died meanwhile: this replaces it
  retryTimer = null;
  const old = pc;
  const oldResource = resource;
  pc = next;
  resource = result.resource;
  listening.attach(resource);
  attempt = 0;
  if (old) {
    hangUp(old, oldResource, token);
  }
  watchConnection(next, { onLost: () => next === pc && lost() });
  lastFrames = 0;
  readout = null;
  lastProgress = performance.now();
  ui.video.srcObject = stream;
  play();
  if (state !== "live" && state !== "stalled") setState("connecting");
}

/**
 * @param {any} err
 * @param {boolean} probe
 */
function failed(err, probe) {
  const status = err instanceof WhipError ? err.status : 0;
  if (err instanceof WhipError && err.fatal) {
    teardown();
    setState("unavailable");
    return;
  }
  if (probe && pc) {
    // Still nothing on air (409) or the server is busy: keep waiting on the current connection.
    nextProbe = performance.now() + Math.max(PROBE_AFTER_MS, retryDelay(err, attempt++));
    return;
  }
  teardown();
  if (status === 409) setState(offAirState());
  else if (status === 503 || status === 429) setState("busy"); // this server, or this address or link, is full
  else setState("reconnecting");
  retryIn(retryDelay(err, attempt++), status === 409 ? waitForAir : undefined);
}

/** What to say while nothing is on air. @returns {PlayerState} */
function offAirState() {
  if (studioEnded) return "ended";
  return hasPlayed ? "stalled" : "waiting";
}

/**
 * News from the page's WebSocket (static/js/dom.js): the studio went on air, or ended the
 * broadcast. On air: connect now, not on the next poll or backoff. Ended: drop the connection and
 * its frozen frame, and say so; the readout poll goes on at its slow pace, in case the socket is down
 * when the studio comes back.
 * @param {{live: boolean, ended?: boolean}} news
 */
function heard(news) {
  if (news.live) {
    studioEnded = false;
    if (pc && state !== "ended") return; // a stalled player resumes on its connection (the relay restarts it)
    attempt = 0;
    connect();
    return;
  }
  if (!news.ended) return;
  studioEnded = true;
  generation++; // answers of attempts in flight are dropped
  teardown();
  ui.video.srcObject = null;
  setState("ended");
  retryIn(AIR_POLL_MS + Math.random() * AIR_POLL_MS, waitForAir);
}

/** The connection is gone (failed, closed by the server): a new one, after a backoff. */
function lost() {
  teardown();
  setState("reconnecting");
  retryIn(retryDelay(null, attempt++), waitForAir);
}

function teardown() {
  if (pc) {
    hangUp(pc, resource, token);
  }
  pc = null;
  resource = "";
  readout = null;
}

function play() {
  ui.video.play().catch(() => {
    // Autoplay refused even muted (power saving): the button starts it.
    ui.unmute.hidden = false;
  });
}

// --- frames and statistics ---------------------------------------------------------------------

async function sample() {
  const conn = pc;
  if (conn) {
    try {
      const report = await conn.getStats();
      if (conn === pc) progress(receiverStats(report, readout));
    } catch {
      /* closed meanwhile */
    }
  }
  setTimeout(sample, STATS_EVERY_MS);
}

/** @param {import("./rtcstats.js").Readout} r */
function progress(r) {
  readout = r;
  const now = performance.now();
  if (r.frames > lastFrames) {
    lastFrames = r.frames;
    lastProgress = now;
    airSeenAt = null;
    setState("live");
  } else if (now - lastProgress > STALL_MS && (state === "live" || state === "connecting")) {
    setState("stalled");
    nextProbe = now + PROBE_AFTER_MS;
  } else if (state === "stalled" && !probing) checkStalled(now);
  showStats(r);
}

/**
 * The picture stopped. The studio off air: keep waiting on this connection (the server resumes
 * it). On air again, yet no frame a few seconds later (it came back with another codec, or the
 * server forgot us): a new connection, the current one kept until it is granted.
 * @param {number} now
 */
async function checkStalled(now) {
  if (readoutWorks) {
    if (checkingAir) return;
    checkingAir = true;
    const live = await onAir();
    checkingAir = false;
    if (live === false || state !== "stalled") {
      airSeenAt = null;
      if (live === false && studioEnded && state === "stalled") heard({ live: false, ended: true }); // the socket missed it
      return;
    }
    if (live === true) {
      if (airSeenAt === null) airSeenAt = now;
      if (now - airSeenAt < RESUME_GRACE_MS) return;
    } else if (now < nextProbe) return;
  } else if (now < nextProbe) return;
  airSeenAt = null;
  probing = true;
  connect(true);
}

const NONE = "–";

/** @param {import("./rtcstats.js").Readout|null} r */
function showStats(r) {
  /** @type {Record<string, string>} */
  const values = {
    latency: r && r.latencyMs !== null ? t("stats.value.ms", { ms: numbers.format(r.latencyMs) }) : NONE,
    resolution: r && r.width && r.height ? t("stats.value.resolution", { width: r.width, height: r.height }) : NONE,
    fps: r && r.fps !== null ? numbers.format(r.fps) : NONE,
    kbps: r && r.kbps !== null ? t("stats.value.kbps", { kbps: numbers.format(r.kbps) }) : NONE,
    loss: r && r.lossPercent !== null ? t("stats.value.percent", { percent: numbers.format(r.lossPercent) }) : NONE,
  };
  for (const dd of ui.stats.querySelectorAll("[data-stat]")) {
    setText(dd, values[/** @type {HTMLElement} */ (dd).dataset.stat || ""] || NONE);
  }
}

// --- controls ----------------------------------------------------------------------------------

ui.unmute.addEventListener("click", () => {
  soundOn = true;
  ui.video.muted = false;
  listening.unmute();
  ui.video.play().catch(() => {});
  updateUnmute();
  ui.video.focus({ preventScroll: true });
});

ui.quality.addEventListener("click", () => {
  const open = ui.stats.hidden;
  ui.stats.hidden = !open;
  ui.quality.setAttribute("aria-expanded", String(open));
});

function canFullscreen() {
  const video = /** @type {any} */ (ui.video);
  return Boolean(document.fullscreenEnabled || video.webkitEnterFullscreen);
}

ui.fullscreen.addEventListener("click", () => {
  const video = /** @type {any} */ (ui.video);
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else if (document.fullscreenEnabled) ui.video.requestFullscreen().catch(() => {});
  else if (video.webkitEnterFullscreen) video.webkitEnterFullscreen(); // iPhone
});
ui.video.tabIndex = -1;

// --- page life ---------------------------------------------------------------------------------

document.addEventListener("tribune:broadcast", (ev) => heard(/** @type {CustomEvent} */ (ev).detail));
window.addEventListener("online", () => {
  if (!retryTimer) return;
  clearTimeout(retryTimer);
  retryTimer = null;
  waitForAir();
});
window.addEventListener("pagehide", () => {
  generation++;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  if (pc) {
    hangUp(pc, resource, token, { keepalive: true });
  }
  pc = null;
  resource = "";
});
window.addEventListener("pageshow", (ev) => {
  if (ev.persisted) waitForAir(); // back from the back/forward cache
});

if (typeof RTCPeerConnection === "undefined") setState("unsupported");
else {
  ui.player.dataset.state = state;
  waitForAir();
  setTimeout(sample, STATS_EVERY_MS);
}
