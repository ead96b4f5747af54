// Interpreter's page: the booth console. Publishes the microphone as the language's channel (WHIP,
// one audio track) when asked, never on load; shows whether this page, its booth partner or nobody
// is on air; hands over to the partner and back; a cough button; and what the interpreter hears
// (static/js/interpreter-floor.js). The decisions live in static/js/booth.js (no DOM).

import { byId, pageData, setText } from "./dom.js";
import { localizeDates, t } from "./i18n.js";
import {
  Booth, Hold, LEVEL_FLOOR_DB, inputLevel, isCoughShortcut, meterDb, microphoneConstraints, publisherDigest, speechPeer,
} from "./booth.js";
import { createFloor } from "./interpreter-floor.js";
import "./booth-chat.js"; // the booth chat panel: it runs on its own
import { fillDeviceSelect } from "./studio-devices.js";
import { fetchBroadcast } from "./studio-readout.js";
import { WhipError, hangUp, iceServerSource, negotiate, retryDelay, watchConnection } from "./whip.js";

const AIR_POLL_MS = 1000; // the channel's readout while this page wants the air
const IDLE_POLL_MS = 2000; // otherwise (is the partner on air?)
const CONNECT_TIMEOUT_MS = 15000; // answered but still not connected then: start again
// The meter reads the last ~90 ms (4096 samples) every 50 ms: the windows overlap, so no syllable
// falls between two readings (with a gap, a periodic sound can be missed at every reading).
const LEVEL_EVERY_MS = 50;
const LEVEL_WINDOW = 4096;

const ui = {
  light: byId("interp-light"),
  status: byId("interp-status"),
  air: /** @type {HTMLButtonElement} */ (byId("interp-air")),
  leave: /** @type {HTMLButtonElement} */ (byId("interp-leave")),
  cough: /** @type {HTMLButtonElement} */ (byId("interp-cough")),
  micOn: /** @type {HTMLButtonElement} */ (byId("interp-mic-on")),
  microphone: /** @type {HTMLSelectElement} */ (byId("interp-microphone")),
  level: /** @type {HTMLMeterElement} */ (byId("interp-level")),
  processing: /** @type {HTMLInputElement} */ (byId("interp-processing")),
};

const { session, token } = pageData();
const language = document.body.dataset.language || "";
const streamed = document.body.dataset.streamed === "true";
const channelPath = `/sessions/${encodeURIComponent(`${session}@${language}`)}`;
const whipEndpoint = new URL(`${channelPath}/whip`, location.href).href;
const channelReadout = new URL(`${channelPath}/broadcast`, location.href).href;
const iceServers = iceServerSource(new URL(`/sessions/${encodeURIComponent(session)}/ice-servers`, location.href).href, token);
const names = languageNames();

const booth = new Booth();
/** @type {MediaStream|null} */
let mic = null;
/** @type {RTCPeerConnection|null} */
let pc = null;
let resource = "";
let generation = 0; // bumps on each attempt and each stop: late answers of older ones are dropped
/** @type {ReturnType<typeof setTimeout>|null} */
let retryTimer = null;

localizeDates(document);

// --- what the page shows -----------------------------------------------------------------------

function render() {
  const light = booth.light;
  ui.light.dataset.state = light;
  setText(ui.light, t(`interpreter.light.${light}`));
  const button = booth.button;
  ui.air.hidden = button === null;
  ui.air.disabled = !streamed || typeof RTCPeerConnection === "undefined";
  if (button) setText(ui.air, t(button === "take_over" ? "interpreter.take_over" : "interpreter.go"));
  ui.leave.disabled = !booth.want && pc === null;
}

/** @param {string} text @param {"info"|"error"} [kind] */
function say(text, kind = "info") {
  ui.status.dataset.kind = kind;
  setText(ui.status, text);
}

// --- the microphone ----------------------------------------------------------------------------

/** @param {any} err @returns {string} */
function micError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") return t("interpreter.mic.denied");
  if (name === "NotReadableError" || name === "AbortError") return t("interpreter.mic.busy");
  return t("interpreter.mic.missing");
}

/**
 * Opens the microphone (again, after a change of device or processing) and puts the new track in
 * the sender when on air: no renegotiation, no gap on the channel beyond the switch itself.
 * @returns {Promise<boolean>}
 */
