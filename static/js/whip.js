// WHIP (RFC 9725) and WHEP signalling for the studio and the player, and the statistics readouts.
// No DOM access: fetch, timers and the peer connection are passed in so node tests can fake them.
//
// One exchange: the client's offer is POSTed (application/sdp, Bearer token) once ICE gathering is
// complete or has run for `gatherTimeout`; the server answers 201 with its SDP answer, the
// `Location` of the session resource and `Link: <…>; rel="ice-server"` headers. Candidates found
// after the POST are sent by PATCH (application/trickle-ice-sdpfrag, RFC 8840). DELETE ends it.

export { receiverStats, senderStats } from "./rtcstats.js";

export const GATHER_TIMEOUT_MS = 2000;
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30000;

/** An HTTP answer other than the expected one (status 0: the request did not reach the server). */
export class WhipError extends Error {
  /**
   * @param {number} status
   * @param {number|null} retryAfter seconds the server asked to wait, if it said
   * @param {string} [detail]
   */
  constructor(status, retryAfter, detail = "") {
    super(status ? `HTTP ${status}${detail ? `: ${detail.slice(0, 200)}` : ""}` : `network error${detail ? `: ${detail}` : ""}`);
    this.name = "WhipError";
    this.status = status;
    this.retryAfter = retryAfter;
  }

  /** Retrying cannot help: bad token, wrong role, unknown or non-streamed session, bad request. */
  get fatal() {
    return [400, 401, 403, 404, 405, 415].includes(this.status);
  }
}

/**
 * `Retry-After` in seconds: a number of seconds or an HTTP date.
 * @param {string|null} value
 * @param {number} [now] ms
 * @returns {number|null}
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

/**
 * Splits a header value on `sep` outside `<…>` and quotes (fetch joins repeated headers with ", ").
 * @param {string} value @param {string} [sep] @returns {string[]}
 */
function splitHeader(value, sep = ",") {
  const parts = [];
  let current = "";
  let angle = false;
  let quoted = false;
  for (const ch of value) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === "<" && !quoted) angle = true;
    else if (ch === ">" && !quoted) angle = false;
    if (ch === sep && !angle && !quoted) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/**
 * ICE servers from `Link: <stun:…>; rel="ice-server"` headers (RFC 9725 section 4.6), with their
 * `username` and `credential` parameters when given.
 * @param {string|null} value
 * @returns {{urls: string, username?: string, credential?: string}[]}
 */
