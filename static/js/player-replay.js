// Participant page: once the studio has ended the broadcast, the player offers the replay as soon
// as its recording is finished (a few seconds after the end) and published.

import { h, setText } from "./dom.js";
import { t } from "./i18n.js";

const ASK_EVERY_MS = 10_000;

/**
 * Shows the replay's link in `el` when there is one; asks until then, or until `stop()`.
 * @param {HTMLElement} el @param {string} session @param {string} token
 * @returns {() => void} stop
 */
export function offerReplay(el, session, token) {
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  const path = `/replay/${encodeURIComponent(session)}`;
  const ask = async () => {
    timer = null;
    try {
      const response = await fetch(`${path}.json?t=${encodeURIComponent(token)}`, { cache: "no-store" });
      const body = response.ok ? await response.json() : null;
      if (stopped) return;
      if (body && body.published && Array.isArray(body.parts) && body.parts.length) {
        const link = h("a", { class: "button", href: `${path}?t=${encodeURIComponent(token)}`, "data-testid": "player-replay-link" });
        setText(link, t("player.replay"));
        el.replaceChildren(link);
        el.hidden = false;
        return;
      }
      if (response.status >= 400 && response.status < 500) return; // this link has no replay
    } catch {
      /* offline for now: ask again */
    }
    if (!stopped) timer = setTimeout(ask, ASK_EVERY_MS);
  };
  ask();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    el.hidden = true;
    el.replaceChildren();
  };
}
