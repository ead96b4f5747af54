// What the interpreter hears: the floor (WHEP), or another booth for relay interpreting, at its own
// volume; the floor's picture only when asked for (lip reading helps, but it costs bandwidth).
// One connection: the relay source moves the first audio track between broadcasts (PUT …/audio,
// live/media/channels.py) without renegotiating; turning the picture on or off makes a new
// connection that replaces the current one once granted.

import { byId, setText } from "./dom.js";
import { t } from "./i18n.js";
import { relayHearing } from "./booth.js";
import { sendChoice, whepUrl } from "./listening.js";
import { fetchBroadcast } from "./studio-readout.js";
import { WhipError, hangUp, iceServerSource, negotiate, retryDelay, watchConnection } from "./whip.js";

const FLOOR_POLL_MS = 2000; // the floor and the booths on air (plus up to half as much jitter)

/** @typedef {"waiting"|"connecting"|"listening"|"reconnecting"|"unavailable"} FloorState */

/**
 * @param {{session: string, token: string, names: Record<string, string>}} options
 *   names: each language's name in the page's language
 */
export function createFloor({ session, token, names }) {
  const ui = {
    floor: byId("interp-floor"),
    status: byId("interp-floor-status"),
    source: /** @type {HTMLSelectElement} */ (byId("interp-source")),
    note: byId("interp-source-note"),
    volume: /** @type {HTMLInputElement} */ (byId("interp-volume")),
    soundOn: /** @type {HTMLButtonElement} */ (byId("interp-sound-on")),
    videoToggle: /** @type {HTMLButtonElement} */ (byId("interp-video-toggle")),
    video: /** @type {HTMLVideoElement} */ (byId("interp-video")),
    audio: /** @type {HTMLAudioElement} */ (byId("interp-audio")),
  };
  const path = `/sessions/${encodeURIComponent(session)}`;
  const endpoint = new URL(`${path}/whep`, location.href).href;
  const broadcastUrl = new URL(`${path}/broadcast`, location.href).href;
  const iceServers = iceServerSource(new URL(`${path}/ice-servers`, location.href).href, token);

  /** @type {RTCPeerConnection|null} */
  let pc = null;
  let resource = "";
  let generation = 0;
  let attempt = 0;
  /** @type {ReturnType<typeof setTimeout>|null} */
  let retryTimer = null;
  /** @type {FloorState} */
  let state = "connecting";
  let floorLive = /** @type {boolean|null} */ (null);
  /** @type {Record<string, boolean>|null} */
  let channels = null;
  let video = false;

  const source = () => ui.source.value || null;
  const choice = () => ({ language: source(), floor: 0, audioOnly: !video });

  function render() {
    ui.floor.dataset.state = state;
    const hearing = relayHearing(source(), channels);
    ui.floor.dataset.hearing = hearing;
    let key = `interpreter.floor.${state}`;
    if (state === "listening" && floorLive === false) key = "interpreter.floor.paused";
    else if (state === "listening" && hearing === "relay") key = "interpreter.floor.relay";
    setText(ui.status, t(key, { language: names[source() || ""] || "" }));
    ui.note.hidden = hearing !== "fallback";
    setText(ui.note, hearing === "fallback" ? t("interpreter.source.fallback", { language: names[source() || ""] || "" }) : "");
    ui.videoToggle.setAttribute("aria-pressed", String(video));
    ui.video.hidden = !video;
  }

  /** @param {FloorState} next */
  function setState(next) {
    state = next;
    render();
  }

  /** @param {number} delay @param {() => void} then */
  function retryIn(delay, then) {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      then();
    }, delay);
  }

  /** Waits for the floor to be on air (the readout), then connects. */
  async function waitForAir() {
    const gen = generation;
    const b = await fetchBroadcast(broadcastUrl, token);
    if (gen !== generation) return;
    if (b && !b.live) {
      setState("waiting");
      retryIn(FLOOR_POLL_MS, waitForAir);
    } else connect();
  }

  /** A new connection; the current one (if any) stays until this one is granted. */
  async function connect() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    const gen = ++generation;
    if (!pc) setState(state === "waiting" ? "waiting" : "connecting");
    const servers = await iceServers();
    if (gen !== generation) return;
    const next = new RTCPeerConnection({ iceServers: servers });
    if (video) next.addTransceiver("video", { direction: "recvonly" });
    next.addTransceiver("audio", { direction: "recvonly" });
    const videoStream = new MediaStream();
    next.addEventListener("track", (ev) => {
      if (ev.track.kind === "audio") {
        ui.audio.srcObject = new MediaStream([ev.track]);
        play();
      } else {
        videoStream.addTrack(ev.track);
        ui.video.srcObject = videoStream;
        ui.video.play().catch(() => {});
      }
    });
    let result;
    try {
      result = await negotiate(whepUrl(endpoint, choice()), token, next);
    } catch (err) {
      next.close();
      if (gen === generation) failed(err);
      return;
    }
    if (gen !== generation) {
      hangUp(next, result.resource, token);
      return;
    }
    const old = pc;
    const oldResource = resource;
    pc = next;
    resource = result.resource;
    if (old) hangUp(old, oldResource, token);
    if (!video) ui.video.srcObject = null;
    watchConnection(next, {
      onConnected: () => {
        if (next !== pc) return;
        attempt = 0;
        setState("listening");
      },
      onLost: () => next === pc && lost(),
    });
  }

  /** @param {any} err */
  function failed(err) {
    if (err instanceof WhipError && err.fatal) {
      teardown();
      setState("unavailable");
      return;
    }
    if (pc) return; // the picture could not be added: the sound goes on as it was
    const notYet = err instanceof WhipError && err.status === 409;
    setState(notYet ? "waiting" : "reconnecting");
    retryIn(retryDelay(err, attempt++), waitForAir);
  }

  function lost() {
    teardown();
    setState("reconnecting");
    retryIn(retryDelay(null, attempt++), waitForAir);
  }

  /** @param {boolean} [keepalive] */
  function teardown(keepalive = false) {
    if (pc) hangUp(pc, resource, token, { keepalive });
    pc = null;
    resource = "";
  }

  function play() {
    ui.audio.play().then(() => {
      ui.soundOn.hidden = true;
    }).catch(() => {
      ui.soundOn.hidden = false; // autoplay refused until the interpreter clicks
    });
  }

  async function pollFloor() {
    const b = await fetchBroadcast(broadcastUrl, token);
    if (b) {
      floorLive = Boolean(b.live);
      if (b.channels && typeof b.channels === "object") channels = b.channels;
      render();
    }
    setTimeout(pollFloor, FLOOR_POLL_MS + Math.random() * FLOOR_POLL_MS / 2);
  }

  ui.source.addEventListener("change", () => {
    render();
    if (resource) sendChoice(resource, token, choice());
  });
  ui.volume.addEventListener("input", () => {
    ui.audio.volume = Number(ui.volume.value) / 100;
    ui.volume.setAttribute("aria-valuetext", `${ui.volume.value} %`);
  });
  ui.soundOn.addEventListener("click", () => play());
  ui.videoToggle.addEventListener("click", () => {
    video = !video;
    render();
    if (pc) connect(); // a connection with (or without) the video section replaces this one
  });

  return {
    start() {
      ui.audio.volume = Number(ui.volume.value) / 100;
      render();
      waitForAir();
      pollFloor();
    },
    /** Leaving the page. */
    stop() {
      generation++;
      if (retryTimer) clearTimeout(retryTimer);
      teardown(true);
    },
    /** The user touched the page: sound may start now if autoplay was refused. */
    gesture() {
      if (!ui.soundOn.hidden) play();
    },
    get live() {
      return floorLive;
    },
  };
}
