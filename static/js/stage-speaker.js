// Stage screen (and a remote guest's page): the moderators' message to the speaker, until the
// speaker presses "seen", and the countdown, red once the time is over. Never on participants'
// pages: the server sends them to the stage audience and the moderators alone.

import { addToLive, byId, setText } from "./dom.js";
import { timeLeft } from "./speaker-time.js";

addToLive((live) => {
  const ui = {
    box: byId("stage-speaker"),
    message: byId("stage-message"),
    seen: /** @type {HTMLButtonElement} */ (byId("stage-message-seen")),
    timer: byId("stage-timer"),
  };
  /** @type {any} */
  let timer = null;
  /** @type {string|null} */
  let messageId = null;

  ui.seen.addEventListener("click", () => {
    if (messageId) live.conn.send({ type: "AcknowledgeStageMessage", message_id: messageId }).catch(() => {});
  });

  const tick = () => {
    const left = timeLeft(timer, Date.now());
    ui.timer.hidden = !left;
    setText(ui.timer, left ? left.text : "");
    ui.timer.classList.toggle("is-over", Boolean(left && left.over));
    ui.box.hidden = ui.timer.hidden && ui.message.hidden;
  };
  setInterval(tick, 250);

  return (state) => {
    const speaker = state.speaker || {};
    const message = speaker.message && !speaker.message.acknowledged_at ? speaker.message : null;
    messageId = message ? message.id : null;
    ui.message.hidden = ui.seen.hidden = !message;
    setText(ui.message, message ? message.text : "");
    timer = speaker.timer;
    tick();
  };
});
