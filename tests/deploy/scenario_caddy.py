"""Inside a test's network namespace: Caddy with deploy/Caddyfile (plain HTTP on 127.0.0.4, the
site address given as TRIBUNE_DOMAIN) in front of the tribune server on 127.0.0.1, which trusts
X-Forwarded-For from 127.0.0.1 only (Caddy's address towards it). A client on 127.0.0.7 loads a
page, opens the WebSocket and plays WHEP through Caddy, each time claiming to be 203.0.113.9; what
the app saw as the client's address is recorded below uvicorn's proxy-headers handling. Prints one
JSON line. Run by tests/deploy/test_caddy.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
import websockets

from live.config import Settings
from live.domain import Role
from live.media.client import TestPatternTrack, publish
from live.web.auth import Signer
from tests.conftest import ROOT, SESSION, ServerThread, free_port, token_of, uvicorn_config
from tests.media.conftest import make_offer
from tests.processes import stop_process, wait_listening
from tests.waiting import wait_for

SECRET = "caddy-scenario-secret-0123456789"
CADDY, CLIENT, FORGED = "127.0.0.4", "127.0.0.7", "203.0.113.9"


class Recorder:
    """The app as uvicorn calls it, after its proxy-headers middleware: notes whom it served."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.seen.append((scope["type"], scope["path"], scope["client"][0]))
        await self.app(scope, receive, send)

    def client_of(self, kind: str, path: str) -> list[str]:
        return [client for t, p, client in self.seen if t == kind and p == path]


@contextmanager
def caddy(site: str, upstream: str, address: str, port: int) -> Iterator[Path]:
    """Debian's caddy with the deployment's Caddyfile; its storage, config and log in a temp dir."""
    binary = shutil.which("caddy")
    assert binary is not None, "caddy is missing: apt-get install caddy (scripts/test does)"
    home = Path(tempfile.mkdtemp(prefix="caddy-"))
    log = home / "caddy.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config"), "TRIBUNE_DOMAIN": site,
           "TRIBUNE_UPSTREAM": upstream}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter",
             "caddyfile"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home)
    try:
        wait_listening(process, address, port, "caddy")
        yield log
    finally:
        stop_process(process, 5)
        shutil.rmtree(home, ignore_errors=True)


async def main() -> None:
    verdict: dict[str, Any] = {}
    caddy_port = free_port()
    front = f"http://{CADDY}:{caddy_port}"
    settings = Settings(port=free_port(), secret=SECRET, public_url=front,
                        media_addresses=("127.0.0.2",), trusted_proxies=("127.0.0.1",))
    thread = ServerThread(settings)
    recorder = Recorder(thread.app)
    thread.server = uvicorn.Server(uvicorn_config(recorder, settings))
    signer = Signer(SECRET)
    studio_token = signer.issue(Role.STUDIO, SESSION, int(time.time()) + 600)
    forged = {"x-forwarded-for": FORGED}
    with thread as server, caddy(front, f"127.0.0.1:{settings.port}", CADDY, caddy_port) as log:
        link = server.link("participant", SESSION)
        token = token_of(link)
        page_path = link.split("?")[0].replace(server.base_url, "")
        transport = httpx.AsyncHTTPTransport(local_address=CLIENT)
        async with httpx.AsyncClient(transport=transport, timeout=10) as http:
            page = await http.get(link.replace(server.base_url, front), headers=forged)
            verdict["page"] = page.status_code
            verdict["page_client"] = recorder.client_of("http", page_path)
            direct = await http.get(f"http://127.0.0.1:{settings.port}/healthz", headers=forged)
            verdict["direct_client"] = recorder.client_of("http", "/healthz")
            verdict["direct"] = direct.status_code

            ws_path = f"/ws/sessions/{SESSION}"
            async with websockets.connect(f"ws://{CADDY}:{caddy_port}{ws_path}", origin=front,
                                          additional_headers=forged,
                                          local_addr=(CLIENT, 0)) as ws:
                await ws.send(json.dumps({"type": "Hello", "v": 1, "token": token}))
                verdict["ws_first"] = json.loads(await asyncio.wait_for(ws.recv(), 10))["type"]
            verdict["ws_client"] = recorder.client_of("websocket", ws_path)

            studio = await publish(f"{front}/sessions/{SESSION}/whip", studio_token,
                                   [TestPatternTrack(160, 120)])
            try:
                async def on_air() -> bool:  # once the studio's connection is up
                    return bool((await http.get(f"{front}/sessions/{SESSION}/broadcast", headers={
                        "authorization": f"Bearer {token}"})).json()["live"])

                await wait_for(on_air, 10, "the studio on air, seen through Caddy")
                whep = await http.post(
                    f"{front}/sessions/{SESSION}/whep", content=await make_offer("recvonly"),
                    headers={**forged, "authorization": f"Bearer {token}",
                             "content-type": "application/sdp"})
                verdict["whep"] = whep.status_code
                verdict["whep_client"] = recorder.client_of("http", f"/sessions/{SESSION}/whep")
                location = whep.headers.get("location", "")
                verdict["location"] = location
                gone = await http.delete(f"{front}{location}",
                                         headers={"authorization": f"Bearer {token}"})
                verdict["delete"] = gone.status_code
            finally:
                await studio.close()
        text = log.read_text()
        verdict["access_lines"] = text.count('"http.log.access')
        verdict["token_in_caddy_log"] = token in text
    print(json.dumps(verdict))


if __name__ == "__main__":
    asyncio.run(main())
