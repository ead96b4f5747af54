// The countdown the moderators set for the speaker: what is left, as the stage and the console
// show it. Pure: the clock is passed in.

/**
 * @param {{ends_at: number}|null|undefined} timer
 * @param {number} now ms since the epoch
 * @returns {{text: string, over: boolean}|null} "m:ss" left, or how long over ("+m:ss")
 */
export function timeLeft(timer, now) {
  if (!timer || typeof timer.ends_at !== "number") return null;
  const left = Math.round((timer.ends_at - now) / 1000);
  const over = left < 0;
  const s = Math.abs(left);
  const text = `${over ? "+" : ""}${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  return { text, over };
}
