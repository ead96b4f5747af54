// Studio page: sends the session's camera and microphone to the relay (WHIP), and shows what this
// page sends and what the server receives (which also works when OBS or an encoder is the source).

import { byId, pageData, setText } from "./dom.js";
import { localizeDates, t } from "./i18n.js";
import { FRAME_RATE, QUALITIES, cameraError, captureConstraints, fillDeviceSelect } from "./studio-devices.js";
import { setupGuests } from "./studio-guests.js";
import { fetchBroadcast, setupEncoderPanel, showSent, showServer } from "./studio-readout.js";
import {
  WhipError, hangUp, iceServerSource, negotiate, preferredVideoCodecs, retryDelay, senderStats, watchConnection,
} from "./whip.js";

const STATS_EVERY_MS = 1000;
const BROADCAST_EVERY_MS = 2000;
const CONNECT_TIMEOUT_MS = 15000; // answered but still not connected then: start again

/** @typedef {"off"|"connecting"|"live"|"reconnecting"|"error"} OnAir */

const ui = {
  onair: byId("studio-onair"),
  status: byId("studio-status"),
  preview: /** @type {HTMLVideoElement} */ (byId("studio-preview")),
  previewEmpty: byId("studio-preview-empty"),
  camera: /** @type {HTMLSelectElement} */ (byId("studio-camera")),
  microphone: /** @type {HTMLSelectElement} */ (byId("studio-microphone")),
  quality: /** @type {HTMLSelectElement} */ (byId("studio-quality")),
  cameraOn: /** @type {HTMLButtonElement} */ (byId("studio-camera-on")),
  goLive: /** @type {HTMLButtonElement} */ (byId("studio-go-live")),
  stop: /** @type {HTMLButtonElement} */ (byId("studio-stop")),
  sent: byId("studio-sent"),
  limitation: byId("studio-limitation"),
  server: byId("studio-server"),
  whipUrl: /** @type {HTMLInputElement} */ (byId("studio-whip-url")),
  whipToken: /** @type {HTMLInputElement} */ (byId("studio-whip-token")),
  reveal: /** @type {HTMLButtonElement} */ (byId("studio-reveal")),
  copyNotice: byId("studio-copy-notice"),
};

const { session, token } = pageData();
const streamed = document.body.dataset.streamed === "true";
const path = `/sessions/${encodeURIComponent(session)}`;
const whipEndpoint = new URL(`${path}/whip`, location.href).href;
const broadcastEndpoint = new URL(`${path}/broadcast`, location.href).href;

/** @type {MediaStream|null} */
let media = null;
/** @type {RTCPeerConnection|null} */
let pc = null;
let resource = "";
// Fresh TURN credentials for each new connection (the page may stay open longer than they hold).
const iceServers = iceServerSource(new URL(`${path}/ice-servers`, location.href).href, token);
let wantLive = false;
let attempt = 0;
let generation = 0;
/** @type {ReturnType<typeof setTimeout>|null} */
let retryTimer = null;
/** @type {import("./rtcstats.js").Readout|null} */
let sentReadout = null;
/** The server's `since` for our own broadcast: another value later means another source took over. */
let ownSince = /** @type {number|null} */ (null);

localizeDates(document);
ui.whipUrl.value = whipEndpoint;
// Remote guests: while one is on air, what this page sends is the composed programme.
const guests = streamed ? setupGuests({ roomMedia: () => media, roomVideo: ui.preview, onProgramme: sendProgramme }) : null;

/** The tracks to send: the composed programme while guests are on air, else the room's own. */
function programme() {
  return (guests && guests.programme()) || media;
}

/** @param {MediaStream|null} composed */
async function sendProgramme(composed) {
  const source = composed || media;
  if (!pc || !source) return;
  for (const transceiver of pc.getTransceivers()) {
    const track = source.getTracks().find((tr) => tr.kind === transceiver.receiver.track.kind);
    if (track) await transceiver.sender.replaceTrack(track).catch(() => {});
  }
}

// --- status ------------------------------------------------------------------------------------

/** @param {OnAir} state */
function setOnAir(state) {
  ui.onair.dataset.state = state;
  setText(ui.onair, t(`studio.onair.${state}`));
  ui.goLive.disabled = wantLive || !streamed;
  ui.stop.disabled = !wantLive;
}

/** @param {string} text @param {"info"|"error"} [kind] */
function say(text, kind = "info") {
  ui.status.dataset.kind = kind;
  setText(ui.status, text);
}

function quality() {
  return QUALITIES[/** @type {keyof typeof QUALITIES} */ (Number(ui.quality.value))] || QUALITIES[720];
}

// --- camera and microphone ---------------------------------------------------------------------

/** @param {"video"|"audio"} kind */
function constraints(kind) {
  return captureConstraints(kind, (kind === "video" ? ui.camera : ui.microphone).value, quality());
}

/**
 * Opens the camera and microphone (or only `kind`, after a device change) and puts the new tracks
 * in the preview and, when live, in the senders (no renegotiation).
 * @param {"video"|"audio"|null} [only]
 * @returns {Promise<boolean>}
 */
