// Open pages follow the programme as the organiser edits it: /programme/version is polled, and on
// a new version a session page refreshes its title, time and room in place (its live session
// stays connected), and the programme page swaps in its fresh list.

import { localizeDates } from "./i18n.js";
import { keptLink } from "./linktoken.js";

// A tiny answer, but every open page asks: not too often, and not while the page is hidden.
const EVERY_MS = 5000;
const { session, lang } = document.body.dataset;
let known = -1;

/** @param {string} name @param {string} text */
function show(name, text) {
  for (const el of document.querySelectorAll(`[data-programme="${name}"]`)) el.textContent = text;
}

/** @param {any} info */
function refreshSession(info) {
  show("title", info.title);
  show("room", info.room ? `· ${info.room}` : "");
  for (const el of document.querySelectorAll('[data-programme="time"]')) {
    const template = /** @type {HTMLElement} */ (el).dataset.template || "{start} – {end}";
    el.textContent = template.replace("{start}", info.start).replace("{end}", info.end);
  }
  document.title = document.title.replace(/^[^·]*·/, `${info.title} ·`);
}

async function refreshProgramme() {
  // With the participant's link: without it the programme comes without its session links.
  const answer = await fetch(keptLink(window) || location.href, { cache: "no-store" });
  if (!answer.ok) return;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").querySelector("main");
  const main = document.querySelector("main");
  if (!fresh || !main) return;
  if (fresh.querySelector("#programme-need-link") && !main.querySelector("#programme-need-link")) return;
  main.replaceWith(document.adoptNode(fresh));
  localizeDates(fresh);
}

async function poll() {
  if (document.hidden) return;
  const query = new URLSearchParams({ lang: lang || "fr", ...(session ? { session } : {}) });
  try {
    const answer = await fetch(`/programme/version?${query}`, { cache: "no-store" });
    if (!answer.ok) return;
    const current = await answer.json();
    if (known >= 0 && current.version !== known) {
      if (session && current.session) refreshSession(current.session);
      else if (!session) await refreshProgramme();
    }
    known = current.version;
  } catch {
    // offline for a moment: the next poll catches up
  }
}

poll();
setInterval(poll, EVERY_MS);
