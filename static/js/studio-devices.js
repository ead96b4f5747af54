// Studio page: the capture presets, what to ask the camera and microphone for, and the device lists.

import { t } from "./i18n.js";

/** Presets: capture size and the video sender's bitrate cap. */
export const QUALITIES = {
  720: { width: 1280, height: 720, maxBitrate: 1_500_000 },
  480: { width: 854, height: 480, maxBitrate: 900_000 },
  360: { width: 640, height: 360, maxBitrate: 600_000 },
};
export const FRAME_RATE = 30;

/**
 * @param {"video"|"audio"} kind
 * @param {string} deviceId the chosen device ("" for the default one)
 * @param {{width: number, height: number}} quality
 * @returns {MediaTrackConstraints}
 */
export function captureConstraints(kind, deviceId, quality) {
  const device = deviceId ? { deviceId: { exact: deviceId } } : {};
  if (kind === "video") {
    return {
      ...device,
      width: { ideal: quality.width }, height: { ideal: quality.height },
      frameRate: { ideal: FRAME_RATE, max: FRAME_RATE },
    };
  }
  // A room microphone, not a call: no echo cancellation (it damages music and room sound).
  return { ...device, echoCancellation: false };
}

/** @param {any} err @returns {string} */
export function cameraError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") return t("studio.msg.camera_denied");
  if (name === "NotFoundError" || name === "OverconstrainedError") return t("studio.msg.camera_missing");
  if (name === "NotReadableError" || name === "AbortError") return t("studio.msg.camera_busy");
  return t("studio.msg.camera_missing");
}

/**
 * Lists the devices of `kind` in `select`, keeping `currentId` selected; says so when there is none.
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {"videoinput"|"audioinput"} kind
 * @param {string} currentId
 */
export function fillDeviceSelect(select, devices, kind, currentId) {
  const label = kind === "videoinput" ? "studio.device.camera" : "studio.device.microphone";
  const list = devices.filter((d) => d.kind === kind && d.deviceId);
  select.replaceChildren(...list.map((d, i) => {
    const option = document.createElement("option");
    option.value = d.deviceId;
    option.textContent = d.label || t(label, { n: i + 1 });
    option.selected = d.deviceId === currentId;
    return option;
  }));
  if (!list.length) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = t(kind === "videoinput" ? "studio.no_camera" : "studio.no_microphone");
    select.append(option);
  }
  select.disabled = list.length === 0;
}