async function openDevices(only = null) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say(t("studio.msg.unsupported"), "error");
    return false;
  }
  const kinds = only ? [only] : /** @type {("video"|"audio")[]} */ (["video", "audio"]);
  // Some systems cannot open the same camera twice: release the old track first.
  for (const kind of kinds) for (const track of media ? media.getTracks().filter((tr) => tr.kind === kind) : []) track.stop();
  let fresh;
  try {
    fresh = await navigator.mediaDevices.getUserMedia({
      video: kinds.includes("video") ? constraints("video") : false,
      audio: kinds.includes("audio") ? constraints("audio") : false,
    });
  } catch (err) {
    if (!only) {
      say(cameraError(err), "error");
      return false;
    }
    // The chosen device failed: fall back to the default one.
    try {
      fresh = await navigator.mediaDevices.getUserMedia({ [only]: true });
    } catch (err2) {
      say(cameraError(err2), "error");
      return false;
    }
  }
  if (!media) media = new MediaStream();
  for (const kind of kinds) for (const track of media.getTracks().filter((tr) => tr.kind === kind)) media.removeTrack(track);
  for (const track of fresh.getTracks()) {
    // Unplugged (our own stop() fires no "ended"): say so and take the device still there.
    track.addEventListener("ended", () => {
      if (!media || !media.getTracks().includes(track)) return;
      say(t("studio.msg.device_lost"), "error");
      openDevices(/** @type {"video"|"audio"} */ (track.kind));
    });
    media.addTrack(track);
    const transceiver = pc && pc.getTransceivers().find((tr) => tr.receiver.track.kind === track.kind);
    // While guests are on air the programme is sent: the composer takes the new track instead.
    if (transceiver && programme() === media) await transceiver.sender.replaceTrack(track).catch(() => {});
  }
  if (guests) guests.roomChanged();
  ui.preview.srcObject = media;
  ui.preview.play().catch(() => {});
  ui.previewEmpty.hidden = true;
  ui.cameraOn.hidden = true;
  await listDevices();
  return true;
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  /** @param {HTMLSelectElement} select @param {"videoinput"|"audioinput"} kind */
  const fill = (select, kind) => {
    const current = media && media.getTracks().find((tr) => tr.kind === (kind === "videoinput" ? "video" : "audio"));
    fillDeviceSelect(select, devices, kind, current ? current.getSettings().deviceId || "" : select.value);
  };
  fill(ui.camera, "videoinput");
  fill(ui.microphone, "audioinput");
}

ui.cameraOn.addEventListener("click", () => openDevices());
ui.camera.addEventListener("change", () => openDevices("video"));
ui.microphone.addEventListener("change", () => openDevices("audio"));
ui.quality.addEventListener("change", async () => {
  const q = quality();
  const track = media && media.getVideoTracks()[0];
  if (track) await track.applyConstraints(constraints("video")).catch(() => {});
  const sender = videoSender();
  if (sender) await capBitrate(sender, q.maxBitrate);
});
if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", () => media && listDevices());

// --- going live --------------------------------------------------------------------------------

function videoSender() {
  const transceiver = pc && pc.getTransceivers().find((tr) => tr.receiver.track.kind === "video");
  return transceiver ? transceiver.sender : null;
}

/** @param {RTCRtpSender} sender @param {number} maxBitrate */
async function capBitrate(sender, maxBitrate) {
  const params = sender.getParameters();
  if (!params.encodings || !params.encodings.length) return;
  for (const encoding of params.encodings) {
    encoding.maxBitrate = maxBitrate;
    encoding.maxFramerate = FRAME_RATE;
  }
  await sender.setParameters(params).catch(() => {});
}

/** @param {RTCRtpTransceiver} transceiver */
function preferCodecs(transceiver) {
  if (typeof transceiver.setCodecPreferences !== "function") return;
  for (const source of [globalThis.RTCRtpSender, globalThis.RTCRtpReceiver]) {
    const caps = source && source.getCapabilities ? source.getCapabilities("video") : null;
    const codecs = caps ? preferredVideoCodecs(caps.codecs) : [];
    if (!codecs.length) continue;
    try {
      transceiver.setCodecPreferences(codecs);
      return;
    } catch {
      /* this browser checks against the other list */
    }
  }
}

async function publish() {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const gen = ++generation;
  if (!media || !media.getVideoTracks().length) {
    if (!(await openDevices()) || gen !== generation) {
      if (gen === generation) endLive("error");
      return;
    }
  }
  const stream = /** @type {MediaStream} */ (programme());
  setOnAir(attempt ? "reconnecting" : "connecting");
  const q = quality();
  const servers = await iceServers();
  if (gen !== generation || !wantLive) return; // stopped, or another attempt started meanwhile
  const conn = new RTCPeerConnection({ iceServers: servers, bundlePolicy: "max-bundle" });
  const video = conn.addTransceiver(stream.getVideoTracks()[0], {
    direction: "sendonly", streams: [stream], sendEncodings: [{ maxBitrate: q.maxBitrate, maxFramerate: FRAME_RATE }],
  });
  preferCodecs(video);
  const mic = stream.getAudioTracks()[0];
  conn.addTransceiver(mic || "audio", { direction: "sendonly", streams: [stream] });
  let result;
  try {
    result = await negotiate(whipEndpoint, token, conn);
  } catch (err) {
    conn.close();
    if (gen === generation) publishFailed(err);
    return;
  }
  if (gen !== generation || !wantLive) {
    hangUp(conn, result.resource, token);
    return;
  }
  pc = conn;
  resource = result.resource;
  ownSince = null;
  sentReadout = null;
  watch(conn);
  await capBitrate(video.sender, q.maxBitrate);
}

