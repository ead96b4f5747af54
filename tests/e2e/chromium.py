"""What the browser tests share: Debian's Chromium, its flags, and the page checks."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, async_playwright

CHROMIUM = "/usr/bin/chromium"
# Not skipped without it: scripts/test installs Debian's chromium, and a browser test that quietly
# did not run would pass the suite on a machine that cannot show the pages work.
REQUIRES_CHROMIUM = [pytest.mark.browser]
# Without the background-networking flags, Chromium tries Google's hosts, which this network refuses.
BASE_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MEDIA_ARGS = [
    *BASE_ARGS,
    # A fake camera (a moving pattern, 30 fps) and microphone (a beep), granted without a prompt.
    "--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
    # Loopback candidates, and plain addresses instead of .local names (the relay resolves none).
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# A catalog key shown as such means a translation is missing.
RAW_KEY = re.compile(
    r"\b(?:action|ask|banned|conn|error|fatal|identity|kind|moderator|player|poll|polls|question|"
    r"questions|queue|sort|stage|stats|status|studio|tabs)\.[a-z_0-9]+")


@contextlib.asynccontextmanager
async def launched(args: list[str]) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            await browser.close()


class Network:
    """Between the page and the server: passes frames, goes deaf (the server's frames are lost,
    as when Wi-Fi drops after a send), or goes down (sockets closed, new ones refused)."""

    def __init__(self) -> None:
        self.down = False
        self.deaf = False
        self.sockets: list[WebSocketRoute] = []

    async def route(self, ws: WebSocketRoute) -> None:
        if self.down:
            await ws.close(code=1011)
            return
        server = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            if not self.deaf:
                ws.send(message)

        server.on_message(to_page)
        self.sockets.append(ws)

    async def cut(self) -> None:
        self.down = True
        for ws in self.sockets:
            await ws.close(code=1001)
        self.sockets.clear()

    async def restore(self, page: Page) -> None:
        self.down = self.deaf = False
        await page.evaluate("window.dispatchEvent(new Event('online'))")  # skips the backoff wait
