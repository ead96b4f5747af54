// Studio page: remote guests. Makes their links, lists them (from the session's WebSocket) with a
// preview of their camera and the quality of their connection, brings them on and off air, and
// then publishes the composed programme instead of the room's camera (static/js/composer.js). While
// the session has guests it also publishes the return feed: the room's microphone alone, which
// guests on air hear instead of the programme, so their own voice never comes back to them.

import { onAir } from "./compose.js";
import { Composer } from "./composer.js";
import { byId, errorText, h, notify, pageData, reconcile, setText, showFatal, showStatus, startLive } from "./dom.js";
import { t } from "./i18n.js";
import { keepFeed } from "./feeds.js";
import { iceServerSource, receiverStats } from "./whip.js";

const STATS_EVERY_MS = 2000;

/**
 * @typedef {object} GuestEntry
 * @property {string} id
 * @property {string} name
 * @property {string} status
 * @property {HTMLElement} card
 * @property {HTMLVideoElement} video
 * @property {MediaStream|null} stream
 * @property {ReturnType<typeof keepFeed>} feed
 * @property {import("./rtcstats.js").Readout|null} stats
 */

/**
 * @param {object} options
 * @param {() => MediaStream|null} options.roomMedia the studio's camera and microphone
 * @param {HTMLVideoElement} options.roomVideo their preview (the composer draws from it)
 * @param {(programme: MediaStream|null) => void} options.onProgramme what to publish changed:
 *   the composed programme, or null for the room's own tracks again
 */
