"""GStreamer's webrtcbin against the relay, both ways: a WHIP publisher (VP8, H.264, with Opus)
played by an aiortc viewer, and a WHEP player of an aiortc publish that decodes what it receives.

webrtcbin's DTLS agent holds an RSA certificate. The relay answers `a=setup:active`, so it is the
DTLS client, and aiortc offered ECDHE-ECDSA suites only: the handshake failed with "no shared
cipher" until the relay offered ECDHE-RSA suites too (live/media/internals.py, docs/media.md).

Everything runs in a network namespace the test creates: libnice gathers no loopback candidates
(and aioice leaves loopback out), so the peers need another address. The namespace gets
192.0.2.1/32 on a bridge with no ports: TEST-NET-1 (RFC 5737), reserved for documentation and
never routed. The namespace has no other interface and no route but the local ones, and a bridge
without ports has nowhere to send: a packet to that address loops back inside the namespace, and
nothing reaches the machine's network. The namespace is deleted at the end, whatever happens.

GStreamer and PyGObject are those of Debian, for the system Python (scripts/test installs them):
if they or `ip netns` (root) are missing, the tests fail rather than skip.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from live.domain import Role
from live.web.auth import EVENT_SCOPE, Signer
from tests import netns
from tests.conftest import ROOT
from tests.processes import service_env, stop_process
from tests.waiting import wait_for_sync

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-gi: the venv has no PyGObject
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")
ADDRESS = "192.0.2.1"  # TEST-NET-1, on a bridge with no ports, inside the test's namespace only
PORT = 8000  # the namespace's own: nothing else listens there
SECRET = "gstreamer-tests-secret-0123456789"
GST_ELEMENTS = ("webrtcbin", "nicesrc", "dtlssrtpenc", "vp8enc", "x264enc", "opusenc",
                "rtpvp8pay", "rtph264pay", "rtpopuspay", "vp8dec", "avdec_h264", "opusdec")
MIME = {"vp8": "video/VP8", "h264": "video/H264"}
Event = dict[str, Any]

# Each test its own streamed session (demo programme): one server serves the module.
WHIP_SESSIONS = {"vp8": "atelier-1", "h264": "atelier-2"}
WHEP_SESSIONS = {"vp8": "atelier-3", "h264": "pleniere-geopolitique"}


def require_gstreamer() -> str:
    """GStreamer's version, or the test fails with what to install."""
    probe = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0');"
             "from gi.repository import Gst, GstWebRTC; Gst.init(None);"
             f"missing = [e for e in {GST_ELEMENTS!r} if not Gst.ElementFactory.find(e)];"
             "print(Gst.version_string()); print(' '.join(missing))")
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True,
                                timeout=30)
    except FileNotFoundError:
        pytest.fail(f"{SYSTEM_PYTHON} is missing")
    lines = result.stdout.splitlines()
    if result.returncode or len(lines) < 2 or lines[1].strip():
        pytest.fail("GStreamer's webrtcbin for the system Python is not usable (install "
                    "gstreamer1.0-plugins-{base,good,bad,ugly} gstreamer1.0-nice gstreamer1.0-libav "
                    f"python3-gi gir1.2-gst-plugins-bad-1.0, as scripts/test does): "
                    f"{result.stderr.strip()[-500:]} missing: {lines[1:] or '?'}")
    return lines[0]


