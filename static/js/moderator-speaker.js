// Moderator page: a private message to the speaker and a countdown, shown on the stage screen
// only (never to participants); the console says when the speaker has seen the message.

import { addToLive, byId, errorText, notify, setText } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { timeLeft } from "./speaker-time.js";

addToLive((live) => {
  const ui = {
    form: /** @type {HTMLFormElement} */ (byId("speaker-form")),
    text: /** @type {HTMLInputElement} */ (byId("speaker-text")),
    status: byId("speaker-status"),
    timerForm: /** @type {HTMLFormElement} */ (byId("timer-form")),
    minutes: /** @type {HTMLInputElement} */ (byId("timer-minutes")),
    stop: /** @type {HTMLButtonElement} */ (byId("timer-stop")),
    left: byId("timer-left"),
    notice: byId("notice"),
  };
  /** @type {any} */
  let timer = null;
  const send = (/** @type {any} */ command) => live.conn.send(command).catch((err) => notify(ui.notice, errorText(err), "error"));

  ui.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = ui.text.value.trim();
    if (!text) return;
    send({ type: "SendStageMessage", text }).then(() => {
      ui.text.value = "";
    });
  });
  ui.timerForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const minutes = Number(ui.minutes.value);
    if (minutes > 0) send({ type: "SetStageTimer", seconds: Math.round(minutes * 60) });
  });
  ui.stop.addEventListener("click", () => send({ type: "SetStageTimer", seconds: null }));

  const tick = () => {
    const left = timeLeft(timer, Date.now());
    setText(ui.left, left ? t(left.over ? "speaker.timer_over" : "speaker.timer_left", { time: left.text }) : "");
    ui.stop.disabled = !timer;
  };
  setInterval(tick, 500);

  return (state) => {
    const speaker = state.speaker || {};
    const message = speaker.message;
    timer = speaker.timer;
    if (!message) setText(ui.status, "");
    else if (message.acknowledged_at) setText(ui.status, t("speaker.seen_at", { text: message.text, time: formatTime(message.acknowledged_at) }));
    else setText(ui.status, t("speaker.waiting", { text: message.text }));
    tick();
  };
});
