// Control room, polls page: one session's polls prepared and run as on its moderator's console
// (the admin link may act in every session), and copied to another session (POST
// /control/polls/copy, live/web/polldesk.py), since a copy spans two sessions.

import { byId, commandRunner, errorText, h, notify, reconcile, showFatal, showStatus, startLive } from "./dom.js";
import { t } from "./i18n.js";
import { setupPolls } from "./moderator-polls.js";

const ui = {
  status: byId("conn-status"),
  fatal: byId("fatal"),
  notice: byId("notice"),
  copyForm: /** @type {HTMLFormElement} */ (byId("copy-form")),
  copyPoll: /** @type {HTMLSelectElement} */ (byId("copy-poll")),
  copyTo: /** @type {HTMLSelectElement} */ (byId("copy-to")),
};
const { session, token } = document.body.dataset;

const live = startLive({
  render,
  onstatus: (status) => showStatus(ui.status, status, "moderator"),
  onfatal: (code) => showFatal(ui.fatal, code),
  onerror: (msg) => notify(ui.notice, errorText(msg), "error"),
});

const run = commandRunner(() => live.conn, ui.notice);

const renderPolls = setupPolls({ run, notice: ui.notice });

/** @param {import("./state.js").State} state */
function render(state) {
  renderPolls(state);
  const kinds = state.polls.map((p) => ({ id: p.id, label: `${p.question} (${t(`report.poll_kind.${p.kind || "choice"}`)})` }));
  reconcile(ui.copyPoll, kinds, (item) => item.id, (item) => h("option", { value: item.id }), (option, item) => {
    option.textContent = item.label;
  });
}

ui.copyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const pollId = ui.copyPoll.value;
  const to = ui.copyTo.value;
  if (!pollId || !to) {
    notify(ui.notice, t("control.polls_copy_choose"), "error");
    return;
  }
  let answer;
  try {
    answer = await fetch("/control/polls/copy", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ from: session, poll_id: pollId, to }),
    });
  } catch {
    notify(ui.notice, t("control.polls_copy_failed"), "error");
    return;
  }
  const body = await answer.json().catch(() => ({}));
  const target = ui.copyTo.selectedOptions[0] ? ui.copyTo.selectedOptions[0].textContent : to;
  if (answer.ok) notify(ui.notice, t("control.polls_copied", { session: target || to }));
  else notify(ui.notice, t(body.error || "control.polls_copy_failed", { seconds: body.retry_after || 2 }), "error");
});
