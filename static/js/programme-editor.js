// The programme editor of the control room: the stored programme and its version, shown as a form
// (static/js/programme-form.js, the default) or as its TOML text, saved with the version it was
// based on (a 409 names who saved since, with a button to reload the latest), imported from a
// file, and the history.

import { byId, h, pageData, setText, setupTabs } from "./dom.js";
import { t } from "./i18n.js";
import { ProgrammeForm } from "./programme-form.js";

const URL = "/control/programme";
const ui = {
  by: /** @type {HTMLInputElement} */ (byId("programme-by")),
  views: byId("programme-views"),
  formView: byId("programme-view-form"),
  tomlView: byId("programme-view-toml"),
  form: /** @type {HTMLFormElement} */ (byId("programme-form")),
  text: /** @type {HTMLTextAreaElement} */ (byId("programme-text")),
  save: byId("programme-save"),
  reload: byId("programme-reload"),
  file: /** @type {HTMLInputElement} */ (byId("programme-import")),
  message: byId("programme-message"),
  latest: byId("programme-latest"),
  history: byId("programme-history"),
};
const { token } = pageData();
const headers = { authorization: `Bearer ${token}` };
let base = 0;

/** @param {number} at seconds */
function clock(at) {
  return new Date(at * 1000).toLocaleString(document.documentElement.lang || undefined);
}

const form = new ProgrammeForm(ui.form, ui.message, (data) => save({ data }, "edit"));

async function load() {
  const answer = await fetch(URL, { headers, cache: "no-store" });
  if (!answer.ok) return;
  const shown = await answer.json();
  base = shown.version;
  ui.text.value = shown.text;
  form.show(shown.data);
  ui.latest.hidden = true;
  ui.history.replaceChildren(...shown.history.map((/** @type {any} */ entry) =>
    h("li", { text: t("control.programme_entry", { ...entry, at: clock(entry.at) }) })));
}

/**
 * Saves the TOML text or the form's data, on the version shown.
 * @param {{text: string} | {data: any}} programme @param {string} what
 */
async function save(programme, what) {
  const answer = await fetch(URL, {
    method: "PUT", headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ base, ...programme, by: ui.by.value.trim() || "admin", what }),
  });
  const body = await answer.json().catch(() => ({}));
  if (answer.ok) {
    await load();
    setText(ui.message, t("control.programme_saved", { version: body.version }));
  } else if (answer.status === 409) {
    // Someone saved since: their version is to be reloaded, this change made again on it.
    setText(ui.message, t("programme.form.stale", { version: body.version, by: body.by,
      at: clock(body.at) }));
    ui.latest.hidden = false;
  } else {
    setText(ui.message, body.message || body.field || body.error || String(answer.status));
  }
}

setupTabs(ui.views, (name) => {
  ui.formView.hidden = name !== "form";
  ui.tomlView.hidden = name !== "toml";
});
ui.save.addEventListener("click", () => save({ text: ui.text.value }, "edit"));
ui.reload.addEventListener("click", () => { setText(ui.message, ""); load(); });
ui.latest.addEventListener("click", async () => {
  await load();
  setText(ui.message, t("programme.form.reloaded", { version: base }));
  ui.views.querySelector("[aria-selected='true']")?.focus?.();
});
ui.file.addEventListener("change", async () => {
  const file = ui.file.files && ui.file.files[0];
  if (file) await save({ text: await file.text() }, "import");
  ui.file.value = "";
});
load();
