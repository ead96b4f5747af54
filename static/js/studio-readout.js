// Studio page, second part: the readouts (what this page sends, what the server receives) and the
// settings panel for OBS or an encoder (reveal and copy the WHIP URL and token).

import { byId, setText } from "./dom.js";
import { formatTime, pageLang, t } from "./i18n.js";

const numbers = new Intl.NumberFormat(pageLang(), { maximumFractionDigits: 1 });
const NONE = "–";

/** @param {HTMLElement} dl @param {Record<string, string>} values by the `data-stat` of each `<dd>` */
function fillReadout(dl, values) {
  for (const dd of dl.querySelectorAll("[data-stat]")) {
    setText(dd, values[/** @type {HTMLElement} */ (dd).dataset.stat || ""] ?? NONE);
  }
}

/** @param {number|null|undefined} kbps */
const kbpsText = (kbps) => (typeof kbps === "number" ? t("stats.value.kbps", { kbps: numbers.format(Math.round(kbps)) }) : "");

/**
 * What this page sends (from its own sender statistics).
 * @param {HTMLElement} dl
 * @param {HTMLElement} limitation says why the browser lowered the quality, if it did
 * @param {import("./rtcstats.js").Readout|null} r
 */
export function showSent(dl, limitation, r) {
  fillReadout(dl, {
    resolution: r && r.width && r.height ? t("stats.value.resolution", { width: r.width, height: r.height }) : NONE,
    fps: r && r.fps !== null ? numbers.format(r.fps) : NONE,
    kbps: r && r.kbps !== null ? kbpsText(r.kbps) : NONE,
    rtt: r && r.rttMs !== null ? t("stats.value.ms", { ms: numbers.format(r.rttMs) }) : NONE,
    loss: r && r.lossPercent !== null ? t("stats.value.percent", { percent: numbers.format(r.lossPercent) }) : NONE,
  });
  const reason = r && r.limitation;
  limitation.hidden = !reason;
  const known = reason === "bandwidth" || reason === "cpu";
  setText(limitation, reason ? t(known ? `studio.limitation.${reason}` : "studio.limitation.other") : "");
}

/**
 * The server's view of the broadcast (GET /sessions/{id}/broadcast), or null when unknown.
 * @param {string} url @param {string} token
 * @returns {Promise<any>}
 */
export async function fetchBroadcast(url, token) {
  try {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * What the server receives, whoever sends it, and how many watch.
 * @param {HTMLElement} dl @param {any} b
 */
export function showServer(dl, b) {
  const video = b && b.live ? b.video : null;
  const audio = b && b.live ? b.audio : null;
  let state = t("studio.server.unknown");
  if (b && b.live) state = b.since ? t("studio.server.live_since", { time: formatTime(b.since * 1000) }) : t("studio.onair.live");
  else if (b) state = t("studio.server.off");
  fillReadout(dl, {
    state,
    viewers: b && typeof b.viewers === "number" ? numbers.format(b.viewers) : NONE,
    video: video ? [video.codec, kbpsText(video.kbps)].filter(Boolean).join(" · ") || NONE : NONE,
    resolution: video && video.width && video.height ? t("stats.value.resolution", { width: video.width, height: video.height }) : NONE,
    fps: video && typeof video.fps === "number" ? numbers.format(video.fps) : NONE,
    audio: audio ? [audio.codec, kbpsText(audio.kbps)].filter(Boolean).join(" · ") || NONE : NONE,
    recording: recordingText(b && b.recording),
  });
  dl.dataset.live = String(Boolean(b && b.live));
  const recording = /** @type {HTMLElement|null} */ (dl.querySelector('[data-stat="recording"]'));
  if (recording) recording.dataset.kind = b && b.recording && (b.recording.alarm || b.recording.failed) ? "error" : "";
}

const megabytes = new Intl.NumberFormat(pageLang(), { style: "unit", unit: "megabyte", maximumFractionDigits: 1 });

/**
 * The recording's state (live/media/recording.py): null when the server does not record.
 * @param {{alarm: boolean, file: string|null, bytes: number, dropped: number, failed: string|null}|null|undefined} r
 */
export function recordingText(r) {
  if (!r) return NONE;
  if (r.alarm) return t("studio.recording.alarm");
  if (r.failed) return t("studio.recording.failed");
  if (!r.file) return NONE;
  const parts = [t("studio.recording.on", { size: megabytes.format(r.bytes / 1e6) })];
  if (r.dropped > 0) parts.push(t("studio.recording.dropped", { count: r.dropped }));
  return parts.join(" · ");
}

/**
 * The token shows only on request; the copy buttons (`data-copy="{input id}"`) use the clipboard,
 * or select the text for a manual copy where the clipboard is refused.
 * @param {HTMLInputElement} tokenInput @param {HTMLButtonElement} reveal @param {HTMLElement} notice
 */
export function setupEncoderPanel(tokenInput, reveal, notice) {
  reveal.addEventListener("click", () => {
    const show = tokenInput.type === "password";
    tokenInput.type = show ? "text" : "password";
    reveal.setAttribute("aria-pressed", String(show));
    setText(reveal, t(show ? "studio.encoder.hide" : "studio.encoder.reveal"));
  });
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const input = /** @type {HTMLInputElement} */ (byId(/** @type {HTMLElement} */ (button).dataset.copy || ""));
      let done = false;
      try {
        await navigator.clipboard.writeText(input.value);
        done = true;
      } catch {
        done = false;
      }
      if (!done) {
        // Select it for a manual copy (a password field's text cannot be selected).
        if (input.type === "password") reveal.click();
        input.focus();
        input.select();
      }
      notice.dataset.kind = done ? "info" : "error";
      setText(notice, t(done ? "studio.encoder.copied" : "studio.encoder.copy_failed"));
    });
  }
}
