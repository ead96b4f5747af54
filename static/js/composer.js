// The programme the studio page publishes while remote guests are on air: the room's camera and
// each guest side by side (or in picture-in-picture) drawn on a canvas, and the room's microphone
// mixed with the guests' voices with WebAudio. All in the browser: the server forwards the
// result as it forwards a camera, it never decodes, mixes or encodes.

import { HEIGHT, WIDTH, cover, tiles } from "./compose.js";

const FRAME_MS = Math.round(1000 / 30);
const LABEL_FONT = "600 22px system-ui, sans-serif";

/** @typedef {{id: string, name: string, video: HTMLVideoElement, stream: MediaStream}} Source */

export class Composer {
  /** @param {HTMLVideoElement} room the room camera's preview element */
  constructor(room) {
    this.room = room;
    this.canvas = document.createElement("canvas");
    this.canvas.width = WIDTH;
    this.canvas.height = HEIGHT;
    this.context = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext("2d"));
    /** @type {import("./compose.js").Layout} */
    this.layout = "side";
    /** @type {Source[]} */
    this.guests = [];
    this.audio = new AudioContext();
    this.mix = this.audio.createMediaStreamDestination();
    // The guests' voices in the room: this browser's output (the room's sound system). The room's
    // microphone is not in it, only in the programme.
    this.monitor = this.audio.createGain();
    this.monitor.connect(this.audio.destination);
    /** @type {Map<string, MediaStreamAudioSourceNode>} by track id */
    this.inputs = new Map();
    const video = this.canvas.captureStream(30).getVideoTracks()[0];
    this.stream = new MediaStream([video, ...this.mix.stream.getAudioTracks()]);
    this.ticker = new Worker("/static/js/ticker.js");
    this.ticker.onmessage = () => this.draw();
    this.running = false;
  }

  /**
   * What to compose: the room (its preview's stream: camera and microphone) and the guests on air.
   * @param {MediaStream|null} roomMedia @param {Source[]} guests
   */
  set(roomMedia, guests) {
    this.guests = guests;
    const wanted = new Map();
    const micTrack = roomMedia && roomMedia.getAudioTracks()[0];
    if (micTrack) wanted.set(micTrack.id, micTrack);
    for (const g of guests) for (const track of g.stream.getAudioTracks()) wanted.set(track.id, track);
    for (const [id, node] of this.inputs) {
      if (!wanted.has(id)) {
        node.disconnect();
        this.inputs.delete(id);
      }
    }
    for (const [id, track] of wanted) {
      if (this.inputs.has(id)) continue;
      const node = this.audio.createMediaStreamSource(new MediaStream([track]));
      node.connect(this.mix);
      if (track !== micTrack) node.connect(this.monitor);
      this.inputs.set(id, node);
    }
  }

  /** @param {boolean} on whether the guests are heard through this browser's output */
  hearInRoom(on) {
    this.monitor.gain.value = on ? 1 : 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.audio.resume().catch(() => {});
    this.draw();
    this.ticker.postMessage(FRAME_MS);
  }

  stop() {
    this.running = false;
    this.ticker.postMessage(0);
  }

  draw() {
    const ctx = this.context;
    ctx.fillStyle = "#111";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    const pictures = [{ video: this.room, name: "" }, ...this.guests.map((g) => ({ video: g.video, name: g.name }))];
    const rects = tiles(this.guests.length, this.layout);
    rects.forEach((rect, i) => {
      const { video, name } = pictures[i];
      if (video.videoWidth && video.videoHeight) {
        const src = cover(video.videoWidth, video.videoHeight, rect);
        ctx.drawImage(video, src.sx, src.sy, src.sw, src.sh, rect.x, rect.y, rect.w, rect.h);
      }
      if (name) {
        // The guest's name, lower-third style: the room and remote viewers see who speaks.
        ctx.font = LABEL_FONT;
        const width = Math.min(rect.w - 16, ctx.measureText(name).width + 20);
        ctx.fillStyle = "rgba(0, 0, 0, 0.65)";
        ctx.fillRect(rect.x + 8, rect.y + rect.h - 44, width, 34);
        ctx.fillStyle = "#fff";
        ctx.fillText(name, rect.x + 18, rect.y + rect.h - 19, width - 20);
      }
    });
  }
}
