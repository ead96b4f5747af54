"""live/media/client.py's publisher or viewer, reporting as JSON lines, for tests that run it in a
process of its own (inside the network namespace of tests/media/test_gstreamer.py):

    .venv/bin/python -m tests.media.aiortc_peer publish URL TOKEN [--codec video/H264]
    .venv/bin/python -m tests.media.aiortc_peer watch URL TOKEN

A viewer prints what it received every half second; both stop on SIGTERM (DELETE first) or after
--seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from typing import Any

from aiortc.mediastreams import AudioStreamTrack

from live.media.client import Peer, TestPatternTrack, publish, watch


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("publish", "watch"))
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--codec", help="the video codec to offer (video/VP8, video/H264)")
    parser.add_argument("--seconds", type=float, default=60, help="stop after this long at most")
    args = parser.parse_args()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    peer: Peer
    if args.action == "publish":
        peer = await publish(args.url, args.token, [TestPatternTrack(320, 240), AudioStreamTrack()],
                             video_codec=args.codec)
    else:
        peer = await watch(args.url, args.token)
    say(event="answer", resource=peer.resource_url)

    @peer.pc.on("connectionstatechange")
    def on_state() -> None:
        say(event="connection", state=peer.pc.connectionState)

    try:
        async with asyncio.timeout(args.seconds):
            while not stop.is_set():
                if args.action == "watch":
                    say(event="received", **{kind: {
                        "frames": r.frames, "keyframes": r.keyframes, "mime": r.mime_type,
                        "first_is_keyframe": r.first_is_keyframe} for kind, r in peer.received.items()})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
    except TimeoutError:
        pass
    finally:
        await peer.close()


if __name__ == "__main__":
    asyncio.run(main())
