"""A WHIP publisher or WHEP player on GStreamer's webrtcbin: a third-party peer for the relay's tests.

Run by the SYSTEM Python (Debian's python3-gi and gir1.2-gst-plugins-bad-1.0), not the venv:

    /usr/bin/python3 tests/media/gst_peer.py whip URL TOKEN --codec vp8|h264
    /usr/bin/python3 tests/media/gst_peer.py whep URL TOKEN

It does the WHIP/WHEP HTTP exchange itself (one POST with every candidate, as GStreamer's own WHIP
elements and hardware encoders built on webrtcbin do) and prints one JSON object a line: its states
(`ice`, `connection`), the HTTP answer, and for a player the decoded video frames it counted.
webrtcbin's DTLS agent holds an RSA certificate: that is what the relay must interoperate with.
It stops on SIGTERM (DELETE of its resource first) or after --seconds.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

VIDEO_TEST = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
              "framerate=30/1 ! videoconvert ! queue ! ")
ENCODERS = {
    "vp8": "vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=500000 ! rtpvp8pay pt=96 ! "
           "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000",
    # Constrained Baseline, packetization-mode 1: what browsers and the relay's viewers take.
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=500 ! "
            "video/x-h264,profile=constrained-baseline ! rtph264pay pt=102 config-interval=-1 "
            "aggregate-mode=zero-latency ! application/x-rtp,media=video,encoding-name=H264,"
            "payload=102,clock-rate=90000",
}
AUDIO_TEST = ("audiotestsrc is-live=true wave=sine volume=0.1 ! audioconvert ! audioresample ! "
              "queue ! opusenc ! rtpopuspay pt=111 ! application/x-rtp,media=audio,"
              "encoding-name=OPUS,payload=111,clock-rate=48000")
PLAY_VIDEO = ("application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000;"
              "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
              "packetization-mode=(string)1,profile-level-id=(string)42e01f")
RETRIES = 20
PLAY_AUDIO = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class Peer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.loop = GLib.MainLoop()
        self.resource: str | None = None
        self.posted = False
        self.offered = False
        self.codec = ""  # a player: the encoding of the video it receives
        self.frames = 0
        self.audio_buffers = 0
        self.video_caps = ""
        if args.action == "whip":
            self.pipe = Gst.parse_launch(
                f"webrtcbin name=rtc bundle-policy=max-bundle {VIDEO_TEST}{ENCODERS[args.codec]}"
                f" ! rtc. {AUDIO_TEST} ! rtc.")
            self.rtc = self.pipe.get_by_name("rtc")
        else:
            self.pipe = Gst.Pipeline.new("player")
            self.rtc = Gst.ElementFactory.make("webrtcbin", "rtc")
            self.rtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
            self.pipe.add(self.rtc)
            for caps in (PLAY_VIDEO, PLAY_AUDIO):
                self.rtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                              Gst.Caps.from_string(caps))
            self.rtc.connect("pad-added", self.on_incoming)
        self.rtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.rtc.connect("notify::ice-gathering-state", self.on_gathering)
        self.rtc.connect("notify::ice-connection-state", self.on_state, "ice")
        self.rtc.connect("notify::connection-state", self.on_state, "connection")
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)

    def run(self) -> int:
        if self.args.action == "whip":
            for index in range(2):  # a WHIP publisher sends only
                transceiver = self.rtc.emit("get-transceiver", index)
                transceiver.set_property("direction",
                                         GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        self.pipe.set_state(Gst.State.PLAYING)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.stop)
        GLib.timeout_add_seconds(self.args.seconds, self.stop)
        GLib.timeout_add(500, self.report)
        self.loop.run()
        self.pipe.set_state(Gst.State.NULL)
        return 0

    def stop(self) -> bool:
        if self.resource:
            request = urllib.request.Request(self.resource, method="DELETE",
                                             headers={"authorization": f"Bearer {self.args.token}"})
            try:
                urllib.request.urlopen(request, timeout=3).close()
            except (urllib.error.URLError, OSError) as exc:
                say(event="delete-failed", error=str(exc))
        self.loop.quit()
        return False

    def on_error(self, _bus: Gst.Bus, message: Gst.Message) -> None:
        error, debug = message.parse_error()
        say(event="error", error=error.message, debug=debug)

    def on_state(self, rtc: Gst.Element, _spec: Any, which: str) -> None:
        name = "ice-connection-state" if which == "ice" else "connection-state"
        say(event=which, state=rtc.get_property(name).value_nick)

    def on_negotiation_needed(self, rtc: Gst.Element) -> None:
        if self.offered:  # one offer, one POST: WHIP and WHEP have no renegotiation
            return
        self.offered = True
        rtc.emit("create-offer", None, Gst.Promise.new_with_change_func(self.on_offer, None))

    def on_offer(self, promise: Gst.Promise, _data: Any) -> None:
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply is not None and reply.has_field("offer") else None
        if offer is None:
            say(event="error", error=f"no offer: {reply.to_string() if reply else None}")
            self.loop.quit()
            return
        self.rtc.emit("set-local-description", offer, Gst.Promise.new())

    def on_gathering(self, rtc: Gst.Element, _spec: Any) -> None:
        if (rtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE
                and not self.posted):
            self.posted = True
            offer = rtc.get_property("local-description").sdp.as_text()
            threading.Thread(target=self.post, args=(offer,), daemon=True).start()

    def post(self, offer: str) -> None:
        """The WHIP/WHEP POST, off the main loop: urllib blocks. A player asks again while the
        broadcast has not started (409 + Retry-After), a bounded number of times."""
        for _ in range(RETRIES):
            request = urllib.request.Request(self.args.url, data=offer.encode(), method="POST",
                                             headers={"content-type": "application/sdp",
                                                      "authorization": f"Bearer {self.args.token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, answer = response.status, response.read().decode()
                    self.resource = urllib.parse.urljoin(self.args.url, response.headers["location"])
                    break
            except urllib.error.HTTPError as exc:
                body = exc.read().decode()[:300]
                say(event="answer", status=exc.code, body=body)
                if exc.code != 409 or "retry-after" not in exc.headers:
                    GLib.idle_add(self.loop.quit)
                    return
                time.sleep(min(float(exc.headers["retry-after"]), 0.5))
        else:
            GLib.idle_add(self.loop.quit)
            return
        setup = [line for line in answer.splitlines() if line.startswith("a=setup:")]
        say(event="answer", status=status, setup=sorted(set(setup)))
        GLib.idle_add(self.answer, answer)

    def answer(self, text: str) -> bool:
        _, sdp = GstSdp.SDPMessage.new_from_text(text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.rtc.emit("set-remote-description", answer, Gst.Promise.new())
        return False

    def on_incoming(self, _rtc: Gst.Element, pad: Gst.Pad) -> None:
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        rtp = pad.get_current_caps().get_structure(0)
        if rtp.get_string("media") == "video":
            self.codec = rtp.get_string("encoding-name") or ""
        decode = Gst.ElementFactory.make("decodebin")
        decode.connect("pad-added", self.on_decoded)
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def on_decoded(self, _decode: Gst.Element, pad: Gst.Pad) -> None:
        caps = pad.get_current_caps() or pad.query_caps(None)
        video = caps.to_string().startswith("video/")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        self.pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
        pad.add_probe(Gst.PadProbeType.BUFFER, self.count, video)

    def count(self, pad: Gst.Pad, _info: Gst.PadProbeInfo, video: bool) -> Gst.PadProbeReturn:
        if video:
            self.frames += 1
            if not self.video_caps:
                structure = pad.get_current_caps().get_structure(0)
                self.video_caps = (f"{structure.get_name()} {structure.get_value('width')}x"
                                   f"{structure.get_value('height')}")
        else:
            self.audio_buffers += 1
        return Gst.PadProbeReturn.OK

    def report(self) -> bool:
        if self.args.action == "whep":
            say(event="decoded", codec=self.codec, video_frames=self.frames, video=self.video_caps,
                audio_buffers=self.audio_buffers)
        return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("whip", "whep"))
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--codec", choices=sorted(ENCODERS), default="vp8")
    parser.add_argument("--seconds", type=int, default=60, help="stop after this long at most")
    args = parser.parse_args()
    Gst.init(None)
    say(event="started", gstreamer=Gst.version_string())
    return Peer(args).run()


if __name__ == "__main__":
    sys.exit(main())
