// Moderator page: whether the session's replay is published. Taken down, participants get a
// "taken down" page instead of the replay; moderators and the studio still see it.

import { addToLive, byId, errorText, notify } from "./dom.js";

addToLive((live) => {
  const toggle = /** @type {HTMLInputElement} */ (byId("replay-published"));
  toggle.addEventListener("change", () => {
    const published = toggle.checked;
    live.conn.send({ type: "SetReplayPublished", published }).catch((err) => {
      toggle.checked = !published;
      notify(byId("notice"), errorText(err), "error");
    });
  });
  return (state) => {
    toggle.disabled = false;
    toggle.checked = state.settings.replay_published !== false;
  };
});