export function parseIceServers(value) {
  if (!value) return [];
  const servers = [];
  for (const link of splitHeader(value)) {
    const m = /^<([^>]*)>(.*)$/.exec(link);
    if (!m) continue;
    /** @type {Record<string, string>} */
    const params = {};
    for (const param of splitHeader(m[2], ";")) {
      const eq = param.indexOf("=");
      if (eq < 0) continue;
      const name = param.slice(0, eq).trim().toLowerCase();
      let val = param.slice(eq + 1).trim();
      if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1).replace(/\\(.)/g, "$1");
      params[name] = val;
    }
    if (!(params.rel || "").split(/\s+/).includes("ice-server")) continue;
    if (!/^(stun|stuns|turn|turns):/i.test(m[1])) continue;
    /** @type {{urls: string, username?: string, credential?: string}} */
    const server = { urls: m[1] };
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

/**
 * Where a page gets the ICE servers to create its peer connection with: GET `url` (the session's
 * `/ice-servers`), whose TURN credentials are minted for this token and expire after `ttl` seconds.
 * Kept for half that time, then asked again, so a page open all day never offers stale ones. On any
 * failure: none (the answer's `Link` headers still bring them), and asked again next time.
 * @param {string} url
 * @param {string} token Bearer token
 * @param {{fetch?: typeof fetch, now?: () => number}} [options] `now` in ms
 * @returns {() => Promise<{urls: string, username?: string, credential?: string}[]>}
 */
export function iceServerSource(url, token, options = {}) {
  const fetchImpl = options.fetch || globalThis.fetch.bind(globalThis);
  const now = options.now || (() => Date.now());
  /** @type {{urls: string, username?: string, credential?: string}[]} */
  let servers = [];
  let until = -Infinity;
  return async () => {
    if (now() < until) return servers;
    try {
      const response = await fetchImpl(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (!response.ok) return [];
      const body = await response.json();
      const list = Array.isArray(body && body.iceServers) ? body.iceServers : [];
      servers = list.filter((/** @type {any} */ s) => s && typeof s.urls === "string").map((/** @type {any} */ s) => {
        /** @type {{urls: string, username?: string, credential?: string}} */
        const server = { urls: s.urls };
        if (typeof s.username === "string") server.username = s.username;
        if (typeof s.credential === "string") server.credential = s.credential;
        return server;
      });
      const ttl = Number(body.ttl);
      until = now() + (Number.isFinite(ttl) && ttl > 0 ? ttl * 500 : 0);
      return servers;
    } catch {
      return [];
    }
  };
}

/**
 * Resolves when the connection has gathered all its candidates, or after `timeout` ms.
 * @param {any} pc RTCPeerConnection
 * @param {number} timeout
 * @param {{setTimeout?: (fn: () => void, ms: number) => any, clearTimeout?: (id: any) => void}} [timers]
 * @returns {Promise<boolean>} whether gathering completed
 */
export function waitForGathering(pc, timeout, timers = {}) {
  const set = timers.setTimeout || globalThis.setTimeout.bind(globalThis);
  const clear = timers.clearTimeout || globalThis.clearTimeout.bind(globalThis);
  if (pc.iceGatheringState === "complete") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (/** @type {boolean} */ complete) => {
      clear(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve(complete);
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done(true);
    };
    const timer = set(() => done(false), timeout);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/** @param {string} sdp @returns {Set<string>} the `candidate:` attributes of an SDP */
function sdpCandidates(sdp) {
  return new Set([...sdp.matchAll(/^a=(candidate:.*?)\s*$/gm)].map((m) => m[1]));
}

/**
 * A trickle-ICE SDP fragment (RFC 8840) for candidates gathered after the offer was sent.
 * @param {string} offerSdp the offer that was sent (for ice-ufrag, ice-pwd and the mids)
 * @param {{candidate: string, sdpMid: string|null}[]} candidates
 * @param {boolean} end whether gathering is complete (adds `a=end-of-candidates`)
 * @returns {string}
 */
export function sdpFragment(offerSdp, candidates, end) {
  const ufrag = /^a=ice-ufrag:(.*?)\s*$/m.exec(offerSdp);
  const pwd = /^a=ice-pwd:(.*?)\s*$/m.exec(offerSdp);
  const mids = [...offerSdp.matchAll(/^a=mid:(.*?)\s*$/gm)].map((m) => m[1]);
  const lines = [];
  if (ufrag) lines.push(`a=ice-ufrag:${ufrag[1]}`);
  if (pwd) lines.push(`a=ice-pwd:${pwd[1]}`);
  // Bundled: every candidate belongs to the first media section unless it says otherwise.
  const first = mids[0] ?? "0";
  /** @type {Map<string, string[]>} */
  const byMid = new Map();
  for (const c of candidates) {
    const mid = c.sdpMid ?? first;
    if (!byMid.has(mid)) byMid.set(mid, []);
    byMid.get(mid)?.push(c.candidate.startsWith("a=") ? c.candidate : `a=${c.candidate}`);
  }
  if (end && !byMid.size) byMid.set(first, []);
  for (const [mid, list] of byMid) {
    lines.push("m=audio 9 UDP/TLS/RTP/SAVPF 0", `a=mid:${mid}`, ...list);
    if (end) lines.push("a=end-of-candidates");
  }
  return lines.join("\r\n") + "\r\n";
}

/**
 * Offers, POSTs, applies the answer. The peer connection must already have its transceivers.
 * Candidates gathered after the POST are sent by PATCH (errors there are ignored: the ones in
 * the offer usually suffice).
 * @param {string} url absolute WHIP or WHEP endpoint
 * @param {string} token Bearer token
 * @param {any} pc RTCPeerConnection
 * @param {object} [options]
 * @param {typeof fetch} [options.fetch]
 * @param {number} [options.gatherTimeout] ms to wait for ICE gathering before sending the offer
 * @param {(fn: () => void, ms: number) => any} [options.setTimeout]
 * @param {(id: any) => void} [options.clearTimeout]
 * @returns {Promise<{resource: string, iceServers: {urls: string, username?: string, credential?: string}[], etag: string|null}>}
 */
export async function negotiate(url, token, pc, options = {}) {
  const fetchImpl = options.fetch || globalThis.fetch.bind(globalThis);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  // Candidates found after the POST: kept until the resource is known, then PATCHed.
  /** @type {{candidate: string, sdpMid: string|null}[]} */
  const late = [];
  let ended = false;
  let collecting = false;
  /** @type {null | (() => void)} */
  let flush = null;
  const onCandidate = (/** @type {any} */ ev) => {
    if (!collecting) return;
    if (!ev.candidate || !ev.candidate.candidate) ended = true;
    else late.push({ candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid ?? null });
    if (flush) flush();
  };
  pc.addEventListener("icecandidate", onCandidate);
  const complete = await waitForGathering(pc, options.gatherTimeout ?? GATHER_TIMEOUT_MS, options);
  const sdp = pc.localDescription ? pc.localDescription.sdp : offer.sdp;
  const sent = sdpCandidates(sdp);
  collecting = !complete;
  if (complete) pc.removeEventListener("icecandidate", onCandidate);

  let response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` },
      body: sdp,
    });
  } catch (err) {
    pc.removeEventListener("icecandidate", onCandidate);
    throw new WhipError(0, null, String(/** @type {any} */ (err)?.message || err));
  }
  if (response.status !== 201 && response.status !== 200) {
    pc.removeEventListener("icecandidate", onCandidate);
    const text = await response.text().catch(() => "");
    throw new WhipError(response.status, parseRetryAfter(response.headers.get("Retry-After")), text);
  }
  const answer = await response.text();
  const where = response.headers.get("Location");
  const resource = where ? new URL(where, url).href : "";
  const etag = response.headers.get("ETag");
  const iceServers = parseIceServers(response.headers.get("Link"));
  try {
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
  } catch (err) {
    pc.removeEventListener("icecandidate", onCandidate);
    if (resource) await stop(resource, token, { fetch: fetchImpl });
    throw err;
  }
  if (iceServers.length && typeof pc.setConfiguration === "function") {
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch {
      /* kept for the next connection */
    }
  }
  if (collecting && resource) {
    let sending = false;
    flush = () => {
      if (sending) return;
      const batch = late.splice(0).filter((c) => !sent.has(c.candidate.replace(/^a=/, "")));
      const last = ended;
      if (!batch.length && !last) return;
      if (last) pc.removeEventListener("icecandidate", onCandidate);
      sending = true;
      /** @type {Record<string, string>} */
      const headers = { "Content-Type": "application/trickle-ice-sdpfrag", Authorization: `Bearer ${token}` };
      if (etag) headers["If-Match"] = etag;
      fetchImpl(resource, { method: "PATCH", headers, body: sdpFragment(sdp, batch, last) })
        .catch(() => {})
        .finally(() => {
          sending = false;
          if (!last && (late.length || ended) && flush) flush();
        });
    };
    flush();
  } else pc.removeEventListener("icecandidate", onCandidate);
  return { resource, iceServers, etag };
}

/**
 * Ends a WHIP/WHEP session (DELETE). Network errors are ignored: the server also notices the
 * connection going away.
 * @param {string} resource
 * @param {string} token
 * @param {{fetch?: typeof fetch, keepalive?: boolean}} [options] `keepalive`: survives the page
 *   unloading (sendBeacon cannot DELETE)
 * @returns {Promise<number>} the HTTP status, 0 when the request failed
 */
export async function stop(resource, token, options = {}) {
  if (!resource) return 0;
  const fetchImpl = options.fetch || globalThis.fetch.bind(globalThis);
  try {
    const response = await fetchImpl(resource, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${token}` },
      keepalive: Boolean(options.keepalive),
    });
    return response.status;
  } catch {
    return 0;
  }
}

