// Statistics readouts: RTCStatsReport entries (a Map, or an array in tests) turned into plain
// numbers for the player and the studio. No DOM access. Re-exported by whip.js.

/**
 * @typedef {object} Readout
 * @property {number} timestamp ms of the sample
 * @property {number|null} width
 * @property {number|null} height
 * @property {number|null} fps
 * @property {number|null} kbps video and audio together, from the byte counters since `prev`
 * @property {number} bytes video and audio bytes so far (for the next delta)
 * @property {number|null} packetsLost
 * @property {number|null} lossPercent
 * @property {number|null} rttMs
 * @property {number|null} jitterBufferMs receivers only
 * @property {number|null} latencyMs receivers only: jitter buffer + half the round trip
 * @property {number} frames frames decoded (receivers) or encoded (senders) so far; for a
 *   receiver without video (audio only), the audio packets received: what shows it is playing
 * @property {string|null} codec e.g. "VP8"
 * @property {string|null} limitation senders only: qualityLimitationReason when not "none"
 * @property {{delay: number, count: number}} jitter cumulative counters (for the next delta)
 */

/** @param {any} report RTCStatsReport (a Map) or an array of stats @returns {any[]} */
function entries(report) {
  if (!report) return [];
  if (Array.isArray(report)) return report;
  if (typeof report.values === "function") return [...report.values()];
  return Object.values(report);
}

/** @param {any[]} stats @returns {number|null} the selected candidate pair's round trip, ms */
function pairRtt(stats) {
  const byId = new Map(stats.map((s) => [s.id, s]));
  const transport = stats.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  let pair = transport ? byId.get(transport.selectedCandidatePairId) : null;
  if (!pair) pair = stats.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
  if (pair && typeof pair.currentRoundTripTime === "number") return pair.currentRoundTripTime * 1000;
  return null;
}

/** @param {any[]} stats @param {any} rtp @returns {string|null} */
function codecOf(stats, rtp) {
  const codec = rtp && rtp.codecId ? stats.find((s) => s.id === rtp.codecId) : null;
  return codec && codec.mimeType ? codec.mimeType.replace(/^[a-z]+\//i, "") : null;
}

/** @param {number|null|undefined} v @param {number} [digits] */
const round = (v, digits = 0) => (typeof v === "number" && Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/**
 * @param {number} bytes @param {number} timestamp @param {Readout|null|undefined} prev
 * @returns {number|null} kbit/s since `prev`
 */
function rate(bytes, timestamp, prev) {
  if (!prev || timestamp <= prev.timestamp || bytes < prev.bytes) return null;
  return round(((bytes - prev.bytes) * 8) / (timestamp - prev.timestamp), 0);
}

/**
 * What a viewer receives, from `pc.getStats()` (or the video receiver's).
 * @param {any} report
 * @param {Readout|null} [prev] the previous readout, for rates and the recent jitter buffer delay
 * @returns {Readout}
 */
export function receiverStats(report, prev = null) {
  const stats = entries(report);
  const inbound = stats.filter((s) => s.type === "inbound-rtp");
  const video = inbound.find((s) => (s.kind || s.mediaType) === "video") || null;
  const audio = inbound.find((s) => (s.kind || s.mediaType) === "audio") || null;
  const timestamp = Math.max(0, ...inbound.map((s) => s.timestamp || 0));
  const bytes = inbound.reduce((sum, s) => sum + (s.bytesReceived || 0), 0);
  const lost = inbound.reduce((sum, s) => sum + Math.max(0, s.packetsLost || 0), 0);
  const received = inbound.reduce((sum, s) => sum + (s.packetsReceived || 0), 0);
  const delay = (video && video.jitterBufferDelay) || 0;
  const count = (video && video.jitterBufferEmittedCount) || 0;
  let jitterBufferMs = null;
  if (prev && count > prev.jitter.count && delay >= prev.jitter.delay) {
    jitterBufferMs = ((delay - prev.jitter.delay) / (count - prev.jitter.count)) * 1000;
  } else if (count > 0) jitterBufferMs = (delay / count) * 1000;
  const rttMs = pairRtt(stats);
  const latency = jitterBufferMs === null ? null : jitterBufferMs + (rttMs === null ? 0 : rttMs / 2);
  return {
    ...pictureFields(video, bytes, timestamp, prev),
    packetsLost: inbound.length ? lost : null,
    lossPercent: received + lost > 0 ? round((lost * 100) / (received + lost), 1) : null,
    rttMs: round(rttMs),
    jitterBufferMs: round(jitterBufferMs),
    latencyMs: round(latency),
    frames: video
      ? video.framesDecoded ?? video.framesReceived ?? 0
      : inbound.filter((s) => (s.kind || s.mediaType) === "audio").reduce((sum, s) => sum + (s.packetsReceived || 0), 0),
    codec: codecOf(stats, video) || codecOf(stats, audio),
    limitation: null,
    jitter: { delay, count },
  };
}

/**
 * The fields both readouts take from a video stats entry and the byte count.
 * @param {any} video
 * @param {number} bytes
 * @param {number} timestamp
 * @param {Readout|null} prev
 */
function pictureFields(video, bytes, timestamp, prev) {
  return {
    timestamp,
    width: video && video.frameWidth ? video.frameWidth : null,
    height: video && video.frameHeight ? video.frameHeight : null,
    fps: video ? round(video.framesPerSecond, 1) : null,
    kbps: rate(bytes, timestamp, prev),
    bytes,
  };
}

/**
 * What the studio sends, from `pc.getStats()`.
 * @param {any} report
 * @param {Readout|null} [prev]
 * @returns {Readout}
 */
export function senderStats(report, prev = null) {
  const stats = entries(report);
  const outbound = stats.filter((s) => s.type === "outbound-rtp");
  const video = outbound.find((s) => (s.kind || s.mediaType) === "video") || null;
  const remote = stats.filter((s) => s.type === "remote-inbound-rtp");
  const timestamp = Math.max(0, ...outbound.map((s) => s.timestamp || 0));
  const bytes = outbound.reduce((sum, s) => sum + (s.bytesSent || 0), 0);
  const sentPackets = outbound.reduce((sum, s) => sum + (s.packetsSent || 0), 0);
  const lost = remote.reduce((sum, s) => sum + Math.max(0, s.packetsLost || 0), 0);
  let rttMs = pairRtt(stats);
  const remoteRtt = remote.find((s) => typeof s.roundTripTime === "number");
  if (rttMs === null && remoteRtt) rttMs = remoteRtt.roundTripTime * 1000;
  const reason = video && video.qualityLimitationReason;
  return {
    ...pictureFields(video, bytes, timestamp, prev),
    packetsLost: remote.length ? lost : null,
    lossPercent: remote.length && sentPackets > 0 ? round((lost * 100) / sentPackets, 1) : null,
    rttMs: round(rttMs),
    jitterBufferMs: null,
    latencyMs: null,
    frames: (video && video.framesEncoded) || 0,
    codec: codecOf(stats, video),
    limitation: reason && reason !== "none" ? reason : null,
    jitter: { delay: 0, count: 0 },
  };
}
