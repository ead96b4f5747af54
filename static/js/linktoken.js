// The link's token (`?t=…`) leaves the address bar once the page has loaded: it would otherwise be
// seen over a shoulder or on a projected screen, kept in the browser's history, shared with the
// address, and saved in bookmarks. The tab keeps it (sessionStorage, this tab only, gone when the
// tab closes), so that a reload still works: the server, asked for the page without its token,
// answers 401 (a session page) or the programme without its links, and this module asks again
// with the kept token, once. A bookmark carries no token: opened in another tab, it gets the
// server's "this address has no access key" page, and the link the organisers sent opens it.
// No DOM access beyond what is passed in: tested under Node.

/** Key prefix in sessionStorage; one entry per page path. */
export const KEY_PREFIX = "tribune.link:";

/**
 * What the server rendered: a session page (its token was accepted), the programme (with its
 * session links, or without: no valid participant token), or an error page and its status.
 * @typedef {{kind: "session"} | {kind: "programme", linked: boolean} | {kind: "error", status: number} | {kind: "other"}} PageKind
 */

/**
 * @param {{dataset: DOMStringMap, classList: DOMTokenList}} body
 * @param {(selector: string) => unknown} query
 * @returns {PageKind}
 */
export function pageKind(body, query) {
  const role = body.dataset.role || "";
  if (["participant", "moderator", "stage", "studio", "interpreter", "captioner"].includes(role)) return { kind: "session" };
  if (role === "programme") return { kind: "programme", linked: !query("#programme-need-link") };
  if (body.classList.contains("page-error")) return { kind: "error", status: Number(body.dataset.status) || 0 };
  return { kind: "other" };
}

/** sessionStorage that may be refused (a locked-down browser): then the token is only in memory. */
function storageOf(win) {
  return {
    /** @param {string} key */
    get(key) {
      try { return win.sessionStorage.getItem(key); } catch { return null; }
    },
    /** @param {string} key @param {string} value */
    set(key, value) {
      try { win.sessionStorage.setItem(key, value); } catch { /* memory only: a reload needs the link */ }
    },
    /** @param {string} key */
    remove(key) {
      try { win.sessionStorage.removeItem(key); } catch { /* nothing kept */ }
    },
  };
}

/**
 * Hide the page's token from the address bar, keeping it for this tab; or, on a page the server
 * rendered without one, load it again with the kept token.
 * @param {{location: {href: string, replace: (url: string) => void}, history: {state: unknown, replaceState: (state: unknown, title: string, url: string) => void}, sessionStorage: Storage}} win
 * @param {PageKind} page
 * @returns {"hidden"|"restored"|"none"}
 */
export function keepTokenOutOfAddressBar(win, page) {
  const url = new URL(win.location.href);
  const key = KEY_PREFIX + url.pathname;
  const store = storageOf(win);
  const token = url.searchParams.get("t");
  if (token !== null) {
    const accepted = page.kind === "session" || (page.kind === "programme" && page.linked);
    if (accepted) store.set(key, token);
    else store.remove(key); // refused (expired, revoked): asking again with it would not help
    url.searchParams.delete("t");
    win.history.replaceState(win.history.state, "", url.pathname + url.search + url.hash);
    return "hidden";
  }
  const kept = store.get(key);
  const needsToken = (page.kind === "error" && page.status === 401) || (page.kind === "programme" && !page.linked);
  if (kept && needsToken) {
    url.searchParams.set("t", kept);
    win.location.replace(url.href); // the page again, with its token: hidden once more on load
    return "restored";
  }
  return "none";
}

/**
 * The link this tab opened the page with, as kept once it left the address bar (null when none):
 * what a script that asks the page again (static/js/programme-follow.js) must ask it with.
 * @param {{location: {href: string}, sessionStorage: Storage}} win
 * @returns {string|null}
 */
export function keptLink(win) {
  const url = new URL(win.location.href);
  const token = url.searchParams.get("t") ?? storageOf(win).get(KEY_PREFIX + url.pathname);
  if (token !== null) url.searchParams.set("t", token);
  return token === null ? null : url.href;
}
