"""What the browser tests share: Debian's Chromium, its flags, its fixtures, and the page checks."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, WebSocketRoute, async_playwright

from tests.conftest import ROOT

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
ARTIFACTS = ROOT / "test-artifacts"

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


# The fixtures, made visible by the conftest.py files that import them.
@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched(BASE_ARGS) as b:
        yield b


@pytest.fixture
async def media_browser() -> AsyncIterator[Browser]:
    """With the fake camera and microphone, and loopback candidates."""
    async with launched(MEDIA_ARGS) as b:
        yield b


class Pages:
    """Pages of the test's roles, each in its own browser context (French, the given viewport),
    and what went wrong on them: console errors (CSP violations are reported there too) and
    uncaught exceptions, in `problems`; screenshots of them all when a test fails."""

    def __init__(self, browser: Browser, server: Any) -> None:
        self.browser, self.server = browser, server
        self.problems: list[str] = []
        self.pages: dict[str, Page] = {}

    async def new_page(self, name: str, viewport: dict[str, int], *init_scripts: str) -> Page:
        context = await self.browser.new_context(viewport=viewport, locale="fr-FR")
        for script in init_scripts:
            await context.add_init_script(script)
        page = await context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                self.problems.append(f"{name} console: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{name} page error: {exc}"))
        self.pages[name] = page
        return page

    async def screenshots(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for role, page in self.pages.items():
            await page.screenshot(path=str(ARTIFACTS / f"{name}-{role}.png"), full_page=True)

    @contextlib.asynccontextmanager
    async def reported(self, name: str) -> AsyncIterator[None]:
        """A failure inside leaves screenshots of every page and the browser's problems as a note."""
        try:
            yield
        except pytest.skip.Exception:
            raise  # not a failure (a Chromium without H.264)
        except BaseException as exc:
            await self.screenshots(name)
            if self.problems:
                exc.add_note("browser problems:\n" + "\n".join(self.problems))
            raise


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
