// Commands on their way to the server (docs/protocol.md, "Commands"): numbered with a `ref`, kept
// until the server answers, and sent again after a reconnect when the answer never came.
// No DOM and no socket: protocol.js's Connection hands it a function that sends a frame.

/**
 * @typedef {{type: string, [field: string]: any}} Message
 * @typedef {{cmd: Message, resolve: (ack: Message) => void, reject: (err: CommandError) => void,
 *            retried: boolean, sentAt: number}} OutboxEntry
 * @typedef {(msg: Message) => boolean} Transmit sends a frame; false when the socket cannot
 */

/** Commands that create something: a client_key makes a re-send after a reconnect harmless. */
export const KEYED_COMMANDS = Object.freeze(["AskQuestion", "CreatePoll", "PostCaption", "SendBoothMessage"]);

/** A command refused by the server (`Error` frame) or dropped by the client. */
export class CommandError extends Error {
  /**
   * @param {string} code server error code, or "closed" when the connection is gone for good
   * @param {string} [message]
   * @param {{ref?: string, retried?: boolean, command?: Message, retry_after?: number, limit?: number}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = "CommandError";
    this.code = code;
    this.ref = extra.ref;
    // True when the command had to be re-sent after a reconnect: a `conflict` then usually means
    // the first attempt went through before the connection dropped.
    this.retried = Boolean(extra.retried);
    this.command = extra.command;
    // What the server said to do (docs/protocol.md): seconds to wait, characters not to exceed.
    this.retry_after = extra.retry_after;
    this.limit = extra.limit;
  }
}

export class Outbox {
  /**
   * @param {() => number} random in [0, 1), for client keys
   * @param {() => number} [now] milliseconds, to tell how long a command has waited for its answer
   */
  constructor(random, now = Date.now) {
    this._random = random;
    this._now = now;
    this._refCounter = 0;
    /** @type {OutboxEntry[]} commands waiting for the next ready connection */
    this._waiting = [];
    /** @type {Map<string, OutboxEntry>} commands sent and not yet answered */
    this._inflight = new Map();
  }

  /** Number of commands waiting for the connection to return. */
  get queued() {
    return this._waiting.length;
  }

  /**
   * Numbers `command` (and gives a creating command its `client_key`), then sends it with
   * `transmit`, or keeps it for {@link flush} when `transmit` is null or fails.
   * @param {Message} command
   * @param {Transmit|null} transmit
   * @returns {Promise<Message>} settled by the server's answer
   */
  add(command, transmit) {
    const cmd = { ...command, ref: `c${++this._refCounter}` };
    if (KEYED_COMMANDS.includes(cmd.type) && !cmd.client_key) cmd.client_key = this._clientKey();
    return new Promise((resolve, reject) => {
      /** @type {OutboxEntry} */
      const entry = { cmd, resolve, reject, retried: false, sentAt: 0 };
      if (transmit) this._send(entry, transmit);
      else this._waiting.push(entry);
    });
  }

  /** Sends every waiting command, in order. @param {Transmit} transmit */
  flush(transmit) {
    const waiting = this._waiting;
    this._waiting = [];
    for (const entry of waiting) this._send(entry, transmit);
  }

  /**
   * Settles the command an `Ack` or `Error` answers.
   * @param {Message} msg
   * @param {CommandError|null} error
   * @returns {boolean} false when it answers no pending command
   */
  answer(msg, error) {
    const entry = typeof msg.ref === "string" ? this._inflight.get(msg.ref) : undefined;
    if (!entry) return false;
    this._inflight.delete(msg.ref);
    if (error) {
      error.retried = entry.retried;
      error.command = entry.cmd;
      entry.reject(error);
    } else {
      entry.resolve(msg);
    }
    return true;
  }

  /**
   * The connection dropped. Commands sent but not answered go back to the front, in their original
   * order: the server may never have seen them. Re-sending is safe for AskQuestion, CreatePoll,
   * PostCaption and SendBoothMessage (same client_key) and for votes and ballots (idempotent); another moderator command may come
   * back as `conflict` (e.g. a poll already opened), flagged `retried` so the pages stay quiet.
   */
  requeue() {
    const unanswered = [...this._inflight.values()];
    this._inflight.clear();
    for (const entry of unanswered) entry.retried = true;
    this._waiting = [...unanswered, ...this._waiting];
  }

  /** @returns {number|null} when the oldest command still waiting for its answer was sent */
  oldestUnanswered() {
    let oldest = null;
    for (const entry of this._inflight.values()) if (oldest === null || entry.sentAt < oldest) oldest = entry.sentAt;
    return oldest;
  }

  /** Rejects every pending command with `code`. @param {string} code */
  rejectAll(code) {
    const entries = [...this._inflight.values(), ...this._waiting];
    this._inflight.clear();
    this._waiting = [];
    for (const e of entries) e.reject(new CommandError(code, undefined, { ref: e.cmd.ref, command: e.cmd }));
  }

  /** @param {OutboxEntry} entry @param {Transmit} transmit */
  _send(entry, transmit) {
    entry.sentAt = this._now();
    this._inflight.set(entry.cmd.ref, entry);
    if (!transmit(entry.cmd)) {
      this._inflight.delete(entry.cmd.ref);
      this._waiting.push(entry);
    }
  }

  _clientKey() {
    let key = "k";
    for (let i = 0; i < 4; i++) key += Math.floor(this._random() * 2 ** 32).toString(36);
    return key + Date.now().toString(36);
  }
}
