// WebSocket client for the tribune protocol v1 (docs/protocol.md).
// No DOM access: the WebSocket constructor and the timers are injected so node tests can fake them.
// The commands waiting for an answer are kept by outbox.js.

import { CommandError, Outbox } from "./outbox.js";

export { CommandError };

/**
 * @typedef {{id: string, key: string}} ParticipantIdentity
 * @typedef {import("./outbox.js").Message} Message
 * @typedef {"idle"|"connecting"|"open"|"offline"|"fatal"} ConnectionStatus
 *
 * @typedef {object} ConnectionOptions
 * @property {string} url WebSocket URL (`ws(s)://host/ws/sessions/{id}`)
 * @property {string} token link token sent in `Hello`
 * @property {() => (ParticipantIdentity|null)} [getParticipant] identity from an earlier visit
 * @property {(p: ParticipantIdentity) => void} [setParticipant] stores the identity `Welcome` issued
 * @property {any} [WebSocketImpl] defaults to the global WebSocket
 * @property {(fn: () => void, ms: number) => any} [setTimeout]
 * @property {(id: any) => void} [clearTimeout]
 * @property {() => number} [random] in [0, 1), for the backoff jitter and client keys
 * @property {number} [pingInterval] ms of silence before a `Ping` (default 25 s)
 * @property {number} [pongTimeout] ms to wait for any frame after a `Ping` (default 10 s)
 * @property {number} [answerTimeout] ms a command may wait for its answer before the socket is
 *   checked with a `Ping` (default 5 s)
 * @property {number} [probeTimeout] ms to wait for any frame after such a check, or after the
 *   browser reported the network gone (default 5 s)
 * @property {number} [connectTimeout] ms from opening a socket to the server's first frame (default 10 s)
 * @property {() => number} [now] milliseconds (defaults to Date.now)
 */

export const PROTOCOL_VERSION = 1;
/**
 * Close codes after which reconnecting is pointless (bad token, version, unknown session, public
 * link switched off).
 */
export const FATAL_CODES = Object.freeze([4001, 4003, 4004, 4005]);
/**
 * Close codes refusing a participant identity for now (too many new ones from this network, or a
 * ban holds its address): worth saying, then reconnecting with the usual backoff.
 */
export const REFUSED_CODES = Object.freeze([4029, 4030]);
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 15000;
// Code used locally when the client gives up on a silent socket (never sent by the server).
const LOCAL_TIMEOUT_CODE = 4900;
const OPEN = 1;

const noop = () => {};

