// The control room's links for the day: a room card's "Links" panel lists the session's links by
// role (the private ones shown nowhere else), copies them, opens the room's printable sheet, and
// revokes one role's links and shows the new ones (/control/links/..., live/web/linkdesk.py).

import { h, setText } from "./dom.js";
import { t } from "./i18n.js";

/**
 * @param {string} name a link's name: "moderator", "short", "interpreter en", "guest Awa"…
 * @returns {string}
 */
function label(name) {
  const [kind, ...rest] = name.split(" ");
  const words = t(`links.name.${kind}`);
  return rest.length ? `${words} · ${rest.join(" ")}` : words;
}

/**
 * @param {string} url
 * @param {HTMLElement} notice
 */
async function copy(url, notice) {
  try {
    await navigator.clipboard.writeText(url);
    notice.dataset.kind = "info";
    setText(notice, t("links.copied"));
  } catch {
    notice.dataset.kind = "error";
    setText(notice, t("links.copy_failed"));
  }
}

/**
 * The panel of one room, filled the first time it is opened.
 * @param {string} sessionId
 * @param {string} token the admin token
 * @returns {HTMLElement}
 */
export function linksPanel(sessionId, token) {
  const id = encodeURIComponent(sessionId);
  const body = h("div", { class: "control-links__body", "data-testid": "links-body" });
  const notice = h("p", { class: "notice", role: "status", "data-testid": "links-notice" });
  const panel = h("details", { class: "control-links", "data-testid": "room-links" },
    h("summary", {}, t("links.title")),
    h("p", {}, h("a", { class: "button", href: `/control/sheets/${id}?t=${encodeURIComponent(token)}`, target: "_blank", rel: "noopener", "data-testid": "links-sheet" }, t("links.sheet"))),
    notice, body);
  const headers = { Authorization: `Bearer ${token}` };

  /** @param {any} listing */
  function render(listing) {
    body.replaceChildren(...listing.roles.map((/** @type {any} */ group) => h("section", { class: "control-links__role", "data-role": group.role, "data-testid": `links-${group.role}` },
      h("h3", {}, t(`links.role.${group.role}`)),
      h("ul", {}, ...group.links.map((/** @type {any} */ link) => h("li", { "data-name": link.name },
        h("span", { class: "control-links__label" }, label(link.name)),
        h("input", { type: "text", readonly: true, value: link.url, "aria-label": label(link.name), "data-testid": "link-url", class: "control-links__url" }),
        h("button", { type: "button", class: "button", onclick: () => copy(link.url, notice), "aria-label": `${t("links.copy")} · ${label(link.name)}` }, t("links.copy"))))),
      h("button", { type: "button", class: "button button--danger", "data-testid": "links-revoke", onclick: () => revoke(group.role) }, t("links.revoke")))));
  }

  /** @param {Response} response */
  async function answer(response) {
    const listing = await response.json();
    if (!response.ok) throw new Error(listing.error || String(response.status));
    return listing;
  }

  async function load() {
    try {
      render(await answer(await fetch(`/control/links/${id}`, { headers, cache: "no-store" })));
    } catch {
      notice.dataset.kind = "error";
      setText(notice, t("links.failed"));
    }
  }

  /** @param {string} role */
  async function revoke(role) {
    if (!window.confirm(t("links.confirm", { role: t(`links.role.${role}`) }))) return;
    try {
      render(await answer(await fetch(`/control/links/${id}/${encodeURIComponent(role)}/revoke`, { method: "POST", headers })));
      notice.dataset.kind = "info";
      setText(notice, t("links.revoked", { role: t(`links.role.${role}`) }));
    } catch (error) {
      const code = error instanceof Error ? error.message : "";
      notice.dataset.kind = "error";
      setText(notice, t(code.startsWith("links.error.") ? code : "links.failed"));
    }
  }

  panel.addEventListener("toggle", () => {
    if (/** @type {HTMLDetailsElement} */ (panel).open && !body.childElementCount) load();
  });
  return panel;
}