/**
 * Whether the server ended the connection itself (its DTLS close alert): its resource is gone, so
 * a DELETE would only get a 404 (which browsers log as an error).
 * @param {any} pc
 * @returns {boolean}
 */
export function remoteClosed(pc) {
  const parts = [...pc.getSenders(), ...pc.getReceivers()];
  return parts.some((p) => p.transport && p.transport.state === "closed");
}

/**
 * Watches a session's peer connection: `onConnected` on each (re)connection, `onLost` once when it
 * is gone for good: failed or closed, "disconnected" for longer than `graceMs` (it often recovers by
 * itself), or its DTLS transport closed (a server that ends the session leaves Chrome's
 * connectionState at "connected"; only the transport's state shows it).
 * @param {any} pc
 * @param {{onLost: () => void, onConnected?: () => void, graceMs?: number, timers?: any}} handlers
 */
export function watchConnection(pc, { onLost, onConnected = () => {}, graceMs = 5000, timers = globalThis }) {
  let grace = /** @type {any} */ (null);
  let gone = false;
  const lose = () => {
    if (grace) timers.clearTimeout(grace);
    grace = null;
    if (gone) return;
    gone = true;
    onLost();
  };
  pc.addEventListener("connectionstatechange", () => {
    const s = pc.connectionState;
    if (s === "failed" || s === "closed") lose();
    else if (s === "disconnected") {
      if (!grace) grace = timers.setTimeout(() => {
        grace = null;
        if (pc.connectionState === "disconnected") lose();
      }, graceMs);
    } else {
      if (grace) timers.clearTimeout(grace);
      grace = null;
      if (s === "connected" && !gone) onConnected();
    }
  });
  const transport = [...pc.getSenders(), ...pc.getReceivers()].find((p) => p.transport)?.transport;
  if (transport) transport.addEventListener("statechange", () => {
    if (transport.state === "closed" || transport.state === "failed") lose();
  });
}

