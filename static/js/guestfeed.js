// Clean feed page: one guest's camera and voice, full screen, nothing else: an OBS browser source
// or the room's projector. Sound is on; a browser that will not play sound before a click plays
// the picture muted and takes the first click for the sound.

import { byId, pageData, setText } from "./dom.js";
import { keepFeed } from "./feeds.js";
import { t } from "./i18n.js";
import { iceServerSource } from "./whip.js";

const video = /** @type {HTMLVideoElement} */ (byId("clean-video"));
const state = byId("clean-state");
const { session, token } = pageData();
const guestId = document.body.dataset.guest || "";
const base = `/sessions/${encodeURIComponent(session)}`;

/** @param {string} key */
function show(key) {
  state.dataset.state = key;
  setText(state, key === "live" ? "" : t(`guest.clean.${key}`));
}

keepFeed(`${base}/guests/${encodeURIComponent(guestId)}/whep`, token, {
  iceServers: iceServerSource(new URL(`${base}/ice-servers`, location.href).href, token),
  readout: `${base}/guests/${encodeURIComponent(guestId)}/broadcast`,
  onStream: (stream) => {
    if (video.srcObject === stream) return; // its second track: already playing
    video.srcObject = stream;
    video.play().catch((err) => {
      if (err && err.name !== "NotAllowedError") return; // interrupted, not refused
      video.muted = true;
      video.play().catch(() => {});
      show("click_for_sound");
    });
  },
  onState: (s) => show(s === "live" || s === "refused" || s === "waiting" ? s : "connecting"),
});

document.addEventListener("click", () => {
  video.muted = false;
  video.play().catch(() => {});
  if (state.dataset.state === "click_for_sound") show("live");
});
