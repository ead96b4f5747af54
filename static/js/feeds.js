// One WHEP player or WHIP publisher that keeps itself connected: the remote guests' pages, the
// studio's guest panel and the clean feed page use them for the guests' feeds, the programme and
// the return feed. A feed not on air yet (409) is retried when the server says; a connection lost
// is made again with backoff. No DOM access: the peer connection class is passed in.

import { WhipError, hangUp, negotiate, retryDelay, watchConnection } from "./whip.js";

/** @typedef {"connecting"|"waiting"|"live"|"lost"|"refused"|"stopped"} FeedState */

/**
 * @typedef {object} FeedOptions
 * @property {() => Promise<any[]>} iceServers fresh TURN credentials for each connection
 * @property {(state: FeedState, detail?: any) => void} [onState]
 * @property {(stream: MediaStream) => void} [onStream] a player's stream, once per connection
 * @property {("audio"|"video")[]} [kinds] what a player receives (default both)
 * @property {() => MediaStream|null} [media] what a publisher sends (its tracks, each time)
 * @property {any} [RTCPeerConnection] defaults to the global one
 * @property {() => any} [newStream] defaults to `new MediaStream()`
 * @property {string} [readout] a player's: the feed's readout (JSON `{live}`), asked every
 *   `pollMs` until it is on air, rather than asking for the feed before (a 409, a console error)
 * @property {number} [pollMs] default 1000
 */

/**
 * Keeps a connection to `url` (a WHEP endpoint, or a WHIP one when `options.media` is given) until
 * `stop()`.
 * @param {string} url absolute, or relative to the page @param {string} token @param {FeedOptions} options
 * @returns {{stop: () => void, connection: () => RTCPeerConnection|null, sender: (kind: string) => RTCRtpSender|null}}
 */
export function keepFeed(url, token, options) {
  const page = globalThis.location ? globalThis.location.href : undefined;
  const endpoint = new URL(url, page).href;
  const readout = options.readout ? new URL(options.readout, page).href : null;
  const PC = options.RTCPeerConnection || globalThis.RTCPeerConnection;
  const onState = options.onState || (() => {});
  const publishing = Boolean(options.media);
  let stopped = false;
  let attempt = 0;
  /** @type {any} */
  let pc = null;
  let resource = "";
  /** @type {any} */
  let timer = null;

  const retry = (/** @type {number} */ ms) => {
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, ms);
  };

  /** @returns {Promise<boolean|null>} on air, or null when the readout refuses this token */
  async function onAirNow() {
    try {
      const response = await fetch(/** @type {string} */ (readout), { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if ([401, 403, 404].includes(response.status)) return null;
      return response.ok ? Boolean((await response.json()).live) : false;
    } catch {
      return false;
    }
  }

  async function connect() {
    if (stopped) return;
    if (readout) {
      const live = await onAirNow();
      if (stopped) return;
      if (live === null) {
        onState("refused");
        return;
      }
      if (!live) {
        onState("waiting");
        retry(options.pollMs ?? 1000);
        return;
      }
    }
    onState("connecting");
    const servers = await options.iceServers().catch(() => []);
    if (stopped) return;
    const conn = new PC({ iceServers: servers, bundlePolicy: "max-bundle" });
    if (publishing) {
      const media = /** @type {() => MediaStream|null} */ (options.media)();
      const tracks = media ? media.getTracks() : [];
      if (!tracks.length) {
        conn.close();
        onState("waiting");
        retry(1000);
        return;
      }
      for (const track of tracks) conn.addTransceiver(track, { direction: "sendonly", streams: [media] });
    } else {
      const stream = options.newStream ? options.newStream() : new MediaStream();
      for (const kind of options.kinds || ["video", "audio"]) conn.addTransceiver(kind, { direction: "recvonly" });
      conn.addEventListener("track", (/** @type {any} */ ev) => {
        stream.addTrack(ev.track);
        if (options.onStream) options.onStream(stream);
      });
    }
    let result;
    try {
      result = await negotiate(endpoint, token, conn);
    } catch (err) {
      conn.close();
      if (stopped) return;
      if (err instanceof WhipError && err.fatal) {
        onState("refused", err.status);
        return;
      }
      onState(err instanceof WhipError && err.status === 409 ? "waiting" : "lost");
      retry(retryDelay(err, attempt++));
      return;
    }
    if (stopped) {
      hangUp(conn, result.resource, token);
      return;
    }
    pc = conn;
    resource = result.resource;
    watchConnection(conn, {
      onConnected: () => {
        if (conn !== pc) return;
        attempt = 0;
        onState("live");
      },
      onLost: () => {
        if (conn !== pc) return;
        conn.close(); // no DELETE: a drop, not an end (the server frees it by itself)
        pc = null;
        onState("lost");
        retry(retryDelay(null, attempt++));
      },
    });
  }

  connect();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      if (pc) hangUp(pc, resource, token);
      pc = null;
      onState("stopped");
    },
    connection: () => pc,
    sender(kind) {
      const t = pc && pc.getTransceivers().find((/** @type {any} */ tr) => tr.sender.track && tr.sender.track.kind === kind);
      return t ? t.sender : null;
    },
  };
}