async function openMic() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say(t("interpreter.msg.unsupported"), "error");
    return false;
  }
  for (const track of mic ? mic.getTracks() : []) track.stop(); // some systems open a device once
  const processing = ui.processing.checked;
  let fresh;
  try {
    fresh = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(ui.microphone.value, processing) });
  } catch (err) {
    try {
      fresh = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints("", processing) });
    } catch (err2) {
      say(micError(err2 || err), "error");
      return false;
    }
  }
  const track = fresh.getAudioTracks()[0];
  track.enabled = !cough.held;
  track.addEventListener("ended", () => {
    if (!mic || !mic.getTracks().includes(track)) return; // replaced by us
    say(t("interpreter.mic.lost"), "error");
    openMic();
  });
  mic = fresh;
  const sender = pc && pc.getSenders()[0];
  if (sender) await sender.replaceTrack(track).catch(() => {});
  meter.attach(fresh);
  ui.micOn.hidden = true;
  await listDevices();
  return true;
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const current = mic && mic.getAudioTracks()[0];
  fillDeviceSelect(ui.microphone, devices, "audioinput", current ? current.getSettings().deviceId || "" : ui.microphone.value);
}

/** The input level, from the track itself: a muted (cough) or dead microphone shows empty. */
const meter = (() => {
  /** @type {AudioContext|null} */
  let context = null;
  /** @type {MediaStreamAudioSourceNode|null} */
  let source = null;
  /** @type {AnalyserNode|null} */
  let analyser = null;
  /** @type {Float32Array|null} */
  let samples = null;
  let shown = LEVEL_FLOOR_DB;
  let shownAt = 0;
  return {
    /** @param {MediaStream} stream */
    attach(stream) {
      if (typeof AudioContext === "undefined") return;
      if (!context) {
        context = new AudioContext();
        analyser = context.createAnalyser();
        analyser.fftSize = LEVEL_WINDOW;
        samples = new Float32Array(analyser.fftSize);
        setInterval(() => this.sample(), LEVEL_EVERY_MS);
      }
      if (source) source.disconnect();
      source = context.createMediaStreamSource(stream);
      source.connect(/** @type {AnalyserNode} */ (analyser));
      context.resume().catch(() => {});
    },
    sample() {
      if (!analyser || !samples) return;
      analyser.getFloatTimeDomainData(samples);
      const now = performance.now();
      shown = meterDb(shown, inputLevel(samples).db, now - shownAt);
      shownAt = now;
      ui.level.value = (shown - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB;
      ui.level.dataset.db = String(Math.round(shown));
      ui.level.setAttribute("aria-valuetext", t("interpreter.mic.level_value", { db: Math.round(shown) }));
    },
  };
})();

ui.micOn.addEventListener("click", () => openMic());
ui.microphone.addEventListener("change", () => openMic());
ui.processing.addEventListener("change", () => {
  if (mic) openMic();
});
if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", () => mic && listDevices());

// --- the cough button --------------------------------------------------------------------------

const cough = new Hold((held) => {
  for (const track of mic ? mic.getAudioTracks() : []) track.enabled = !held; // at once, no round trip
  ui.cough.setAttribute("aria-pressed", String(held));
});

ui.cough.addEventListener("pointerdown", (ev) => {
  ui.cough.setPointerCapture(ev.pointerId);
  cough.press("pointer");
});
for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  ui.cough.addEventListener(type, () => cough.release("pointer"));
}
ui.cough.addEventListener("contextmenu", (ev) => ev.preventDefault()); // a long touch is a cough
ui.cough.addEventListener("keydown", (ev) => {
  if (ev.key !== " " && ev.key !== "Enter") return;
  ev.preventDefault();
  if (!ev.repeat) cough.press("button-key");
});
ui.cough.addEventListener("keyup", (ev) => {
  if (ev.key !== " " && ev.key !== "Enter") return;
  ev.preventDefault();
  cough.release("button-key");
});
/** @param {EventTarget|null} target */
const inField = (target) => target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
document.addEventListener("keydown", (ev) => {
  if (!isCoughShortcut(ev, inField(ev.target))) return;
  ev.preventDefault();
  if (!ev.repeat) cough.press("shortcut");
});
document.addEventListener("keyup", (ev) => {
  if (ev.key.toLowerCase() === "c") cough.release("shortcut");
});
window.addEventListener("blur", () => cough.releaseAll());

// --- going on air ------------------------------------------------------------------------------