/**
 * Backoff delay before reconnect attempt `attempt` (0-based): 0.5 s doubling up to 15 s, with
 * "equal jitter" (half fixed, half random) so a room full of clients does not reconnect in lockstep.
 * @param {number} attempt
 * @param {() => number} random
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, random) {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export class Connection {
  /** @param {ConnectionOptions} options */
  constructor(options) {
    this.url = options.url;
    this.token = options.token;
    this._getParticipant = options.getParticipant || (() => null);
    this._setParticipant = options.setParticipant || noop;
    this._WebSocket = options.WebSocketImpl || globalThis.WebSocket;
    this._setTimeout = options.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms));
    this._clearTimeout = options.clearTimeout || ((id) => globalThis.clearTimeout(id));
    this._random = options.random || Math.random;
    this._now = options.now || Date.now;
    this.pingInterval = options.pingInterval ?? 25000;
    this.pongTimeout = options.pongTimeout ?? 10000;
    this.answerTimeout = options.answerTimeout ?? 5000;
    this.probeTimeout = options.probeTimeout ?? 5000;
    this.connectTimeout = options.connectTimeout ?? 10000;

    /** @type {string|null} */ this.epoch = null;
    /** @type {number|null} */ this.seq = null;
    /** @type {ConnectionStatus} */ this.status = "idle";
    /** @type {Message|null} */ this.welcome = null;

    this._ws = null;
    this._ready = false; // Welcome and Snapshot/Resumed received on the current socket
    this._stopped = false;
    this._attempt = 0;
    this._commands = new Outbox(this._random, this._now);
    /** Sends a command frame, and watches that its answer comes. @param {Message} msg */
    this._transmit = (msg) => {
      const sent = this._raw(msg);
      if (sent) this._watchAnswers();
      return sent;
    };
    this._reconnectTimer = null;
    this._idleTimer = null;
    this._pongTimer = null;
    this._pongDeadline = 0;
    this._answerTimer = null;
    this._connectTimer = null;

    /** @type {(welcome: Message) => void} */ this.onwelcome = noop;
    /** @type {(state: object|null, resumed: boolean, msg: Message) => void} */ this.onsnapshot = noop;
    /** @type {(msg: Message) => void} */ this.onevent = noop;
    /** @type {(msg: Message) => void} */ this.ontally = noop;
    /** @type {(msg: Message) => void} */ this.onpresence = noop;
    /** @type {(msg: Message) => void} */ this.onbroadcast = noop; // the studio went on air, or ended
    /** @type {(status: ConnectionStatus) => void} */ this.onstatus = noop;
    /** @type {(code: number) => void} */ this.onfatal = noop;
    /** @type {(code: number) => void} */ this.onrefused = noop;
    /** Errors that answer no pending command (no or unknown `ref`). @type {(msg: Message) => void} */
    this.onerror = noop;
  }

  /** Opens the connection (call once; it then reconnects by itself). */
  connect() {
    this._stopped = false;
    if (!this._ws && this.status !== "fatal") this._open();
  }

  /** Closes for good: no reconnect; pending commands are rejected with code "closed". */
  close() {
    this._stopped = true;
    this._clearTimers(true);
    const ws = this._ws;
    this._detach();
    if (ws) safeClose(ws, 1000);
    this._commands.rejectAll("closed");
    this._setStatus("offline");
  }

  /**
   * Skips the backoff wait (e.g. when the browser reports it is back online). An attempt still
   * waiting for its handshake, likely started while the network was gone, is started over.
   */
  reconnectNow() {
    if (this._stopped || this.status === "fatal" || this._ready) return;
    const ws = this._ws;
    if (ws) {
      this._detach();
      safeClose(ws, 1000);
    }
    this._clearTimers(true);
    this._attempt = 0;
    this._open();
  }

  /**
   * The browser reports the network gone (`offline` event): say so at once, and check the socket
   * with a `Ping`. It may survive (a short Wi-Fi hand-over): any frame within `probeTimeout` shows
   * it open again; otherwise it is dropped and the usual reconnection takes over.
   */
  networkLost() {
    if (this._stopped || this.status === "fatal") return;
    this._setStatus("offline");
    if (this._ready) this._probe(this.probeTimeout);
  }

  /** Number of commands waiting for the connection to return. */
  get queued() {
    return this._commands.queued;
  }

  /**
   * Sends a command now, or after the next Welcome+state when disconnected.
   * An `AskQuestion` or `CreatePoll` gets a `client_key` if it has none, kept across re-sends so
   * the server accepts it once.
   * @param {Message} command e.g. `{type: "UpvoteQuestion", question_id: "q_1"}`
   * @returns {Promise<Message>} resolves with the `Ack`, rejects with a {@link CommandError}
   */
  send(command) {
    if (this._stopped || this.status === "fatal") {
      return Promise.reject(new CommandError("closed", undefined, { command }));
    }
    return this._commands.add(command, this._ready ? this._transmit : null);
  }

  // --- internals -------------------------------------------------------------------------------

  _open() {
    this._reconnectTimer = null;
    this._ready = false;
    this.welcome = null;
    this._setStatus("connecting");
    let ws;
    try {
      ws = new this._WebSocket(this.url);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    // A socket that brings no frame at all (packets silently dropped) counts as a failed attempt.
    // Once the server answered, a slow Snapshot on a congested network is left to arrive.
    this._connectTimer = this._setTimeout(() => {
      this._connectTimer = null;
      if (this._ws === ws && !this._ready) this._dropSilent();
    }, this.connectTimeout);
    ws.onopen = () => {
      if (this._ws === ws) this._sendHello();
    };
    ws.onmessage = (ev) => {
      if (this._ws === ws) this._receive(ev.data);
    };
    ws.onclose = (ev) => {
      if (this._ws === ws) this._closed(ev && typeof ev.code === "number" ? ev.code : 1006);
    };
    ws.onerror = noop; // a close event always follows
  }

  _sendHello() {
    /** @type {Message} */
    const hello = { type: "Hello", v: PROTOCOL_VERSION, token: this.token };
    const participant = this._getParticipant();
    if (participant && participant.id && participant.key) {
      hello.participant = { id: participant.id, key: participant.key };
    }
    if (this.epoch !== null && this.seq !== null) hello.resume = { epoch: this.epoch, seq: this.seq };
    this._raw(hello);
  }

  /** @param {unknown} data */
  _receive(data) {
    if (typeof data !== "string") return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
    this._heardFrom();
    switch (msg.type) {
      case "Welcome":
        this.welcome = msg;
        if (msg.participant) this._setParticipant(msg.participant);
        this.onwelcome(msg);
        return;
      case "Snapshot":
        this.epoch = msg.epoch ?? null;
        this.seq = typeof msg.seq === "number" ? msg.seq : null;
        this.onsnapshot(msg.state, false, msg);
        this._becameReady();
        return;
      case "Resumed":
        // Keep our own seq: the missed events follow and advance it one by one, so a drop in the
        // middle of the replay resumes from the last event really applied.
        this.epoch = msg.epoch ?? this.epoch;
        this.onsnapshot(null, true, msg);
        this._becameReady();
        return;
      case "Tally":
        // The server sends a tally after every event up to its seq: resume from there (this keeps
        // passive clients, who see few events, resumable).
        if (this.seq !== null && typeof msg.seq === "number" && msg.seq > this.seq) this.seq = msg.seq;
        this.ontally(msg);
        return;
      case "Presence":
        this.onpresence(msg);
        return;
      case "Broadcast":
        if (typeof msg.live === "boolean") this.onbroadcast(msg);
        return;
      case "Ack":
        this._commands.answer(msg, null);
        return;
      case "Error":
        // An error that answers no pending command (no or unknown `ref`) goes to onerror.
        if (!this._commands.answer(msg, new CommandError(String(msg.code || "error"), msg.message, { ref: msg.ref, retry_after: msg.retry_after, limit: msg.limit }))) {
          this.onerror(msg);
        }
        return;
      case "Pong":
        return;
      default:
        if (typeof msg.seq === "number") {
          // A replay may overlap what we already applied.
          if (this.seq !== null && msg.seq <= this.seq) return;
          this.seq = msg.seq;
          this.onevent(msg);
        }
    }
  }

  _becameReady() {
    if (this._ready) return;
    this._ready = true;
    this._attempt = 0;
    this._setStatus("open");
    this._commands.flush(this._transmit);
  }

  /** @param {Message} msg @returns {boolean} whether the frame was handed to the socket */
  _raw(msg) {
    const ws = this._ws;
    if (!ws || (typeof ws.readyState === "number" && ws.readyState !== OPEN)) return false;
    try {
      ws.send(JSON.stringify(msg));
    } catch {
      return false;
    }
    this._armIdle();
    return true;
  }

  /** @param {number} code */
  _closed(code) {
    this._detach();
    this._clearTimers(false);
    // Unanswered commands are sent again on the next connection (see Outbox.requeue).
    this._commands.requeue();
    if (this._stopped) return;
    if (FATAL_CODES.includes(code)) {
      this._setStatus("fatal");
      this._commands.rejectAll("closed");
      this.onfatal(code);
      return;
    }
    this._setStatus("offline");
    if (REFUSED_CODES.includes(code)) this.onrefused(code);
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    if (this._stopped) return;
    this._setStatus("offline");
    const delay = backoffDelay(this._attempt++, this._random);
    this._reconnectTimer = this._setTimeout(() => this._open(), delay);
  }

  _detach() {
    const ws = this._ws;
    if (ws) ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    this._ws = null;
    this._ready = false;
  }

  // Liveness: after `pingInterval` of silence send a Ping; if nothing at all comes back within
  // `pongTimeout`, the socket is half-open (typical on venue Wi-Fi): drop it and reconnect.
  // A command left without an answer for `answerTimeout` is a quicker sign: the socket is then
  // checked the same way, with `probeTimeout`. The outbox re-sends it on the next connection.
  _armIdle() {
    if (this._idleTimer !== null) this._clearTimeout(this._idleTimer);
    this._idleTimer = this._setTimeout(() => {
      this._idleTimer = null;
      if (this._ready) this._probe(this.pongTimeout);
    }, this.pingInterval);
  }

  /**
   * Sends a Ping; unless some frame arrives within `timeout` ms, the socket is taken for dead.
   * @param {number} timeout
   */
  _probe(timeout) {
    this._raw({ type: "Ping" });
    const deadline = this._now() + timeout;
    if (this._pongTimer !== null) {
      if (this._pongDeadline <= deadline) return; // an earlier verdict is already due
      this._clearTimeout(this._pongTimer);
    }
    this._pongDeadline = deadline;
    this._pongTimer = this._setTimeout(() => {
      this._pongTimer = null;
      this._dropSilent();
    }, timeout);
  }

  /**
   * Watches the commands in flight: one unanswered for `answerTimeout` triggers a probe.
   * @param {number} [delay] ms to the next check (default: when the oldest one is due)
   */
  _watchAnswers(delay) {
    if (this._answerTimer !== null) return;
    const oldest = this._commands.oldestUnanswered();
    if (oldest === null) return;
    const wait = delay ?? Math.max(0, oldest + this.answerTimeout - this._now());
    this._answerTimer = this._setTimeout(() => {
      this._answerTimer = null;
      if (!this._ready) return;
      const first = this._commands.oldestUnanswered();
      if (first === null) return;
      const late = this._now() - first >= this.answerTimeout;
      if (late) this._probe(this.probeTimeout);
      // Still waiting after a probe the socket survived: check again later, not at once.
      this._watchAnswers(late ? this.answerTimeout : undefined);
    }, wait);
  }

  /** Gives up on a socket that stays silent: closes it and reconnects. */
  _dropSilent() {
    const ws = this._ws;
    if (!ws) return;
    this._detach();
    safeClose(ws, 1000);
    this._closed(LOCAL_TIMEOUT_CODE);
  }

  _heardFrom() {
    for (const name of ["_pongTimer", "_connectTimer"]) {
      const id = /** @type {any} */ (this)[name];
      if (id !== null) this._clearTimeout(id);
      /** @type {any} */ (this)[name] = null;
    }
    // Shown offline on the browser's word (networkLost), but the socket answered.
    if (this._ready && this.status === "offline") this._setStatus("open");
    this._armIdle();
  }

  /** @param {boolean} includingReconnect */
  _clearTimers(includingReconnect) {
    const names = ["_idleTimer", "_pongTimer", "_answerTimer", "_connectTimer"];
    for (const name of [...names, ...(includingReconnect ? ["_reconnectTimer"] : [])]) {
      const id = /** @type {any} */ (this)[name];
      if (id !== null) this._clearTimeout(id);
      /** @type {any} */ (this)[name] = null;
    }
  }

  /** @param {ConnectionStatus} status */
  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onstatus(status);
  }
}

/** @param {any} ws @param {number} code */
function safeClose(ws, code) {
  try {
    ws.close(code);
  } catch {
    /* already closed */
  }
}
