"""Recording: every session on air, written as the relay forwards it (no decoding, no encoding).

Only the worker a studio publishes to (the origin) records, once: the hook is its WHIP connection
coming up (relay.py), which edges never see. One file per period on air:
- it starts when the studio's connection comes up, on the first video keyframe (a file must start
  on one, and VP8's keyframe gives the picture size the header needs); audio waits for it too;
- the floor's video and audio, and each interpretation channel on air as an extra audio track
  (language in its metadata); a channel going off air leaves a gap in its track;
- a studio reconnecting (a reloaded page, a restarted encoder) within GRACE seconds, with the same
  codecs, continues the same file; later, or with another codec, a new file starts (the old one is
  finished). A channel coming on air that the file has no track for starts a new file too: a
  container's tracks are fixed when its header is written;
- files are WebM (VP8, Opus) or Matroska (H.264, Opus), named `SESSION_YYYYmmdd-HHMMSS.EXT`, and
  `.part` until finished (live/media/mux.py).

Timestamps: each track's first frame (and its first after every new studio connection) is placed
at its arrival time since the file started, the following ones by their RTP timestamps; so video
and audio keep in step within network jitter, and a gap while the studio was away stays a gap.

Low disk: the free space of the folder is checked every CHECK_INTERVAL and before each file; below
`recordings_min_free` every file is finished, recording stops and the alarm is raised (log, the
studio's readout, /metrics) until space is back, when recording of the sessions on air resumes in
new files. The relay never waits for the disk: frames the writer cannot take are dropped, counted.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from live.media.channels import SEPARATOR, split_key
from live.media.feeds import is_feed
from live.media.frames import NAL_PPS, NAL_SPS, h264_nal_units, h264_sps_size, nal_type, vp8_size
from live.media.mux import TIME_BASE, FileWriter, TrackSpec, container_format

if TYPE_CHECKING:
    from live.config import Settings
    from live.media.relay import Relay

log = logging.getLogger(__name__)

GRACE = 10.0  # seconds a studio may be away and come back to the same file
CHECK_INTERVAL = 2.0  # seconds between free-space checks
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class SessionRecording:
    """One session's current file: its tracks, their timestamp offsets, its writer."""

    def __init__(self, recorder: Recorder, session_id: str) -> None:
        self.recorder, self.session_id = recorder, session_id
        self.codecs = recorder.codecs_of(session_id)  # the studio's, to notice a change
        self.channels = recorder.channels_on_air(session_id)
        self.writer: FileWriter | None = None  # opened on the first video keyframe
        self.tracks: list[TrackSpec] = []
        self._index: dict[tuple[str, str], int] = {}  # (key, kind) -> track, looked up per frame
        self.started = 0.0  # monotonic, when the file opened
        self._offsets: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self.grace: asyncio.TimerHandle | None = None
        self._taps: dict[str, Any] = {}
        for key in (session_id, *self.channels):
            self._taps[key] = tap = self._tap_for(key)
            recorder.relay.broadcast(key).taps.add(tap)
        if "video" in self.codecs:  # the file starts on a keyframe: ask for one now
            recorder.relay.broadcast(session_id).request_keyframe()

    def _tap_for(self, key: str) -> Any:
        def tap(kind: str, data: bytes, pts: int, keyframe: bool) -> None:
            self.frame(key, kind, data, pts, keyframe)
        return tap

    def resync(self, key: str) -> None:
        """A new connection feeds `key`: its next frames are placed by their arrival."""
        for index, spec in enumerate(self.tracks):
            if spec.key == key:
                self._offsets.pop(index, None)

    def frame(self, key: str, kind: str, data: bytes, pts: int, keyframe: bool) -> None:
        if self.writer is None:
            if kind == "video" and not keyframe:
                return
            if kind == "audio" and key == self.session_id and "video" in self.codecs:
                return  # the file starts on the video's first keyframe
            if not self._open(kind, data):
                return
        assert self.writer is not None
        index = self._index.get((key, kind))
        if index is None:
            return
        offset = self._offsets.get(index)
        if offset is None:
            arrival = int((time.monotonic() - self.started) / TIME_BASE[kind])
            offset = self._offsets[index] = arrival - pts
        out = max(pts + offset, self._last.get(index, -1) + 1)  # the muxer needs them rising
        self._last[index] = out
        self.writer.put(index, data, out, keyframe)

    def _open(self, kind: str, data: bytes) -> bool:
        recorder = self.recorder
        if not recorder.has_room():
            return False
        tracks = []
        video = self.codecs.get("video")
        if video is not None:
            if kind != "video":
                return False
            spec = _video_spec(self.session_id, video, data)
            if spec is None:
                return False
            tracks.append(spec)
        if "audio" in self.codecs:
            tracks.append(TrackSpec(self.session_id, "audio", self.codecs["audio"]))
        tracks += [TrackSpec(key, "audio", "audio/opus", language=split_key(key)[1])
                   for key in self.channels]
        self.tracks = tracks
        self._index = {(spec.key, spec.kind): i for i, spec in enumerate(tracks)}
        self.started = time.monotonic()
        self.writer = FileWriter(recorder.new_path(self.session_id, container_format(tracks)[1]),
                                 tracks)
        recorder.files.append(self.writer)
        log.info("%s: recording to %s", self.session_id, self.writer.path.name)
        return True

    def finish(self) -> None:
        if self.grace is not None:
            self.grace.cancel()
        for key, tap in self._taps.items():
            broadcast = self.recorder.relay.broadcasts.get(key)
            if broadcast is not None:
                broadcast.taps.discard(tap)
        if self.writer is not None:
            self.writer.finish()
            log.info("%s: recording %s finished", self.session_id, self.writer.path.name)


