// Small DOM helpers shared by the page controllers, and the glue that ties a page to its live
// session (Connection + state + render scheduling). User text only ever goes through textContent.

import { Connection } from "./protocol.js";
import { applyEvent, applyPresence, applySnapshot, applyTally } from "./state.js";
import { t } from "./i18n.js";

/**
 * Creates an element. `props`: `class`, `text` (textContent), `dataset`, `on{event}` listeners,
 * booleans (set as properties when the element has them, e.g. `disabled`), other values as attributes.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (typeof value === "boolean") {
      if (name in el) /** @type {any} */ (el)[name] = value;
      else if (value) el.setAttribute(name, "");
    } else el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * @param {string} id
 * @returns {HTMLElement} the element, or throws: a missing element is a template bug
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * Sets textContent only when it changed (keeps screen readers and selection quiet).
 * @param {Element} el @param {string} text
 */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Keyed list update: reuses the element of each item (so focus, open editors and transitions
 * survive re-renders), creates missing ones, removes stale ones and fixes the order.
 * @template T
 * @param {Element} container holds only keyed children
 * @param {T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => HTMLElement} create
 * @param {(el: HTMLElement, item: T) => void} update
 */
export function reconcile(container, items, keyOf, create, update) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of [...container.children]) {
    const el = /** @type {HTMLElement} */ (child);
    if (el.dataset.key !== undefined) existing.set(el.dataset.key, el);
    else el.remove();
  }
  items.forEach((item, index) => {
    const key = keyOf(item);
    let el = existing.get(key);
    if (el) existing.delete(key);
    else {
      el = create(item);
      el.dataset.key = key;
    }
    update(el, item);
    const at = container.children[index];
    if (at !== el) container.insertBefore(el, at || null);
  });
  for (const el of existing.values()) el.remove();
}

/** @param {Element|null} el @returns {boolean} whether `el` is in the page and rendered */
export function isShown(el) {
  return Boolean(el && el.isConnected && el.getClientRects().length > 0);
}

/**
 * Keeps keyboard focus in a keyed list (see {@link reconcile}) across a render that rebuilds the
 * focused control or removes its item. Call it before the render and the returned function after:
 * focus goes back to the same item's control of the same role, or, the item gone, to the item now
 * at its place (the next one; the last one when it was last), else to `fallback`.
 * @param {Element} list
 * @param {(control: HTMLElement) => string} roleOf names the focused control within its item
 * @param {(item: HTMLElement, role: string) => (HTMLElement|null)} find the control to focus in an item
 * @param {() => (HTMLElement|null)} [fallback] when the list is left empty
 * @returns {() => void}
 */
export function keepFocus(list, roleOf, find, fallback) {
  const active = /** @type {HTMLElement|null} */ (document.activeElement);
  let item = active;
  while (item && item.parentElement !== list) item = item.parentElement;
  if (!active || !item) return () => {};
  const key = item.dataset.key;
  const role = roleOf(active);
  const index = [...list.children].indexOf(item);
  return () => {
    const now = document.activeElement;
    if (now && now !== document.body && isShown(now)) return; // focus survived the render
    const items = /** @type {HTMLElement[]} */ ([...list.children]);
    const target = items.find((el) => el.dataset.key === key) || items[Math.min(index, items.length - 1)];
    const control = target ? find(target, role) : fallback ? fallback() : null;
    if (control) control.focus();
  };
}

/**
 * Reads the page's session parameters from `<body data-…>`.
 * @returns {{session: string, token: string, role: string, lang: string}}
 */
export function pageData() {
  const d = document.body.dataset;
  return { session: d.session || "", token: d.token || "", role: d.role || "", lang: d.lang || "fr" };
}

/**
 * @param {string} session
 * @returns {string} the WebSocket URL of the session on this host
 */
export function wsUrl(session) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/sessions/" + encodeURIComponent(session);
}

/** localStorage that tolerates private modes and quotas. */
export const storage = {
  /** @param {string} key @returns {any} */
  get(key) {
    try {
      const raw = globalThis.localStorage.getItem(key);
      return raw === null ? null : JSON.parse(raw);
    } catch {
      return null;
    }
  },
  /** @param {string} key @param {any} value */
  set(key, value) {
    try {
      globalThis.localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* not persisted: the page still works */
    }
  },
};