export function setupGuests({ roomMedia, roomVideo, onProgramme }) {
  const { session, token } = pageData();
  const base = `/sessions/${encodeURIComponent(session)}`;
  const iceServers = iceServerSource(new URL(`${base}/ice-servers`, location.href).href, token);
  const ui = {
    form: /** @type {HTMLFormElement} */ (byId("guest-form")),
    name: /** @type {HTMLInputElement} */ (byId("guest-name")),
    created: byId("guest-created"),
    link: /** @type {HTMLInputElement} */ (byId("guest-link")),
    list: byId("guest-list"),
    empty: byId("guest-empty"),
    layout: /** @type {HTMLSelectElement} */ (byId("guest-layout")),
    returnState: byId("guest-return"),
    sendReturn: /** @type {HTMLInputElement} */ (byId("guest-send-return")),
    inRoom: /** @type {HTMLInputElement} */ (byId("guest-in-room")),
    notice: byId("guest-notice"),
    status: byId("conn-status"),
    fatal: byId("fatal"),
  };
  /** @type {Map<string, GuestEntry>} */
  const entries = new Map();
  /** @type {Composer|null} */
  let composer = null;
  let composing = false;
  /** @type {ReturnType<typeof keepFeed>|null} */
  let returnFeed = null;
  /** @type {import("./state.js").Guest[]} */
  let roster = [];

  const live = startLive({
    render,
    onstatus: (status) => showStatus(ui.status, status, "studio"),
    onfatal: (code) => showFatal(ui.fatal, code),
  });

  ui.form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = ui.name.value.trim();
    if (!name) return;
    try {
      const response = await fetch(`${base}/guests`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ name }),
      });
      if (response.status !== 201) throw new Error((await response.text()).trim());
      const guest = await response.json();
      ui.link.value = guest.link;
      ui.created.hidden = false;
      setText(byId("guest-created-name"), guest.name);
      ui.name.value = "";
      ui.link.select();
    } catch (err) {
      notify(ui.notice, t("guests.msg.link_failed", { error: errorText(err) }), "error");
    }
  });
  ui.layout.addEventListener("change", () => {
    if (composer) composer.layout = ui.layout.value === "pip" ? "pip" : "side";
  });
  ui.inRoom.addEventListener("change", () => composer && composer.hearInRoom(ui.inRoom.checked));
  // An AV desk that sends its own mix-minus (WHIP, the studio's link) unticks this: one return
  // feed at a time, the later connection replaces the earlier.
  ui.sendReturn.addEventListener("change", () => {
    if (!ui.sendReturn.checked && returnFeed) {
      returnFeed.stop();
      returnFeed = null;
    }
    keepReturnFeed();
  });

  /** @param {import("./state.js").State} state */
  function render(state) {
    roster = state.guests || [];
    reconcile(ui.list, roster, (g) => g.id, createCard, updateCard);
    ui.empty.hidden = roster.length > 0;
    compose();
    keepReturnFeed();
  }

  /** @param {import("./state.js").Guest} guest @returns {HTMLElement} */
  function createCard(guest) {
    const video = /** @type {HTMLVideoElement} */ (h("video", { class: "guest-card__video", muted: true, autoplay: true, playsInline: true, "data-testid": "guest-preview" }));
    video.muted = true;
    const card = h("li", { class: "guest-card", "data-testid": "guest-card", "data-guest": guest.id },
      video,
      h("div", { class: "guest-card__body" },
        h("p", { class: "guest-card__name", "data-testid": "guest-name" }, guest.name),
        h("p", { class: "guest-card__status", "data-testid": "guest-status" }),
        h("p", { class: "guest-card__feed hint", "data-testid": "guest-feed" }),
        h("p", { class: "guest-card__quality hint", "data-testid": "guest-quality" }),
        h("div", { class: "guest-card__actions" },
          h("button", { type: "button", class: "button button--live", "data-testid": "guest-on-air", onclick: () => setOnAir(guest.id, true) }, t("guests.bring_on")),
          h("button", { type: "button", class: "button", "data-testid": "guest-off-air", onclick: () => setOnAir(guest.id, false) }, t("guests.take_off")),
          h("a", { class: "button", target: "_blank", rel: "noopener", "data-testid": "guest-clean-link",
            href: `/guest/${encodeURIComponent(session)}/${encodeURIComponent(guest.id)}/clean?t=${encodeURIComponent(token)}` }, t("guests.clean_feed")))));
    /** @type {GuestEntry} */
    const entry = {
      id: guest.id, name: guest.name, status: guest.status, card, video, stream: null, stats: null,
      feed: keepFeed(`${base}/guests/${encodeURIComponent(guest.id)}/whep`, token, {
        iceServers,
        readout: `${base}/guests/${encodeURIComponent(guest.id)}/broadcast`,
        onStream: (stream) => {
          entry.stream = stream;
          if (video.srcObject === stream) return compose(); // its second track: mixed in too
          video.srcObject = stream;
          video.play().catch(() => {});
          compose();
        },
        onState: (feedState) => {
          card.dataset.feed = feedState;
          setText(/** @type {HTMLElement} */ (card.querySelector(".guest-card__feed")), t(`guests.feed.${feedState}`));
        },
      }),
    };
    entries.set(guest.id, entry);
    return card;
  }

  /** @param {HTMLElement} card @param {import("./state.js").Guest} guest */
  function updateCard(card, guest) {
    const entry = entries.get(guest.id);
    if (entry) entry.status = guest.status;
    card.dataset.status = guest.status;
    setText(/** @type {HTMLElement} */ (card.querySelector(".guest-card__status")), t(`guests.status.${guest.status}`));
    const on = /** @type {HTMLButtonElement} */ (card.querySelector("[data-testid=guest-on-air]"));
    const off = /** @type {HTMLButtonElement} */ (card.querySelector("[data-testid=guest-off-air]"));
    on.hidden = guest.status === "on_air";
    off.hidden = guest.status !== "on_air";
  }

  /** @param {string} guestId @param {boolean} onAirNow */
  function setOnAir(guestId, onAirNow) {
    if (composer) composer.audio.resume().catch(() => {}); // a click: the browser lets audio start
    live.conn.send({ type: "SetGuestOnAir", guest_id: guestId, on_air: onAirNow }).catch((err) => {
      notify(ui.notice, t("guests.msg.refused", { error: errorText(err) }), "error");
    });
  }

  function sources() {
    return onAir(roster).map((id) => entries.get(id)).filter((e) => e && e.stream)
      .map((e) => {
        const entry = /** @type {GuestEntry} */ (e);
        return { id: entry.id, name: entry.name, video: entry.video, stream: /** @type {MediaStream} */ (entry.stream) };
      });
  }

  function compose() {
    const on = sources();
    if (!on.length) {
      if (composing && composer) {
        composing = false;
        composer.stop();
        onProgramme(null);
      }
      return;
    }
    if (!composer) {
      composer = new Composer(roomVideo);
      composer.layout = ui.layout.value === "pip" ? "pip" : "side";
      composer.hearInRoom(ui.inRoom.checked);
    }
    composer.set(roomMedia(), on);
    composer.start();
    if (!composing) {
      composing = true;
      onProgramme(composer.stream);
    }
  }

  function roomMic() {
    const media = roomMedia();
    const mic = media && media.getAudioTracks()[0];
    return mic ? new MediaStream([mic]) : null;
  }

  function keepReturnFeed() {
    if (roster.length && !returnFeed && ui.sendReturn.checked) {
      returnFeed = keepFeed(`${base}/return/whip`, token, {
        iceServers,
        media: roomMic,
        onState: (s) => {
          ui.returnState.dataset.state = s;
          setText(ui.returnState, t(`guests.return.${s}`));
        },
      });
    }
  }

  async function sampleQuality() {
    for (const entry of entries.values()) {
      const pc = entry.feed.connection();
      if (!pc) continue;
      try {
        entry.stats = receiverStats(await pc.getStats(), entry.stats);
        const s = entry.stats;
        setText(/** @type {HTMLElement} */ (entry.card.querySelector(".guest-card__quality")),
          t("guests.quality", { fps: Math.round(s.fps || 0), kbps: Math.round(s.kbps || 0), loss: Math.round(s.lossPercent || 0) }));
      } catch {
        /* closed meanwhile */
      }
    }
    setTimeout(sampleQuality, STATS_EVERY_MS);
  }
  setTimeout(sampleQuality, STATS_EVERY_MS);

  return {
    /** The stream to publish while guests are on air, else null (the room's own tracks). */
    programme: () => (composing && composer ? composer.stream : null),
    /** The room's camera or microphone changed: compose and send the new ones. */
    roomChanged() {
      if (composing && composer) composer.set(roomMedia(), sources());
      const sender = returnFeed && returnFeed.sender("audio");
      const mic = roomMic();
      if (sender && mic) sender.replaceTrack(mic.getAudioTracks()[0]).catch(() => {});
    },
  };
}
