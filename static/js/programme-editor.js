// The programme editor of the control room: the stored TOML text and its version, saved with the
// version it was based on (a 409 names who saved since), imported from a file, and the history.

import { byId, h, pageData, setText } from "./dom.js";
import { t } from "./i18n.js";

const URL = "/control/programme";
const ui = {
  by: /** @type {HTMLInputElement} */ (byId("programme-by")),
  text: /** @type {HTMLTextAreaElement} */ (byId("programme-text")),
  save: byId("programme-save"),
  reload: byId("programme-reload"),
  file: /** @type {HTMLInputElement} */ (byId("programme-import")),
  message: byId("programme-message"),
  history: byId("programme-history"),
};
const { token } = pageData();
const headers = { authorization: `Bearer ${token}` };
let base = 0;

/** @param {number} at seconds */
function clock(at) {
  return new Date(at * 1000).toLocaleString(document.documentElement.lang || undefined);
}

async function load() {
  const answer = await fetch(URL, { headers, cache: "no-store" });
  if (!answer.ok) return;
  const shown = await answer.json();
  base = shown.version;
  ui.text.value = shown.text;
  ui.history.replaceChildren(...shown.history.map((/** @type {any} */ entry) =>
    h("li", { text: t("control.programme_entry", { ...entry, at: clock(entry.at) }) })));
}

/** @param {string} text @param {string} what */
async function save(text, what) {
  const answer = await fetch(URL, {
    method: "PUT", headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ base, text, by: ui.by.value.trim() || "admin", what }),
  });
  const body = await answer.json().catch(() => ({}));
  if (answer.ok) {
    setText(ui.message, t("control.programme_saved", { version: body.version }));
    await load();
  } else {
    setText(ui.message, body.message || body.field || body.error || String(answer.status));
  }
}

ui.save.addEventListener("click", () => save(ui.text.value, "edit"));
ui.reload.addEventListener("click", () => { setText(ui.message, ""); load(); });
ui.file.addEventListener("change", async () => {
  const file = ui.file.files && ui.file.files[0];
  if (file) await save(await file.text(), "import");
  ui.file.value = "";
});
load();
