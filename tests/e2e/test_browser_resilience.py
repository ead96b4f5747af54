"""A participant's page on a connection that drops (Debian's Chromium, the real service).

The page must reconnect by itself, show it, and catch up on what happened meanwhile without a
reload; a question asked while offline goes once when the connection returns, and a question whose
Ack was lost on the way is re-sent on the next connection and still counted once.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, ConsoleMessage, expect

from live.service import Service
from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM, Network
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

LOST_ACK = "Ma question est partie, mais la réponse s'est perdue ?"
OFFLINE = "Et celle-ci, écrite hors ligne ?"
POLL = "Sondage ouvert pendant la coupure ?"


async def count(server: RunningServer, text: str) -> int:
    """How many questions with this text the service holds: the truth, not a client's view."""
    service: Service = server.app.state.service
    hub = await service.hub(SESSION)
    return sum(q.text == text for q in hub.room.state.questions.values())


async def test_a_dropped_connection_resyncs_and_sends_each_question_once(
        live_server: RunningServer, browser: Browser) -> None:
    problems: list[str] = []
    moderator = await Client(live_server.ws_base, SESSION,
                             token_of(live_server.link("moderator", SESSION))).connect()
    context = await browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
    page = await context.new_page()

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            problems.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    network = Network()
    await page.route_web_socket(re.compile(r"/ws/sessions/"), network.route)
    await page.goto(live_server.link("participant", SESSION))
    status = page.get_by_test_id("conn-status")
    await expect(status).to_have_attribute("data-status", "open", timeout=10_000)
    await page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    notice = page.get_by_test_id("notice")

    # The question reaches the service, but its Ack and events are lost, then the socket drops.
    network.deaf = True
    await page.get_by_test_id("ask-text").fill(LOST_ACK)
    await page.get_by_test_id("ask-submit").click()
    await moderator.wait_for(lambda: moderator.question(LOST_ACK))
    await network.cut()
    await expect(status).to_have_attribute("data-status", "offline", timeout=15_000)

    # While the participant is away, a poll opens; they type another question.
    poll = await moderator.ok("CreatePoll", question=POLL, options=["Oui", "Non"])
    poll_id = next(p["id"] for p in moderator.view["polls"] if p["question"] == POLL)
    assert poll["seq"] > 0
    await moderator.ok("OpenPoll", poll_id=poll_id)
    await page.get_by_test_id("ask-text").fill(OFFLINE)
    await page.get_by_test_id("ask-submit").click()
    await expect(notice).to_contain_text("hors ligne", ignore_case=True)
    await assert_accessible(page, "offline, a question waiting to be sent")

    # Back online: the page reconnects by itself, catches up, and sends what waited, once.
    await network.restore(page)
    await expect(status).to_have_attribute("data-status", "open", timeout=15_000)
    await expect(page.get_by_test_id("poll").filter(has_text=POLL)).to_be_visible()
    await page.get_by_test_id("tab-mine").click()
    mine = page.get_by_test_id("question-list").get_by_test_id("question-card")
    await expect(mine.filter(has_text=OFFLINE)).to_have_count(1, timeout=10_000)
    await expect(mine.filter(has_text=LOST_ACK)).to_have_count(1)
    await expect(page.locator("[data-testid=ask-text]")).to_have_value("")
    await moderator.wait_for(lambda: moderator.question(OFFLINE))
    assert await page.evaluate("window.__sameDocument === true") is True, "the page reloaded"
    assert await count(live_server, LOST_ACK) == 1
    assert await count(live_server, OFFLINE) == 1
    assert problems == []
    await moderator.close()
    await context.close()
