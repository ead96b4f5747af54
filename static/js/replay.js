// Replay page: the buttons beside each answered question seek the video to the answer; a
// recording in several parts (the broadcast was interrupted) is chosen with the part buttons.

import { localizeDates } from "./i18n.js";

const video = /** @type {HTMLVideoElement|null} */ (document.getElementById("replay-video"));
const partButtons = [...document.querySelectorAll("[data-part]")];
// Where each part starts, on the first part's clock (the answers' times are on it).
const first = Number(partButtons[0]?.getAttribute("data-started") || 0);

/** @param {Element} button */
function choosePart(button) {
  if (!video) return;
  const url = button.getAttribute("data-part") || "";
  if (video.getAttribute("src") !== url) video.src = url;
  for (const other of partButtons) other.setAttribute("aria-pressed", String(other === button));
}

for (const button of partButtons) button.addEventListener("click", () => choosePart(button));

for (const button of document.querySelectorAll("[data-seek]")) {
  button.addEventListener("click", () => {
    if (!video) return;
    const at = Number(button.getAttribute("data-seek"));
    // The last part that had started by then holds the answer.
    const part = partButtons.filter((b) => Number(b.getAttribute("data-started")) - first <= at).pop();
    const offset = part ? Number(part.getAttribute("data-started")) - first : 0;
    if (part) choosePart(part);
    const seek = () => {
      video.currentTime = Math.max(0, at - offset - 5); // a few seconds before: the question too
      video.play().catch(() => {});
    };
    if (video.readyState >= 1) seek();
    else video.addEventListener("loadedmetadata", seek, { once: true });
    video.focus();
  });
}

localizeDates(document);