/** @param {any} err */
function publishFailed(err) {
  const status = err instanceof WhipError ? err.status : 0;
  if (err instanceof WhipError && err.fatal) {
    let key = "studio.msg.refused";
    if (status === 401 || status === 403) key = "studio.msg.bad_link";
    else if (status === 404) key = "studio.msg.not_streamed";
    endLive("error");
    say(t(key, { status }), "error");
    return;
  }
  retryLater(retryDelay(err, attempt++), status === 503 ? "studio.msg.busy" : "studio.msg.retry");
}

/** @param {number} delay @param {string} key */
function retryLater(delay, key) {
  setOnAir("reconnecting");
  say(t(key, { seconds: Math.max(1, Math.round(delay / 1000)) }), "error");
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (wantLive) publish();
  }, delay);
}

/** @param {RTCPeerConnection} conn */
function watch(conn) {
  watchConnection(conn, {
    onConnected: () => {
      if (conn !== pc) return;
      attempt = 0;
      setOnAir("live");
      say(t("studio.msg.live"));
    },
    onLost: () => conn === pc && lost(),
  });
  setTimeout(() => {
    if (conn === pc && (conn.connectionState === "new" || conn.connectionState === "connecting")) lost();
  }, CONNECT_TIMEOUT_MS);
}

/** The connection died while we want to be live: was it taken over, or do we reconnect? */
async function lost() {
  const since = ownSince;
  // No DELETE: the server takes a DELETE for the end of the broadcast (players say so), and this
  // is a drop (players say "signal lost"); the new connection replaces this one on the server.
  closeConnection(false, false);
  if (!wantLive) return;
  const gen = ++generation;
  const now = await fetchBroadcast(broadcastEndpoint, token);
  if (gen !== generation || !wantLive) return;
  if (now && now.live && since !== null && now.since !== null && now.since !== since) {
    endLive("off");
    say(t("studio.msg.replaced"), "error");
    return;
  }
  retryLater(retryDelay(null, attempt++), "studio.msg.retry");
}

/**
 * @param {boolean} [keepalive]
 * @param {boolean} [ending] false: close without telling the server (not the end of the broadcast)
 */
function closeConnection(keepalive = false, ending = true) {
  if (pc && ending) hangUp(pc, resource, token, { keepalive });
  else if (pc) pc.close();
  pc = null;
  resource = "";
  sentReadout = null;
  showSent(ui.sent, ui.limitation, null);
}

/** @param {OnAir} state */
function endLive(state) {
  wantLive = false;
  generation++;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  closeConnection();
  attempt = 0;
  setOnAir(state);
}

ui.goLive.addEventListener("click", () => {
  if (wantLive) return;
  wantLive = true;
  attempt = 0;
  say("");
  setOnAir("connecting");
  publish();
});

ui.stop.addEventListener("click", () => {
  endLive("off");
  say(t("studio.msg.stopped"));
  ui.goLive.focus();
});

// --- readouts ----------------------------------------------------------------------------------

async function sampleSent() {
  const conn = pc;
  if (conn) {
    try {
      const report = await conn.getStats();
      if (conn === pc) {
        sentReadout = senderStats(report, sentReadout);
        showSent(ui.sent, ui.limitation, sentReadout);
      }
    } catch {
      /* closed meanwhile */
    }
  }
  setTimeout(sampleSent, STATS_EVERY_MS);
}

async function pollBroadcast() {
  const b = await fetchBroadcast(broadcastEndpoint, token);
  showServer(ui.server, b);
  // Remember which broadcast is ours, to notice another source taking over.
  if (b && b.live && pc && pc.connectionState === "connected" && ownSince === null) ownSince = b.since;
  setTimeout(pollBroadcast, BROADCAST_EVERY_MS);
}

// --- page life ---------------------------------------------------------------------------------

window.addEventListener("beforeunload", (ev) => {
  if (wantLive) ev.preventDefault(); // leaving ends the broadcast: the browser asks first
});
window.addEventListener("pagehide", () => {
  // sendBeacon cannot DELETE; a keepalive fetch outlives the page.
  if (pc) closeConnection(true);
  if (wantLive) {
    wantLive = false;
    generation++;
  }
});
window.addEventListener("online", () => {
  if (wantLive && retryTimer) publish();
});

if (typeof RTCPeerConnection === "undefined") {
  say(t("studio.msg.unsupported"), "error");
  ui.goLive.disabled = true;
} else setOnAir("off");
setupEncoderPanel(ui.whipToken, ui.reveal, ui.copyNotice);
pollBroadcast();
setTimeout(sampleSent, STATS_EVERY_MS);