async function publish() {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const gen = ++generation;
  if (!mic && !(await openMic())) {
    if (gen === generation && booth.failed(true)) render();
    return;
  }
  const servers = await iceServers();
  if (gen !== generation || !booth.want) return;
  const stream = /** @type {MediaStream} */ (mic);
  const conn = new RTCPeerConnection({ iceServers: servers, bundlePolicy: "max-bundle" });
  conn.addTransceiver(stream.getAudioTracks()[0], { direction: "sendonly", streams: [stream] });
  let result;
  try {
    result = await negotiate(whipEndpoint, token, speechPeer(conn));
  } catch (err) {
    conn.close();
    if (gen === generation) publishFailed(err);
    return;
  }
  if (gen !== generation || !booth.want) {
    hangUp(conn, result.resource, token);
    return;
  }
  pc = conn;
  resource = result.resource;
  booth.published(await publisherDigest(resource));
  watchConnection(conn, {
    onConnected: () => {
      if (conn !== pc) return;
      booth.connected();
      pollSoon();
    },
    onLost: () => conn === pc && lost(),
  });
  setTimeout(() => {
    if (conn === pc && (conn.connectionState === "new" || conn.connectionState === "connecting")) lost();
  }, CONNECT_TIMEOUT_MS);
  render();
}

/** @param {any} err */
function publishFailed(err) {
  const fatal = err instanceof WhipError && err.fatal;
  const status = err instanceof WhipError ? err.status : 0;
  if (booth.failed(fatal) === "stop") {
    let key = "interpreter.msg.refused";
    if (status === 401 || status === 403) key = "interpreter.msg.bad_link";
    else if (status === 404) key = "interpreter.msg.not_streamed";
    say(t(key, { status }), "error");
    render();
    return;
  }
  retryLater(retryDelay(err, booth.attempt++), status === 503 ? "interpreter.msg.busy" : "interpreter.msg.retry");
}

/** @param {number} delay @param {string} key */
function retryLater(delay, key) {
  render();
  say(t(key, { seconds: Math.max(1, Math.round(delay / 1000)) }), "error");
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (booth.want) publish();
  }, delay);
}

/** The connection died: the partner took over (stay off), or the network (back on air). */
async function lost() {
  const conn = pc;
  const gone = resource;
  pc = null;
  resource = "";
  const gen = ++generation;
  // Asked before the hang-up, whose DELETE would take this page's voice off the readout.
  const readout = await fetchBroadcast(channelReadout, token);
  if (conn) hangUp(conn, gone, token);
  if (gen !== generation) return;
  const next = booth.lost(readout);
  if (next === "stop") takenOver();
  else if (next === "retry") retryLater(retryDelay(null, booth.attempt++), "interpreter.msg.retry");
}

function takenOver() {
  generation++;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  // The relay ended this connection when the partner's came up: no DELETE (it would be a 404).
  if (pc) pc.close();
  pc = null;
  resource = "";
  say(t("interpreter.msg.taken_over"), "error");
  render();
}

ui.air.addEventListener("click", () => {
  if (!booth.goOnAir()) return;
  say("");
  render();
  publish();
});

ui.leave.addEventListener("click", () => {
  booth.leave();
  generation++;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  if (pc) hangUp(pc, resource, token);
  pc = null;
  resource = "";
  say(t("interpreter.msg.left"));
  render();
  ui.air.focus();
});

// --- the channel's readout ---------------------------------------------------------------------

/** @type {ReturnType<typeof setTimeout>|null} */
let pollTimer = null;
let polling = false;

async function poll() {
  pollTimer = null;
  if (polling) return;
  polling = true;
  const gen = generation;
  const readout = await fetchBroadcast(channelReadout, token);
  polling = false;
  const wasOnAir = booth.phase === "on_air";
  if (gen === generation && booth.readout(readout) === "stop") takenOver();
  else {
    if (!wasOnAir && booth.phase === "on_air") say(t("interpreter.msg.on_air", { language: names[language] || language }));
    render();
  }
  if (!pollTimer) pollTimer = setTimeout(poll, booth.want ? AIR_POLL_MS : IDLE_POLL_MS);
}

function pollSoon() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, 0);
}

// --- page life ---------------------------------------------------------------------------------

/** Each language's name in the page's language (written by the server: live/web/pages.py).
 * @returns {Record<string, string>} */
function languageNames() {
  try {
    const parsed = JSON.parse(byId("interp-language-names").textContent || "{}");
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

const floor = createFloor({ session, token, names });

window.addEventListener("beforeunload", (ev) => {
  if (booth.want) ev.preventDefault(); // leaving takes the booth off air: the browser asks first
});
window.addEventListener("pagehide", () => {
  if (pc) hangUp(pc, resource, token, { keepalive: true });
  pc = null;
  booth.leave();
  generation++;
  floor.stop();
});
window.addEventListener("online", () => {
  if (booth.want && retryTimer) publish();
});
document.addEventListener("pointerdown", () => floor.gesture(), { capture: true });

if (typeof RTCPeerConnection === "undefined") say(t("interpreter.msg.unsupported"), "error");
render();
poll();
floor.start();