@dataclass
class Process:
    """A peer or the server inside the namespace; its JSON lines on stdout become `events`."""

    name: str
    proc: subprocess.Popen[str]
    log: Path
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"line": line.rstrip()}
            self.events.append(event if isinstance(event, dict) else {"line": line.rstrip()})

    def report(self) -> str:
        errors = self.log.read_text("utf-8", errors="replace")[-1500:] if self.log.exists() else ""
        return f"{self.name} events: {self.events[-8:]}\n{self.name} stderr: {errors}"

    def wait_for(self, predicate: Callable[[Event], object], what: str,
                 timeout: float = 15.0) -> Event:
        """The first event matching `predicate`, within `timeout` seconds."""
        seen = 0

        def matching() -> Event | None:
            nonlocal seen
            finished = not self.reader.is_alive()  # then every line is in `events`
            count = len(self.events)
            found = next((e for e in self.events[seen:count] if predicate(e)), None)
            seen = count
            if found is None and finished:
                self.proc.wait(timeout=5)
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before "
                                     f"{what}\n{self.report()}")
            return found

        return wait_for_sync(matching, timeout, lambda: f"{what}\n{self.report()}")

    def stop(self) -> None:
        stop_process(self.proc, 5)  # on SIGTERM the peers DELETE their resource first
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Namespace:
    """The test's network namespace (tests/netns.py), ADDRESS on a bridge, and the processes
    started in it, stopped (SIGTERM first) before it goes."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[Process] = []
        self._made = netns.namespace(f"{ADDRESS}/32", bridge=True)
        self.name = ""

    def __enter__(self) -> Namespace:
        self.name = self._made.__enter__()
        return self

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.logs / f"{name}-{len(self.processes)}.log"
        with log.open("wb") as errors:
            proc = subprocess.Popen(netns.inside(self.name, *argv), cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=errors, text=True)
        process = Process(name, proc, log)
        self.processes.append(process)
        return process

    def __exit__(self, *exc: object) -> None:
        try:
            for process in reversed(self.processes):
                process.stop()
        finally:
            self._made.__exit__(None, None, None)


@dataclass
class Relay:
    namespace: Namespace
    server: Process
    gstreamer: str
    signer: Signer = field(default_factory=lambda: Signer(SECRET))

    def url(self, session: str, kind: str) -> str:
        return f"http://127.0.0.1:{PORT}/sessions/{session}/{kind}"

    def token(self, role: Role, session: str) -> str:
        return self.signer.issue(role, EVENT_SCOPE if role is Role.PARTICIPANT else session,
                                 int(time.time()) + 3600)

    def gst(self, action: str, session: str, codec: str | None = None) -> Process:
        kind, role = ("whip", Role.STUDIO) if action == "whip" else ("whep", Role.PARTICIPANT)
        argv = [SYSTEM_PYTHON, "tests/media/gst_peer.py", action, self.url(session, kind),
                self.token(role, session), "--seconds", "40"]
        return self.namespace.spawn(f"gst-{action}", argv + (["--codec", codec] if codec else []))

    def aiortc(self, action: str, session: str, codec: str | None = None) -> Process:
        kind, role = ("whip", Role.STUDIO) if action == "publish" else ("whep", Role.PARTICIPANT)
        argv = [VENV_PYTHON, "-m", "tests.media.aiortc_peer", action, self.url(session, kind),
                self.token(role, session), "--seconds", "40"]
        return self.namespace.spawn(f"aiortc-{action}", argv + (["--codec", codec] if codec else []))

    def report(self) -> str:
        return "\n".join(p.report() for p in self.namespace.processes)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    """tribune (run.py) inside the namespace, offering only the bridge's address."""
    gstreamer = require_gstreamer()
    env = service_env(TRIBUNE_SECRET=SECRET)
    with Namespace(tmp_path_factory.mktemp("gstreamer")) as namespace:
        server = namespace.spawn("server", [
            VENV_PYTHON, "run.py", "--port", str(PORT), "--media-address", ADDRESS,
            "--log-level", "info"], env)
        def started() -> bool:
            assert server.proc.poll() is None, f"the server exited\n{server.report()}"
            return "Application startup complete" in server.log.read_text("utf-8", "replace")

        wait_for_sync(started, 30, lambda: f"the server started\n{server.report()}", interval=0.1)
        yield Relay(namespace, server, gstreamer)


@pytest.fixture
def peers(relay: Relay) -> Iterator[Relay]:
    """The relay, and the peers a test starts stopped at its end."""
    before = len(relay.namespace.processes)
    try:
        yield relay
    finally:
        for process in relay.namespace.processes[before:]:
            process.stop()


def connected(peer: Process) -> None:
    """The peer's connection comes up (ICE, then DTLS): fail at once if it fails instead."""
    state = peer.wait_for(lambda e: e.get("event") == "connection"
                          and e.get("state") in ("connected", "failed"), "a connection state")
    assert state["state"] == "connected", f"the DTLS handshake failed\n{peer.report()}"


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_a_gstreamer_whip_publisher_is_played_by_an_aiortc_viewer(peers: Relay,
                                                                   codec: str) -> None:
    relay = peers
    session = WHIP_SESSIONS[codec]
    publisher = relay.gst("whip", session, codec)
    try:
        answer = publisher.wait_for(lambda e: e.get("event") == "answer", "the WHIP answer")
        # The relay stays the DTLS client, as with browsers: the fix is in the suites it offers.
        assert answer["status"] == 201 and answer["setup"] == ["a=setup:active"], answer
        connected(publisher)
        viewer = relay.aiortc("watch", session)
        received = viewer.wait_for(
            lambda e: e.get("event") == "received" and e.get("video", {}).get("frames", 0) >= 30
            and e.get("audio", {}).get("frames", 0) > 0, "30 video frames and some audio")
        assert received["video"]["mime"] == MIME[codec]
        assert received["video"]["first_is_keyframe"] and received["video"]["keyframes"] >= 1
        print(f"GStreamer {codec} publisher -> aiortc viewer: {received}")
    except AssertionError as exc:
        exc.add_note(relay.report())
        raise


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_a_gstreamer_whep_player_decodes_an_aiortc_publish(peers: Relay, codec: str) -> None:
    relay = peers
    session = WHEP_SESSIONS[codec]
    publisher = relay.aiortc("publish", session, MIME[codec])
    try:
        connected(publisher)
        player = relay.gst("whep", session)
        answer = player.wait_for(lambda e: e.get("event") == "answer" and e["status"] != 409,
                                 "the WHEP answer")
        assert answer["status"] == 201 and answer["setup"] == ["a=setup:active"], answer
        connected(player)
        decoded = player.wait_for(
            lambda e: e.get("event") == "decoded" and e["video_frames"] >= 30
            and e["audio_buffers"] > 0, "30 decoded video frames and some audio")
        assert decoded["codec"] == codec.upper()
        assert decoded["video"] == "video/x-raw 320x240"  # the publisher's test pattern
        print(f"aiortc {codec} publisher -> GStreamer player: {decoded}")
    except AssertionError as exc:
        exc.add_note(relay.report())
        raise
