"""Writing one recording file from encoded frames, on a thread of its own: the relay never waits.

The event loop hands frames to `FileWriter.put` (never blocking: a full queue drops and counts);
the writer thread opens the container, muxes each frame as it was encoded (no decoder, no encoder)
and, at the end, writes the trailer and renames `NAME.part` to `NAME`, so a file still named
`.part` was cut short (the relay stopped, or the disk failed) and may lack its index.
"""

from __future__ import annotations

import fractions
import logging
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

log = logging.getLogger(__name__)

TIME_BASE = {"video": fractions.Fraction(1, 90000), "audio": fractions.Fraction(1, 48000)}
# Frames waiting for the disk: ~5 s of 30 fps video and three 50 fps audio tracks. Past that the
# disk is too slow for the stream, and frames are dropped (counted) rather than held in memory.
QUEUE_FRAMES = 1000
# The encoder name PyAV needs to create a stream of that codec (nothing is ever encoded with it).
STREAM_CODECS = {"video/vp8": "libvpx", "video/h264": "libx264", "audio/opus": "libopus"}
# RFC 7845 5.1: version 1, 2 channels (what browsers send), no pre-skip, 48 kHz, no gain, family 0.
OPUS_HEAD = b"OpusHead\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00"


@dataclass(frozen=True)
class TrackSpec:
    """One stream of the file: the floor's video or audio, or a channel's audio."""

    key: str  # the broadcast key it comes from
    kind: str  # "video" or "audio"
    mime_type: str
    language: str | None = None  # an interpretation channel's, for the stream's metadata
    width: int = 0
    height: int = 0
    extradata: bytes | None = None  # H.264: the SPS and PPS (Annex-B)


def container_format(tracks: list[TrackSpec]) -> tuple[str, str]:
    """(PyAV format, file extension): WebM holds VP8 and Opus only; H.264 goes to Matroska."""
    if any(t.mime_type == "video/h264" for t in tracks):
        return "matroska", "mkv"
    return "webm", "webm"


class FileWriter:
    """One file: frames in through a bounded queue, muxed on the writer thread."""

    def __init__(self, path: Path, tracks: list[TrackSpec]) -> None:
        self.path, self.tracks = path, tracks
        self.part = path.with_name(path.name + ".part")
        self.dropped = 0  # frames the queue had no room for (event loop side)
        self.written = 0  # bytes handed to the muxer (writer thread side; read as a figure)
        self.failed: str | None = None  # why the thread gave up, if it did
        self.done = threading.Event()
        self._queue: queue.Queue[tuple[int, bytes, int, bool] | None] = queue.Queue(QUEUE_FRAMES)
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"recording {path.name}",
                                        daemon=True)
        self._thread.start()

    def put(self, index: int, data: bytes, pts: int, keyframe: bool) -> None:
        """From the event loop: never blocks."""
        if self._closing or self.failed:
            return
        try:
            self._queue.put_nowait((index, data, pts, keyframe))
        except queue.Full:
            self.dropped += 1

    def finish(self) -> None:
        """Ask the thread to write the trailer and close, after what is queued (never blocks:
        with the queue full, the end mark waits on a helper thread until there is room)."""
        if self._closing:
            return
        self._closing = True
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            threading.Thread(target=self._queue.put, args=(None,), daemon=True).start()

    def _run(self) -> None:
        container: Any = None
        try:
            container = av.open(str(self.part), "w", format=container_format(self.tracks)[0])
            streams = [self._add_stream(container, spec) for spec in self.tracks]
            while (item := self._queue.get()) is not None:
                index, data, pts, keyframe = item
                self._mux(container, streams[index], index, data, pts, keyframe)
            container.close()
            container = None
            os.replace(self.part, self.path)
        except Exception as exc:  # disk full, permissions, a muxer error: the relay goes on
            self.failed = repr(exc)
            log.error("recording %s failed: %r", self.path.name, exc)
            if container is not None:
                try:
                    container.close()
                except Exception:  # the file stays as .part: recognisably incomplete
                    pass
            self._drain()
        finally:
            self.done.set()

    def _drain(self) -> None:
        while self._queue.get() is not None:
            pass

    @staticmethod
    def _add_stream(container: Any, spec: TrackSpec) -> Any:
        if spec.kind == "video":
            stream = container.add_stream(STREAM_CODECS[spec.mime_type], rate=30)
            stream.width, stream.height = spec.width, spec.height
            stream.pix_fmt = "yuv420p"
            if spec.extradata:
                stream.codec_context.extradata = spec.extradata
        else:
            stream = container.add_stream(STREAM_CODECS[spec.mime_type], rate=48000)
            stream.codec_context.extradata = OPUS_HEAD
            if spec.language:
                stream.metadata["language"] = spec.language
        stream.time_base = TIME_BASE[spec.kind]
        return stream

    def _mux(self, container: Any, stream: Any, index: int, data: bytes, pts: int,
             keyframe: bool) -> None:
        packet = av.Packet(data)
        packet.stream = stream
        packet.pts = packet.dts = pts
        packet.time_base = TIME_BASE[self.tracks[index].kind]
        packet.is_keyframe = keyframe
        container.mux(packet)
        self.written += len(data)
