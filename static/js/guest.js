// A remote guest's page: check the camera, microphone and speakers; wait in the green room, seeing
// and hearing the programme; go on air when the studio brings them on, then hear the room's return
// feed instead of the programme (their own voice never comes back); off air, back to the green
// room. Their camera and microphone go to the studio from the green room on, so the studio sees
// them before bringing them on; every connection comes back by itself after a drop.

import { guestStage } from "./compose.js";
import { byId, errorText, pageData, setText, showFatal, showStatus, startLive } from "./dom.js";
import { keepFeed } from "./feeds.js";
import { t } from "./i18n.js";
import { stageQuestion } from "./state.js";
import { cameraError, captureConstraints, fillDeviceSelect } from "./studio-devices.js";
import { playTone } from "./tone.js";
import { iceServerSource } from "./whip.js";

const CAPTURE = { width: 1280, height: 720 };
const LEVEL_EVERY_MS = 100;

const ui = {
  stage: byId("guest-stage"),
  self: /** @type {HTMLVideoElement} */ (byId("guest-self")),
  camera: /** @type {HTMLSelectElement} */ (byId("guest-camera")),
  microphone: /** @type {HTMLSelectElement} */ (byId("guest-microphone")),
  level: /** @type {HTMLMeterElement} */ (byId("guest-level")),
  devices: /** @type {HTMLButtonElement} */ (byId("guest-devices")),
  speaker: /** @type {HTMLButtonElement} */ (byId("guest-speaker")),
  ready: /** @type {HTMLButtonElement} */ (byId("guest-ready")),
  status: byId("guest-status"),
  sending: byId("guest-sending"),
  programme: /** @type {HTMLVideoElement} */ (byId("guest-programme")),
  hearing: byId("guest-hearing"),
  returnAudio: /** @type {HTMLAudioElement} */ (byId("guest-return")),
  question: byId("guest-question"),
  questionText: byId("guest-question-text"),
  conn: byId("conn-status"),
  fatal: byId("fatal"),
};

const { session, token } = pageData();
const guestId = document.body.dataset.guest || "";
const base = `/sessions/${encodeURIComponent(session)}`;
const iceServers = iceServerSource(new URL(`${base}/ice-servers`, location.href).href, token);

/** @type {MediaStream|null} */
let media = null;
/** @type {AudioContext|null} */
let audio = null;
let joined = false;
let returnLive = false;
/** @type {"check"|"waiting"|"on_air"|"off_air"} */
let stage = "check";

const live = startLive({
  render,
  onstatus: (status) => showStatus(ui.conn, status, "guest"),
  onfatal: (code) => showFatal(ui.fatal, code),
});

function context() {
  if (!audio) audio = new AudioContext();
  audio.resume().catch(() => {});
  return audio;
}

/** @param {"video"|"audio"} kind */
function constraints(kind) {
  const select = kind === "video" ? ui.camera : ui.microphone;
  if (kind === "video") return captureConstraints("video", select.value, CAPTURE);
  // A call, not a room: echo cancellation keeps what the speakers play out of the microphone.
  const device = select.value ? { deviceId: { exact: select.value } } : {};
  return { ...device, echoCancellation: true, noiseSuppression: true, autoGainControl: true };
}

async function openDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setText(ui.status, t("studio.msg.unsupported"));
    return;
  }
  for (const track of media ? media.getTracks() : []) track.stop();
  try {
    media = await navigator.mediaDevices.getUserMedia({ video: constraints("video"), audio: constraints("audio") });
  } catch (err) {
    setText(ui.status, cameraError(err));
    return;
  }
  ui.self.srcObject = media;
  ui.self.play().catch(() => {});
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const current = (/** @type {"video"|"audio"} */ kind) => (media && media.getTracks().find((tr) => tr.kind === kind)?.getSettings().deviceId) || "";
  fillDeviceSelect(ui.camera, devices, "videoinput", current("video"));
  fillDeviceSelect(ui.microphone, devices, "audioinput", current("audio"));
  meterLevel();
  ui.ready.disabled = joined;
  ui.devices.hidden = true;
  setText(ui.status, t("guest.msg.devices_ok"));
  if (publisher) publisher.replace(media);
}

let meterTimer = /** @type {any} */ (null);
function meterLevel() {
  const mic = media && media.getAudioTracks()[0];
  if (!mic) return;
  const analyser = context().createAnalyser();
  analyser.fftSize = 512;
  context().createMediaStreamSource(new MediaStream([mic])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  clearInterval(meterTimer);
  meterTimer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    ui.level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
  }, LEVEL_EVERY_MS);
}

/** A short tone: the guest hears their speakers (or headphones) work. */
function testSpeakers() {
  playTone(context(), 440, 1, 0.2);
  setText(ui.status, t("guest.msg.speaker_played"));
}

/** @type {{replace: (m: MediaStream) => void}|null} */
let publisher = null;

function enterGreenRoom() {
  if (joined || !media) return;
  joined = true;
  ui.ready.disabled = true;
  context();
  live.conn.send({ type: "JoinAsGuest" }).catch((err) => setText(ui.status, errorText(err)));
  const feed = keepFeed(`${base}/guests/${encodeURIComponent(guestId)}/whip`, token, {
    iceServers,
    media: () => media,
    onState: (s) => {
      ui.sending.dataset.state = s;
      setText(ui.sending, t(`guests.feed.${s}`));
      if (s === "refused") setText(ui.status, t("guest.msg.refused"));
    },
  });
  publisher = {
    replace(next) {
      for (const track of next.getTracks()) {
        const sender = feed.sender(track.kind);
        if (sender) sender.replaceTrack(track).catch(() => {});
      }
    },
  };
  keepFeed(`${base}/whep`, token, {
    iceServers,
    readout: `${base}/broadcast`,
    pollMs: 2000,
    onStream: (stream) => {
      if (ui.programme.srcObject === stream) return;
      ui.programme.srcObject = stream;
      ui.programme.play().catch(() => {});
    },
  });
  keepFeed(`${base}/return/whep`, token, {
    iceServers,
    readout: `${base}/return/broadcast`,
    kinds: ["audio"],
    onStream: (stream) => {
      if (ui.returnAudio.srcObject === stream) return;
      ui.returnAudio.srcObject = stream;
      ui.returnAudio.play().catch(() => {});
    },
    onState: (s) => {
      returnLive = s === "live";
      hear();
    },
  });
  hear();
}

/** On air: the return feed (the room without the guests), never the programme (their own voice). */
function hear() {
  const onAir = stage === "on_air";
  ui.programme.muted = onAir || !joined;
  ui.returnAudio.muted = !onAir;
  const key = !joined ? "none" : !onAir ? "programme" : returnLive ? "return" : "no_return";
  ui.hearing.dataset.hearing = key;
  setText(ui.hearing, t(`guest.hearing.${key}`));
}

/** @param {import("./state.js").State} state */
function render(state) {
  const mine = (state.guests || []).find((g) => g.id === guestId);
  const next = !joined ? "check" : mine ? guestStage(mine.status) : "waiting";
  if (next !== stage) {
    stage = next;
    hear();
  }
  ui.stage.dataset.stage = stage;
  setText(ui.stage, t(`guest.stage.${stage}`));
  const question = stageQuestion(state);
  ui.question.hidden = !question;
  setText(ui.questionText, question ? question.text : "");
}

ui.devices.addEventListener("click", () => openDevices());
ui.camera.addEventListener("change", () => openDevices());
ui.microphone.addEventListener("change", () => openDevices());
ui.speaker.addEventListener("click", testSpeakers);
ui.ready.addEventListener("click", enterGreenRoom);
hear();
