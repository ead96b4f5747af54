// The moderation log: who did what, when, newest first, so that an organiser can answer "why was
// my question not shown?". Rebuilt only when an entry arrives.

import { byId, h, setText } from "./dom.js";
import { formatTime, t } from "./i18n.js";

/** @returns {(state: import("./state.js").State) => void} */
export function setupLog() {
  const list = byId("log-list");
  const count = byId("log-count");
  let shown = -1;
  let last = /** @type {any} */ (null);
  return (state) => {
    const log = state.log || [];
    const newest = log[log.length - 1] || null;
    if (log.length === shown && newest === last) return;
    shown = log.length;
    last = newest;
    setText(count, String(log.length));
    list.replaceChildren(...log.slice().reverse().map((entry) => h("li", { class: "mod-log__entry", dataset: { testid: "log-entry", action: entry.action } },
      h("time", { datetime: new Date(entry.at).toISOString(), text: formatTime(entry.at) }), " ",
      h("span", { class: "mod-log__who", text: t(`log.by.${entry.by}`) }), " ",
      h("span", { class: "mod-log__action", text: actionLabel(entry.action) }),
      ...(entry.detail ? [" ", h("q", { class: "mod-log__detail", text: entry.detail })] : []))));
  };
}

/** The act in words; a command this page does not know yet is named as it is on the wire. */
function actionLabel(/** @type {string} */ action) {
  const key = `log.action.${action}`;
  const label = t(key);
  return label === key ? action : label;
}
