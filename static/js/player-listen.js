// The player's listening controls: the language (original or an interpretation), the original's
// level under it, and audio only. The choice lives in static/js/listening.js; this module shows it,
// tells the server, and plays the floor-under track in its own <audio> element at the chosen level
// (the browser mixes the two; the server never decodes or mixes audio).

import { byId, setText, storage } from "./dom.js";
import { pageLang, t } from "./i18n.js";
import { hearing, loadChoice, saveChoice, sendChoice, whepUrl } from "./listening.js";

const CHANNELS_POLL_MS = 5000; // which booths are on air (plus up to as much jitter)

/**
 * @param {{session: string, token: string, languages: string[], onReconnect: () => void}} options
 *   languages: the session's, floor first; onReconnect: open a new connection (audio only changed)
 */
export function createListening({ session, token, languages, onReconnect }) {
  const interpretations = languages.slice(1);
  const ui = {
    language: /** @type {HTMLSelectElement|null} */ (document.getElementById("player-language")),
    floor: /** @type {HTMLInputElement|null} */ (document.getElementById("player-floor")),
    floorField: document.getElementById("player-floor-field"),
    note: document.getElementById("player-language-note"),
    audioOnly: /** @type {HTMLButtonElement} */ (byId("player-audio-only")),
    floorAudio: /** @type {HTMLAudioElement} */ (byId("player-floor-audio")),
    video: /** @type {HTMLVideoElement} */ (byId("player-video")),
    player: byId("player"),
  };
  const broadcastUrl = new URL(`/sessions/${encodeURIComponent(session)}/broadcast`, location.href).href;
  const choice = loadChoice(storage, interpretations);
  /** @type {Record<string, boolean>|null} */
  let channels = null;
  let resource = "";
  /** @type {RTCRtpTransceiver|null} */
  let underTransceiver = null;
  const names = languageNames();

  function render() {
    const now = hearing(choice, channels);
    if (ui.language) {
      ui.language.value = choice.language || "";
      for (const option of ui.language.options) {
        const code = option.value;
        if (!code) {
          setText(option, t("player.language.original", { language: capitalised(names(languages[0])) }));
          continue;
        }
        const onAir = channels !== null && channels[code] === true;
        setText(option, t(onAir ? "player.language.on_air" : "player.language.off_air", { language: capitalised(names(code)) }));
      }
    }
    if (ui.floor && ui.floorField) {
      ui.floor.value = String(Math.round(choice.floor * 100));
      ui.floor.setAttribute("aria-valuetext", t("player.floor.value", { percent: Math.round(choice.floor * 100) }));
      ui.floorField.hidden = choice.language === null;
    }
    if (ui.note) {
      ui.note.hidden = !now.fallback;
      setText(ui.note, now.fallback ? t("player.language.fallback", { language: names(choice.language || "") }) : "");
    }
    ui.floorAudio.volume = now.floorUnder;
    ui.audioOnly.setAttribute("aria-pressed", String(choice.audioOnly));
    ui.player.dataset.audioOnly = String(choice.audioOnly);
    ui.player.dataset.hearing = now.interpreted ? "interpretation" : "original";
  }

  /** A new choice: remembered, sent on the current connection, shown. */
  function changed() {
    saveChoice(storage, choice);
    if (resource) sendChoice(resource, token, choice);
    render();
  }

  async function pollChannels() {
    try {
      const response = await fetch(broadcastUrl, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (response.ok) {
        const body = await response.json();
        if (body && typeof body.channels === "object" && body.channels !== null) {
          channels = body.channels;
          render();
        }
      }
    } catch {
      /* offline: the player says so */
    }
    setTimeout(pollChannels, CHANNELS_POLL_MS + Math.random() * CHANNELS_POLL_MS);
  }

  ui.language?.addEventListener("change", () => {
    choice.language = ui.language?.value || null;
    changed();
  });
  let wasZero = choice.floor === 0;
  ui.floor?.addEventListener("input", () => {
    choice.floor = Number(ui.floor?.value || 0) / 100;
    ui.floorAudio.volume = hearing(choice, channels).floorUnder;
    saveChoice(storage, choice);
    render();
    // The server is told only when the floor track starts or stops being needed.
    if ((choice.floor === 0) !== wasZero && resource) sendChoice(resource, token, choice);
    wasZero = choice.floor === 0;
  });
  ui.audioOnly.addEventListener("click", () => {
    choice.audioOnly = !choice.audioOnly;
    saveChoice(storage, choice);
    render();
    onReconnect(); // no video transceiver at all: no video byte is received
  });

  render();
  if (interpretations.length) setTimeout(pollChannels, 0);

  return {
    /** The WHEP URL for a new connection, carrying the current choice. @param {string} endpoint */
    url: (endpoint) => whepUrl(endpoint, choice),
    /** @param {RTCPeerConnection} pc */
    addTransceivers(pc) {
      if (!choice.audioOnly) pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
      underTransceiver = interpretations.length ? pc.addTransceiver("audio", { direction: "recvonly" }) : null;
    },
    /**
     * Routes a received track: the floor-under one to its own element. @param {RTCTrackEvent} ev
     * @returns {boolean} whether it was taken here
     */
    takeTrack(ev) {
      if (underTransceiver === null || ev.transceiver !== underTransceiver) return false;
      ui.floorAudio.srcObject = new MediaStream([ev.track]);
      ui.floorAudio.play().catch(() => {});
      return true;
    },
    /** @param {string} url the WHEP session's resource */
    attach(url) {
      resource = url;
    },
    /** Sound on: the floor-under element too. */
    unmute() {
      ui.floorAudio.muted = false;
      ui.floorAudio.play().catch(() => {});
    },
    get audioOnly() {
      return choice.audioOnly;
    },
  };
}

/** @param {string} text @returns {string} */
function capitalised(text) {
  return text.charAt(0).toLocaleUpperCase(pageLang()) + text.slice(1);
}

/** Language names in the page's language ("anglais", "English"), the code if unknown. */
function languageNames() {
  /** @type {Intl.DisplayNames|null} */
  let display = null;
  try {
    display = new Intl.DisplayNames([pageLang()], { type: "language" });
  } catch {
    display = null;
  }
  /** @param {string} code */
  return (code) => {
    return (display && display.of(code)) || code;
  };
}