/**
 * Shows the connection status in `el` (text from `conn.{status}`, or `conn.{status}.{role}` when the
 * role has its own wording) and mirrors it in `data-status` for CSS and tests.
 * @param {HTMLElement} el @param {string} status @param {string} role
 */
export function showStatus(el, status, role) {
  el.dataset.status = status;
  const specific = `conn.${status}.${role}`;
  const text = t(specific) !== specific ? t(specific) : t(`conn.${status}`);
  setText(el, text);
}

/**
 * Shows a message in a polite live region; replaces the previous one and clears it later.
 * @param {HTMLElement} region @param {string} text @param {"info"|"error"} [kind]
 */
export function notify(region, text, kind = "info") {
  region.dataset.kind = kind;
  region.textContent = text;
  const stamp = String(Date.now());
  region.dataset.stamp = stamp;
  setTimeout(() => {
    if (region.dataset.stamp === stamp) region.textContent = "";
  }, 8000);
}

/**
 * Translated message for a command error (`error.{code}`, falling back to `error.generic`), with
 * the wait or the length limit when the server gave it.
 * @param {{code?: string, retry_after?: number, limit?: number}} err @returns {string}
 */
export function errorText(err) {
  // Say what to do when the server says: how long to wait, how long a text may be.
  if (err && err.code === "rate_limited" && typeof err.retry_after === "number") {
    return t("error.rate_limited_wait", { seconds: err.retry_after });
  }
  if (err && err.code === "invalid" && typeof err.limit === "number") {
    return t("error.too_long", { limit: err.limit });
  }
  const key = `error.${(err && err.code) || "generic"}`;
  const text = t(key);
  return text === key ? t("error.generic") : text;
}

/**
 * A page's command sender: sends over `conn`, shows the server's refusal in `region`. A retried
 * command refused as `conflict` was most likely applied before the connection dropped: stay quiet
 * then.
 * @param {() => {send: (command: Record<string, any>) => Promise<any>}} conn the live connection
 * @param {HTMLElement} region the page's live region
 * @returns {(command: Record<string, any>) => Promise<boolean>} resolves to whether it was acknowledged
 */
export function commandRunner(conn, region) {
  return (command) => conn().send(command).then(
    () => true,
    (err) => {
      if (!(err.retried && err.code === "conflict")) notify(region, errorText(err), "error");
      return false;
    },
  );
}

/**
 * @typedef {{conn: Connection, getState: () => (import("./state.js").State|null),
 *   requestRender: () => void}} Live
 */

/** The page's live session, once started, and the other modules' renderers (see addToLive). */
/** @type {Live|null} */
let pageLive = null;
/** @type {((state: import("./state.js").State) => void)[]} */
const addedRenders = [];
/** @type {((live: Live) => (state: import("./state.js").State) => void)[]} */
const waitingAddons = [];

/**
 * Lets another module of the page (captions.js) render part of it from the page's live session,
 * whichever of the two scripts runs first: `setup` gets the session once started and returns a
 * render function, called with each state just before the page's own render (so that the page's
 * layout, such as the stage's fitting, sees what it drew).
 * @param {(live: Live) => (state: import("./state.js").State) => void} setup
 */
export function addToLive(setup) {
  if (!pageLive) {
    waitingAddons.push(setup);
    return;
  }
  addedRenders.push(setup(pageLive));
  pageLive.requestRender();
}

/**
 * Connects the page to its session and keeps the state current. `render(state)` is called at most
 * once per frame (or every 200 ms while the tab is hidden, so titles and counts stay fresh).
 * @param {object} opts
 * @param {(state: import("./state.js").State) => void} opts.render
 * @param {(status: string) => void} [opts.onstatus]
 * @param {(code: number) => void} [opts.onfatal]
 * @param {(code: number) => void} [opts.onrefused] no identity for now (4029, 4030): it retries
 * @param {(msg: any) => void} [opts.onerror] errors not tied to a command
 * @param {(msg: any) => void} [opts.onwelcome]
 * @param {(msg: any, state: import("./state.js").State) => void} [opts.onevent] after the event is applied
 * @param {boolean} [opts.rememberParticipant] send and store the participant identity
 * @returns {Live}
 */