def _video_spec(session_id: str, mime_type: str, keyframe: bytes) -> TrackSpec | None:
    if mime_type == "video/vp8":
        size = vp8_size(keyframe)
        return TrackSpec(session_id, "video", mime_type, width=size.width, height=size.height) \
            if size else None
    units = h264_nal_units(keyframe)
    sps = next((u for u in units if nal_type(u) == NAL_SPS), None)
    pps = next((u for u in units if nal_type(u) == NAL_PPS), None)
    size = h264_sps_size(sps) if sps else None
    if sps is None or pps is None or size is None:
        return None
    return TrackSpec(session_id, "video", mime_type, width=size.width, height=size.height,
                     extradata=b"\x00\x00\x00\x01" + sps + b"\x00\x00\x00\x01" + pps)


class Recorder:
    """Every session's recording on this worker, and the low-disk alarm."""

    def __init__(self, relay: Relay, settings: Settings) -> None:
        assert settings.recordings is not None
        self.relay = relay
        self.directory = Path(settings.recordings)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.min_free = settings.recordings_min_free
        self.sessions: dict[str, SessionRecording] = {}
        self.files: list[FileWriter] = []  # every file of this process, for the figures
        self.alarm = False
        self.free: int | None = None
        self._monitor: asyncio.Task[None] | None = None

    # -- what the relay tells -------------------------------------------------------------------

    def on_air(self, key: str) -> None:
        """A WHIP connection for `key` (the floor or a channel) came up here."""
        if self._monitor is None:
            self._monitor = asyncio.ensure_future(self._watch_disk())
        session_id, language = split_key(key)
        current = self.sessions.get(session_id)
        if language is not None:
            if current is None:
                return  # no floor on air here: nothing to record it with
            if key in current.channels:
                current.resync(key)
                return
            self._restart(session_id)  # a new track: a new file
            return
        if current is not None and current.codecs == self.codecs_of(session_id):
            if current.grace is not None:
                current.grace.cancel()
                current.grace = None
            current.resync(session_id)
            return
        self._restart(session_id)

    def off_air(self, key: str) -> None:
        session_id, language = split_key(key)
        current = self.sessions.get(session_id)
        if language is None and current is not None and current.grace is None:
            current.grace = asyncio.get_running_loop().call_later(
                GRACE, self._stop, session_id)

    def ended(self, session_id: str) -> None:
        """The studio ended the broadcast on purpose (its DELETE): no reconnection to wait for,
        the file is finished now, so the replay is ready within seconds."""
        self._stop(session_id)

    def status(self, session_id: str) -> dict[str, Any] | None:
        """For the studio's readout."""
        current = self.sessions.get(session_id)
        writer = current.writer if current else None
        if writer is None and not self.alarm:
            return None
        return {"alarm": self.alarm, "file": writer.path.name if writer else None,
                "bytes": writer.written if writer else 0,
                "dropped": writer.dropped if writer else 0,
                "failed": writer.failed if writer else None}

    def figures(self) -> dict[str, int]:
        """For /metrics: this process's totals."""
        return {"recording_alarm": int(self.alarm),
                "recording_bytes_total": sum(f.written for f in self.files),
                "recording_dropped_total": sum(f.dropped for f in self.files)}

    async def close(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
        for session_id in list(self.sessions):
            self._stop(session_id)
        await asyncio.to_thread(lambda: [f.done.wait(5) for f in self.files])

    # -- inside ---------------------------------------------------------------------------------

    def codecs_of(self, session_id: str) -> dict[str, str]:
        broadcast = self.relay.broadcasts.get(session_id)
        source = broadcast.source if broadcast else None
        return {k: c.mimeType.lower() for k, c in source.codecs.items()} if source else {}

    def channels_on_air(self, session_id: str) -> tuple[str, ...]:
        prefix = session_id + SEPARATOR
        return tuple(sorted(k for k, b in self.relay.broadcasts.items()
                            if k.startswith(prefix) and b.live))

    def _restart(self, session_id: str) -> None:
        self._stop(session_id)
        if not self.alarm and self.codecs_of(session_id):
            self.sessions[session_id] = SessionRecording(self, session_id)

    def _stop(self, session_id: str) -> None:
        current = self.sessions.pop(session_id, None)
        if current is not None:
            current.finish()

    def new_path(self, session_id: str, extension: str) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"{_UNSAFE.sub('_', session_id)}_{stamp}"
        path, n = self.directory / f"{base}.{extension}", 1
        while path.exists() or path.with_name(path.name + ".part").exists():
            n += 1
            path = self.directory / f"{base}-{n}.{extension}"
        return path

    def has_room(self) -> bool:
        """Checked before each file (statvfs: no I/O to speak of)."""
        self._set_free(shutil.disk_usage(self.directory).free)
        return not self.alarm

    def _set_free(self, free: int) -> None:
        self.free = free
        low = free < self.min_free
        if low and not self.alarm:
            self.alarm = True
            log.error("recording stopped: %d MiB free in %s, under the %d MiB asked for",
                      free >> 20, self.directory, self.min_free >> 20)
            for session_id in list(self.sessions):
                self._stop(session_id)
        elif not low and self.alarm:
            self.alarm = False
            log.warning("recording resumes: %d MiB free in %s", free >> 20, self.directory)
            for key, broadcast in list(self.relay.broadcasts.items()):
                if split_key(key)[1] is None and not is_feed(key) and broadcast.live \
                        and key not in self.sessions \
                        and any(r.kind == "whip" and r.session_id == key
                                for r in self.relay.resources.values()):
                    self._restart(key)

    async def _watch_disk(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            try:
                free = (await asyncio.to_thread(shutil.disk_usage, self.directory)).free
            except OSError as exc:
                log.error("recording: cannot read the free space of %s: %r", self.directory, exc)
                continue
            self._set_free(free)
