// The studio's readout of the recording (static/js/studio-readout.js): the alarm and a failed file
// come before anything else, dropped frames are said, and a server that does not record shows "–".
// Without a page, the translator shows keys: what is checked is which message is chosen.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { recordingText } from "../../static/js/studio-readout.js";

const recording = (fields) => ({ alarm: false, file: "s_20261206-010000.webm", bytes: 2_500_000, dropped: 0, failed: null, ...fields });

describe("the recording readout", () => {
  test("shows nothing from a server that does not record, or between files", () => {
    assert.equal(recordingText(null), "–");
    assert.equal(recordingText(undefined), "–");
    assert.equal(recordingText(recording({ file: null, bytes: 0 })), "–");
  });

  test("says it records, and the frames a slow disk lost", () => {
    assert.equal(recordingText(recording({})), "studio.recording.on");
    assert.equal(recordingText(recording({ dropped: 4 })), "studio.recording.on · studio.recording.dropped");
  });

  test("puts the low-disk alarm and a write failure first", () => {
    assert.equal(recordingText(recording({ alarm: true, file: null, dropped: 4 })), "studio.recording.alarm");
    assert.equal(recordingText(recording({ failed: "OSError(28)" })), "studio.recording.failed");
  });
});