export function startLive(opts) {
  const { session, token } = pageData();
  /** @type {import("./state.js").State|null} */
  let state = null;
  let scheduled = false;
  const render = () => {
    scheduled = false;
    if (!state) return;
    for (const added of addedRenders) added(state);
    opts.render(state);
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    if (document.hidden) setTimeout(render, 200);
    else requestAnimationFrame(render);
  };
  const IDENTITY_KEY = "tribune.participant";
  const conn = new Connection({
    url: wsUrl(session),
    token,
    getParticipant: opts.rememberParticipant ? () => storage.get(IDENTITY_KEY) : () => null,
    setParticipant: opts.rememberParticipant ? (p) => storage.set(IDENTITY_KEY, p) : () => {},
  });
  conn.onwelcome = (msg) => opts.onwelcome && opts.onwelcome(msg);
  conn.onsnapshot = (snapshot, resumed, msg) => {
    if (!resumed || !state) state = applySnapshot(snapshot, { epoch: msg.epoch, seq: msg.seq });
    schedule();
  };
  conn.onevent = (msg) => {
    if (!state) return;
    state = applyEvent(state, msg);
    if (opts.onevent) opts.onevent(msg, state);
    schedule();
  };
  conn.ontally = (msg) => {
    if (state) state = applyTally(state, msg);
    schedule();
  };
  conn.onpresence = (msg) => {
    if (state) state = applyPresence(state, msg);
    schedule();
  };
  // For the video player (static/js/player.js), which has no socket of its own.
  conn.onbroadcast = (msg) => document.dispatchEvent(new CustomEvent("tribune:broadcast", { detail: msg }));
  conn.onstatus = (status) => opts.onstatus && opts.onstatus(status);
  conn.onfatal = (code) => opts.onfatal && opts.onfatal(code);
  conn.onrefused = (code) => opts.onrefused && opts.onrefused(code);
  conn.onerror = (msg) => opts.onerror && opts.onerror(msg);
  // Back online, or back to a tab that was asleep: do not wait for the backoff timer.
  window.addEventListener("online", () => conn.reconnectNow());
  // Network gone: show it at once; a Ping tells whether the socket survived.
  window.addEventListener("offline", () => conn.networkLost());
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) conn.reconnectNow();
  });
  // Connect after returning, so the page's callbacks can already use the returned object.
  queueMicrotask(() => conn.connect());
  pageLive = { conn, getState: () => state, requestRender: schedule };
  for (const setup of waitingAddons.splice(0)) addedRenders.push(setup(pageLive));
  return pageLive;
}

/**
 * Shows why the connection was refused for good (`fatal.{code}`, else `fatal.other`).
 * @param {HTMLElement} el @param {number} code
 */
export function showFatal(el, code) {
  const key = `fatal.${code}`;
  el.textContent = t(key) === key ? t("fatal.other") : t(key);
  el.hidden = false;
}

/**
 * Sort toggle: buttons with `data-sort` and aria-pressed inside `group`.
 * @param {HTMLElement} group @param {(order: "popular"|"recent") => void} onchange
 */
export function setupSort(group, onchange) {
  group.addEventListener("click", (ev) => {
    const button = /** @type {HTMLElement} */ (ev.target).closest("button[data-sort]");
    if (!button) return;
    for (const b of group.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
    onchange(button.dataset.sort === "recent" ? "recent" : "popular");
  });
}

/**
 * Minimal accessible tabs: buttons with role="tab" inside `tablist`; arrow keys move between them.
 * @param {HTMLElement} tablist
 * @param {(name: string) => void} onselect receives the tab's `data-tab`
 */
export function setupTabs(tablist, onselect) {
  const tabs = () => /** @type {HTMLElement[]} */ ([...tablist.querySelectorAll("[role='tab']")]);
  const select = (/** @type {HTMLElement} */ tab, focus = false) => {
    for (const other of tabs()) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
    }
    if (focus) tab.focus();
    onselect(tab.dataset.tab || "");
  };
  tablist.addEventListener("click", (ev) => {
    const tab = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (ev.target).closest("[role='tab']"));
    if (tab) select(tab);
  });
  tablist.addEventListener("keydown", (ev) => {
    const list = tabs();
    const i = list.indexOf(/** @type {HTMLElement} */ (document.activeElement));
    if (i === -1) return;
    const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
    if (ev.key === "Home" || ev.key === "End") {
      ev.preventDefault();
      select(list[ev.key === "Home" ? 0 : list.length - 1], true);
    } else if (step) {
      ev.preventDefault();
      select(list[(i + step + list.length) % list.length], true);
    }
  });
}
