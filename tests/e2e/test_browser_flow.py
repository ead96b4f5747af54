"""Three browsers on the real service (Debian's Chromium): a participant asks a question, a
moderator approves it and puts it on stage, the stage screen shows it; then a poll goes from
creation to results on the stage. No console error and no CSP violation is allowed on any page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

SESSION = "pleniere-geopolitique"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# A catalog key shown as such means a translation is missing.
RAW_KEY = re.compile(
    r"\b(?:action|ask|banned|conn|error|fatal|identity|kind|moderator|poll|polls|question|questions|"
    r"queue|sort|stage|status|tabs)\.[a-z_]+")

QUESTION = 'Quel rôle pour les villes ? <b>HTML</b> & "guillemets"'
POLL = "Faut-il renforcer la coopération décentralisée ?"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


class Pages:
    """Opens each role's page in its own browser context and records what goes wrong."""

    def __init__(self, browser: Browser, server: Any) -> None:
        self.browser, self.server = browser, server
        self.problems: list[str] = []
        self.pages: dict[str, Page] = {}

    async def open(self, role: str, viewport: dict[str, int]) -> Page:
        context = await self.browser.new_context(viewport=viewport, locale="fr-FR")
        page = await context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            # CSP violations are reported as console errors too.
            if msg.type == "error":
                self.problems.append(f"{role} console: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{role} page error: {exc}"))
        await page.goto(self.server.link(role, SESSION))
        await expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
        self.pages[role] = page
        return page

    async def screenshots(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for role, page in self.pages.items():
            await page.screenshot(path=str(ARTIFACTS / f"{name}-{role}.png"), full_page=True)


async def test_question_and_poll_reach_the_stage(live_server: Any, browser: Browser) -> None:
    pages = Pages(browser, live_server)
    try:
        await run_flow(pages)
    except BaseException as exc:
        await pages.screenshots("browser-flow-failure")
        if pages.problems:
            exc.add_note("browser problems:\n" + "\n".join(pages.problems))
        raise
    for role, page in pages.pages.items():
        text = await page.locator("body").inner_text()
        assert not RAW_KEY.search(text), f"{role}: untranslated key {RAW_KEY.search(text)}"
        assert not re.search(r"\b(?:null|undefined|NaN)\b", text), f"{role}: {text}"
    assert pages.problems == []


async def run_flow(pages: Pages) -> None:
    stage = await pages.open("stage", {"width": 1280, "height": 720})
    moderator = await pages.open("moderator", {"width": 1280, "height": 900})
    participant = await pages.open("participant", {"width": 360, "height": 740})
    await expect(stage.get_by_test_id("stage-idle")).to_be_visible()

    # The participant asks, with a name and an organisation.
    await participant.get_by_test_id("identity-name").fill("Marie Dupont")
    await participant.get_by_test_id("identity-organisation").fill("Ville de Lyon")
    await participant.get_by_test_id("ask-text").fill(QUESTION)
    await participant.get_by_test_id("ask-submit").click()

    # It reaches the moderator's pending queue within 5 s.
    queue = moderator.get_by_test_id("queue-list")
    pending = queue.get_by_test_id("question-card").filter(has_text="<b>HTML</b>")
    await expect(pending).to_be_visible(timeout=5_000)
    await expect(pending.get_by_test_id("question-text")).to_have_text(QUESTION)
    await expect(pending).to_contain_text("Marie Dupont")
    await expect(pending).to_contain_text("Ville de Lyon")
    await expect(moderator.get_by_test_id("tab-pending")).to_contain_text("1")

    # Approve, then put it on stage from the Approved queue.
    await pending.get_by_test_id("action-approve").click()
    await expect(pending).to_have_count(0)
    await moderator.get_by_test_id("tab-approved").click()
    approved = queue.get_by_test_id("question-card").filter(has_text="<b>HTML</b>")
    await expect(approved).to_have_attribute("data-status", "approved")
    await approved.get_by_test_id("action-on_stage").click()
    await expect(moderator.get_by_test_id("stage-current")).to_have_text(QUESTION)

    # The stage shows the text as text: the markup is not interpreted.
    stage_text = stage.get_by_test_id("stage-question-text")
    await expect(stage_text).to_have_text(QUESTION)
    assert await stage_text.locator("b").count() == 0
    await expect(stage.get_by_test_id("stage-question-author")).to_have_text("Marie Dupont")
    await expect(stage.get_by_test_id("stage-question-org")).to_have_text("Ville de Lyon")
    await expect(stage.get_by_test_id("stage-idle")).to_be_hidden()

    # The participant sees it approved in "My questions", and on stage in the public list.
    public = participant.get_by_test_id("question-list").get_by_test_id("question-card")
    await expect(public.filter(has_text="<b>HTML</b>")).to_have_class(re.compile(r"\bis-on-stage\b"))
    await participant.get_by_test_id("tab-mine").click()
    mine = public.filter(has_text="<b>HTML</b>")
    await expect(mine.get_by_test_id("question-status")).to_have_attribute(
        "data-status", "approved")

    # A two-option poll: created, opened, answered, revealed.
    await moderator.get_by_test_id("poll-question").fill(POLL)
    options = moderator.get_by_test_id("poll-option-input")
    await options.nth(0).fill("Oui")
    await options.nth(1).fill("Non")
    await moderator.get_by_test_id("poll-create").click()
    poll_card = moderator.get_by_test_id("mod-poll").filter(has_text=POLL)
    await expect(poll_card.get_by_test_id("poll-status")).to_have_attribute("data-status", "draft")
    await poll_card.get_by_test_id("poll-open").click()
    await expect(poll_card.get_by_test_id("poll-status")).to_have_attribute("data-status", "open")

    stage_poll = stage.get_by_test_id("stage-poll")
    await expect(stage_poll).to_be_visible()
    await expect(stage.get_by_test_id("stage-poll-question")).to_have_text(POLL)
    await expect(stage.get_by_test_id("stage-percent-0")).to_have_text("")  # results hidden

    voting = participant.get_by_test_id("poll").filter(has_text=POLL)
    await voting.get_by_test_id("poll-option-0").check()
    await voting.get_by_test_id("poll-vote").click()
    await expect(voting.get_by_test_id("poll-note")).to_have_attribute("data-recorded", "true")

    await expect(poll_card.get_by_test_id("poll-ballots")).to_contain_text("1")
    await poll_card.get_by_test_id("poll-reveal").click()

    await expect(stage.get_by_test_id("stage-percent-0")).to_contain_text("100")
    await expect(stage.get_by_test_id("stage-percent-1")).to_contain_text("0")
    await expect(voting.get_by_test_id("poll-percent-0")).to_contain_text("100")
