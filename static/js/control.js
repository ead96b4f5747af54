// The organiser's control room: every room's card, refreshed every 2 s from /control/status, and
// the alerts, shown at the top and, once the organiser turned sound on, heard (a new alert beeps).

import { byId, h, pageData, reconcile, setText } from "./dom.js";
import { t } from "./i18n.js";
import { linksPanel } from "./control-links.js";
import { playTone } from "./tone.js";

const EVERY_MS = 2000;
const ui = {
  rooms: byId("control-rooms"),
  alerts: byId("control-alerts"),
  calm: byId("control-calm"),
  status: byId("control-status"),
  sound: /** @type {HTMLButtonElement} */ (byId("control-sound")),
};
const { token } = pageData();
/** @type {AudioContext|null} */
let audio = null;
/** @type {Set<string>} alerts already shown (room:code): only new ones beep */
let known = new Set();

ui.sound.addEventListener("click", () => {
  if (audio) {
    audio.close().catch(() => {});
    audio = null;
  } else {
    audio = new AudioContext();
    beep();
  }
  ui.sound.setAttribute("aria-pressed", String(Boolean(audio)));
  setText(ui.sound, t(audio ? "control.sound_off" : "control.sound_on"));
});

function beep() {
  if (audio) playTone(audio, 880, 0.4, 0.15);
}

/** @param {any} room @param {string} role */
function connected(room, role) {
  return room.connected && room.connected[role] ? room.connected[role] : 0;
}

/** @param {any} room @returns {HTMLElement} */
function createCard(room) {
  const field = (/** @type {string} */ name) => h("dd", { "data-field": name, "data-testid": `room-${name}` });
  const row = (/** @type {string} */ name, /** @type {string} */ label) => h("div", {}, h("dt", {}, t(label)), field(name));
  const q = encodeURIComponent(token);
  const id = encodeURIComponent(room.id);
  return h("li", { class: "control-room", "data-testid": `room-${room.id}` },
    h("h2", { class: "control-room__title" }, room.title),
    h("p", { class: "hint" }, `${room.date} · ${room.start}–${room.end}${room.room ? ` · ${room.room}` : ""}`),
    h("p", { class: "control-room__air", "data-field": "air", "data-testid": "room-air" }),
    h("dl", { class: "readout" },
      room.streamed ? row("stream", "control.stream") : null,
      room.streamed ? row("viewers", "control.viewers") : null,
      room.streamed ? row("recording", "control.recording") : null,
      row("participants", "control.participants"),
      room.interactive ? row("moderator", "control.moderator") : null,
      room.interactive ? row("stage", "control.stage") : null,
      room.languages.length > 1 ? row("interpreters", "control.interpreters") : null,
      room.interactive ? row("pending", "control.pending") : null,
      room.interactive ? row("poll", "control.poll") : null),
    h("p", { class: "control-room__links" },
      room.interactive ? h("a", { class: "button", href: `/moderate/${id}?t=${q}`, target: "_blank", rel: "noopener" }, t("control.open_moderator")) : null,
      room.interactive ? h("a", { class: "button", href: `/stage/${id}?t=${q}`, target: "_blank", rel: "noopener" }, t("control.open_stage")) : null,
      room.streamed ? h("a", { class: "button", href: `/studio/${id}?t=${q}`, target: "_blank", rel: "noopener" }, t("control.open_studio")) : null),
    linksPanel(room.id, token));
}

/** @param {HTMLElement} card @param {any} room */
function updateCard(card, room) {
  const set = (/** @type {string} */ name, /** @type {string} */ text) => {
    const el = /** @type {HTMLElement|null} */ (card.querySelector(`[data-field="${name}"]`));
    if (el) setText(el, text);
  };
  card.dataset.onAir = String(room.on_air);
  card.dataset.alerts = String(room.alerts.length);
  card.classList.toggle("is-live", room.live_now);
  set("air", room.on_air ? t("control.on_air") : room.ended ? t("control.ended") : room.streamed ? t("control.off_air") : t("control.not_streamed"));
  const video = room.video;
  set("stream", video ? t("control.stream_figures", { width: video.width || "?", height: video.height || "?", fps: Math.round(video.fps || 0), kbps: Math.round(video.kbps || 0), keyframe: room.keyframe_age ?? "–" }) : "–");
  set("viewers", String(room.viewers || 0));
  set("recording", room.recording ? (room.recording.alarm ? t("studio.recording.alarm") : room.recording.file ? t("control.recording_on") : "–") : "–");
  set("participants", String(connected(room, "participant")));
  set("moderator", t(connected(room, "moderator") ? "control.connected" : "control.absent", { count: connected(room, "moderator") }));
  set("stage", t(connected(room, "stage") ? "control.connected" : "control.absent", { count: connected(room, "stage") }));
  set("interpreters", String(connected(room, "interpreter")));
  set("pending", String(room.pending));
  set("poll", room.open_poll || "–");
}

/** @param {any[]} rooms */
function renderAlerts(rooms) {
  const list = rooms.flatMap((room) => room.alerts.map((/** @type {string} */ code) => ({ key: `${room.id}:${code}`, room, code })));
  reconcile(ui.alerts, list, (a) => a.key, (a) => h("li", { class: "control-alert", "data-testid": "control-alert", "data-code": a.code },
    h("strong", {}, a.room.title), " — ", t(`control.alert.${a.code}`)), () => {});
  ui.calm.hidden = list.length > 0;
  const fresh = list.filter((a) => !known.has(a.key));
  known = new Set(list.map((a) => a.key));
  if (fresh.length) beep();
}

async function refresh() {
  try {
    const response = await fetch("/control/status", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (response.status === 401 || response.status === 403) {
      ui.status.dataset.status = "fatal";
      setText(ui.status, t("error.bad_link"));
      return; // a revoked or expired link: asking again will not help
    }
    const body = await response.json();
    reconcile(ui.rooms, body.rooms, (r) => r.id, createCard, updateCard);
    renderAlerts(body.rooms);
    ui.status.dataset.status = "open";
    setText(ui.status, t("control.updated", { time: new Date(body.at * 1000).toLocaleTimeString() }));
  } catch {
    ui.status.dataset.status = "offline";
    setText(ui.status, t("conn.offline"));
  }
  setTimeout(refresh, EVERY_MS);
}

refresh();
