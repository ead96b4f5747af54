// The programme's picture when remote guests are on air: where the room's camera and each guest go
// on the canvas the studio page publishes. Pure: no DOM, so node tests check the layouts.

/** @typedef {{x: number, y: number, w: number, h: number}} Rect */
/** @typedef {"side"|"pip"} Layout */

export const WIDTH = 1280;
export const HEIGHT = 720;
export const MAX_ON_AIR = 4; // guests composed at once: beyond, tiles get too small to read a face
const GAP = 8;
const PIP_SHARE = 0.3; // a picture-in-picture guest's width, as a share of the programme's

/**
 * The tiles of the programme: the room's first, then each guest's on air, in order.
 * "side": equal tiles side by side (two rows past three); "pip": the room full frame and the
 * guests small along the bottom right, over it.
 * @param {number} guests on air (0 to MAX_ON_AIR; more are left out)
 * @param {Layout} layout
 * @param {number} [width] @param {number} [height]
 * @returns {Rect[]}
 */
export function tiles(guests, layout, width = WIDTH, height = HEIGHT) {
  const n = Math.max(0, Math.min(MAX_ON_AIR, Math.floor(guests)));
  const full = { x: 0, y: 0, w: width, h: height };
  if (n === 0) return [full];
  if (layout === "pip") {
    const w = Math.round(width * PIP_SHARE);
    const h = Math.round((w * 9) / 16);
    const out = [full];
    for (let i = 0; i < n; i++) {
      const x = width - GAP - (i + 1) * w - i * GAP;
      out.push({ x: Math.max(0, x), y: height - GAP - h, w, h });
    }
    return out;
  }
  const count = n + 1;
  const columns = count <= 3 ? count : Math.ceil(count / 2);
  const rows = Math.ceil(count / columns);
  const w = Math.floor((width - GAP * (columns + 1)) / columns);
  const h = Math.min(Math.floor((height - GAP * (rows + 1)) / rows), Math.round((w * 9) / 16));
  const top = Math.round((height - rows * h - (rows - 1) * GAP) / 2);
  /** @type {Rect[]} */
  const out = [];
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / columns);
    const inRow = Math.min(columns, count - row * columns);
    const left = Math.round((width - inRow * w - (inRow - 1) * GAP) / 2); // a short last row is centred
    out.push({ x: left + (i % columns) * (w + GAP), y: top + row * (h + GAP), w, h });
  }
  return out;
}

/**
 * The part of a `sourceW`×`sourceH` picture to draw into `rect` so that it fills it without
 * distortion (cropping the edges that do not fit, centred).
 * @param {number} sourceW @param {number} sourceH @param {Rect} rect
 * @returns {{sx: number, sy: number, sw: number, sh: number}}
 */
export function cover(sourceW, sourceH, rect) {
  if (sourceW <= 0 || sourceH <= 0 || rect.w <= 0 || rect.h <= 0) return { sx: 0, sy: 0, sw: 0, sh: 0 };
  const want = rect.w / rect.h;
  if (sourceW / sourceH > want) {
    const sw = Math.round(sourceH * want);
    return { sx: Math.round((sourceW - sw) / 2), sy: 0, sw, sh: sourceH };
  }
  const sh = Math.round(sourceW / want);
  return { sx: 0, sy: Math.round((sourceH - sh) / 2), sw: sourceW, sh };
}

/**
 * The guests the studio composes, in the order they joined: those on air, at most MAX_ON_AIR.
 * @param {{id: string, status: string}[]} guests
 * @returns {string[]} their ids
 */
export function onAir(guests) {
  return guests.filter((g) => g.status === "on_air").slice(0, MAX_ON_AIR).map((g) => g.id);
}

/**
 * What a guest page shows: still checking their devices, waiting in the green room, on air, back
 * off air, or whether the room's return feed reaches them.
 * @param {string|undefined} status the guest's status in the session (undefined: not joined yet)
 * @returns {"check"|"waiting"|"on_air"|"off_air"}
 */
export function guestStage(status) {
  if (status === "on_air" || status === "off_air" || status === "waiting") return status;
  return "check";
}
