"""The booth chat in Chromium, between the two pages of the English booth (same link): a line typed
and sent with Enter reaches the partner's page, named as the sender signed it, and its screen
reader is told of it; the sender's page shows it as its own; the Spanish booth's page never shows
it. After a reload the page still tells its own messages from its partner's, remembers the name,
and does not read the history out again. No console error, no accessibility violation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Locator, Page, WebSocketRoute, expect

from live.config import Settings
from tests.conftest import RunningServer, ServerThread, free_port
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM, Pages

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"  # streamed; languages fr (the floor), en, es
VIEWPORT = {"width": 1280, "height": 900}
RAW_BOOTH_KEY = re.compile(r"\bbooth\.[a-z_]+")


@pytest.fixture
def server() -> Iterator[RunningServer]:
    # Media on loopback only: the pages' floor players try to listen (there is no studio here).
    settings = Settings(port=free_port(), media_addresses=("127.0.0.1",))
    with ServerThread(settings) as running:
        yield running


async def without_acks(ws: WebSocketRoute) -> None:
    """Passes every frame but the server's Acks: the page's messages then stay unanswered."""
    server = ws.connect_to_server()

    def to_page(message: str | bytes) -> None:
        if not (isinstance(message, str) and message.startswith('{"type":"Ack"')):
            ws.send(message)

    server.on_message(to_page)


async def booth_page(pages: Pages, name: str, link: str, *, acks: bool = True) -> Page:
    page = await pages.new_page(name, VIEWPORT)
    if not acks:
        await page.route_web_socket(re.compile(r"/ws/sessions/"), without_acks)
    await page.goto(link)
    await expect(page.get_by_test_id("booth-chat-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    return page


def line(page: Page, text: str) -> Locator:
    return page.get_by_test_id("booth-chat-line").filter(has_text=text)


async def send(page: Page, text: str) -> None:
    field = page.get_by_test_id("booth-chat-text")
    await field.fill(text)
    await field.press("Enter")
    await expect(field).to_have_value("")


async def test_booth_partners_chat_between_their_pages(server: RunningServer,
                                                       browser: Browser) -> None:
    pages = Pages(browser, server)
    try:
        first = await booth_page(pages, "first", server.link("interpreter en", SESSION))
        second = await booth_page(pages, "second", server.link("interpreter en", SESSION))
        spanish = await booth_page(pages, "spanish", server.link("interpreter es", SESSION),
                                   acks=False)
        await expect(first.get_by_test_id("booth-chat-none")).to_be_visible()

        await first.get_by_test_id("booth-chat-name").fill("Anne")
        await send(first, "Prochain orateur : le maire de Dakar")
        mine = line(first, "le maire de Dakar")
        await expect(mine).to_have_attribute("data-own", "true")
        await expect(mine.locator(".captioner__meta")).to_have_text(re.compile(r"^Vous · "))
        theirs = line(second, "le maire de Dakar")
        await expect(theirs).to_have_attribute("data-own", "false")
        await expect(theirs.locator(".captioner__meta")).to_have_text(re.compile(r"^Anne · "))
        await expect(second.get_by_test_id("booth-chat-live")).to_have_text(
            "Anne\u00a0: Prochain orateur : le maire de Dakar")
        await expect(first.get_by_test_id("booth-chat-live")).to_have_text("")  # not its own

        await send(second, "Je prends le relais à 10 h 30")
        await expect(line(first, "10 h 30").locator(".captioner__meta")).to_have_text(
            re.compile(r"^Partenaire · "))
        await expect(first.get_by_test_id("booth-chat-live")).to_have_text(
            "Partenaire\u00a0: Je prends le relais à 10 h 30")
        await expect(second.get_by_test_id("booth-chat-line").first).to_contain_text("10 h 30")

        # The Spanish booth: its own line shows, nothing of the English booth came before it. Its
        # Acks are held back: a message come back is shown once, as sent, before its answer.
        await send(spanish, "Hola")
        await expect(line(spanish, "Hola")).to_have_attribute("data-state", "sent")
        await expect(line(spanish, "Hola")).to_have_attribute("data-own", "true")
        await expect(spanish.get_by_test_id("booth-chat-line")).to_have_count(1)

        # A reload: own and partner's messages still told apart, the name kept, nothing read out.
        # Asked without its token, the server answers 401 (which Chromium logs), and the page asks
        # again with the token its tab kept (static/js/linktoken.js).
        await first.reload()
        await expect(first.get_by_test_id("booth-chat-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
        await expect(first.get_by_test_id("booth-chat-line")).to_have_count(2)
        await expect(line(first, "le maire de Dakar")).to_have_attribute("data-own", "true")
        await expect(line(first, "10 h 30")).to_have_attribute("data-own", "false")
        await expect(first.get_by_test_id("booth-chat-name")).to_have_value("Anne")
        await expect(first.get_by_test_id("booth-chat-live")).to_have_text("")
        await assert_accessible(first, "booth chat with messages")
        for page in (first, second, spanish):
            assert not RAW_BOOTH_KEY.search(await page.inner_text("body"))
        expected = "first console: Failed to load resource: the server responded with a status of 401"
        assert sum(p.startswith(expected) for p in pages.problems) == 1, pages.problems
        assert [p for p in pages.problems if not p.startswith(expected)] == []
    except BaseException as exc:
        await pages.screenshots("booth-chat-failure")
        if pages.problems:
            exc.add_note("browser problems:\n" + "\n".join(pages.problems))
        raise