/**
 * Ends a session from the client side: DELETE first, then close the peer connection (closed first,
 * the server would drop the resource on its own and answer the DELETE with a 404). Unloading
 * (`keepalive`), it does not wait for the answer.
 * @param {any} pc
 * @param {string} resource
 * @param {string} token
 * @param {{fetch?: typeof fetch, keepalive?: boolean}} [options]
 */
export async function hangUp(pc, resource, token, options = {}) {
  if (resource && pc.connectionState !== "closed" && !remoteClosed(pc)) {
    const deleted = stop(resource, token, options);
    if (!options.keepalive) await deleted;
  }
  pc.close();
}

/**
 * Delay before retry `attempt` (0-based): 1 s doubling to 30 s, "equal jitter" (half fixed, half
 * random) so hundreds of viewers do not come back in the same second.
 * @param {number} attempt
 * @param {() => number} [random]
 * @returns {number} ms
 */
export function backoffDelay(attempt, random = Math.random) {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Delay before retrying after `err`: what the server asked (Retry-After) plus up to a quarter more
 * (at least 0.5 s) of jitter, else the backoff.
 * @param {any} err
 * @param {number} attempt
 * @param {() => number} [random]
 * @returns {number} ms
 */
export function retryDelay(err, attempt, random = Math.random) {
  const after = err && typeof err.retryAfter === "number" ? err.retryAfter : null;
  if (after === null) return backoffDelay(attempt, random);
  const base = Math.min(after * 1000, 5 * 60 * 1000);
  return Math.round(base + random() * Math.max(500, base / 4));
}

/**
 * Codec preferences for a video transceiver: VP8, then H.264 (Constrained Baseline, packetization
 * mode 1 first), then the repair formats (rtx, red, ulpfec); the codecs the relay cannot forward
 * (VP9, AV1, H.265) are left out.
 * @template {{mimeType: string, sdpFmtpLine?: string}} C
 * @param {C[]} codecs from RTCRtpSender/Receiver.getCapabilities("video")
 * @returns {C[]}
 */
export function preferredVideoCodecs(codecs) {
  const rank = (/** @type {C} */ c) => {
    const mime = c.mimeType.toLowerCase();
    const fmtp = c.sdpFmtpLine || "";
    if (mime === "video/vp8") return 0;
    if (mime === "video/h264") {
      const baseline = /profile-level-id=42e0/i.test(fmtp) ? 0 : /profile-level-id=4200/i.test(fmtp) ? 1 : 2;
      return 1 + baseline * 0.1 + (/packetization-mode=1/.test(fmtp) ? 0 : 0.05);
    }
    if (["video/rtx", "video/red", "video/ulpfec"].includes(mime)) return 5;
    return -1;
  };
  return codecs
    .map((c, i) => ({ c, r: rank(c), i }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.c);
}
