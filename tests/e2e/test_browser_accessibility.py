"""Every page, in French and in English, in each state a session goes through, checked by axe-core
in Debian's Chromium: the programme, the studio, and the participant, moderator and stage pages
while questions wait, are approved, answered and projected, while a poll is open and once it is
closed with its results, and with the moderator's ban dialog open. The states are made by a
moderator and another participant over the WebSocket (tests/wsclient); the pages only watch, except
the French participant, who asks, upvotes and votes through its page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from tests.conftest import RunningServer, token_of
from tests.e2e.axe import describe, failing, violations
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"  # interactive and streamed: the participant page has the player
LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
WAITING = "Une question qui attend la modération ?"
APPROVED = "Une question approuvée, que l'on peut soutenir ?"
ANSWERED = "Une question déjà traitée ?"
PROJECTED = "La question projetée sur l'écran de la salle ?"
MINE = "Ma propre question, en attente ?"
POLL = "Le sondage est-il lisible par tous ?"


@dataclass
class Pages:
    browser: Browser
    server: RunningServer
    problems: list[str] = field(default_factory=list)
    by_name: dict[str, Page] = field(default_factory=dict)

    async def open(self, role: str, lang: str, url: str | None = None) -> Page:
        context = await self.browser.new_context(locale=LANGUAGES[lang],
                                                 viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        name = f"{role}/{lang}"

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":  # CSP violations included: axe must not cause any
                self.problems.append(f"{name} console: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{name} page error: {exc}"))
        await page.goto(url or self.server.link(role, SESSION))
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        self.by_name[name] = page
        return page

    async def check(self, state: str, *names: str) -> None:
        """axe on these pages (all by default) at once; fails listing every page's violations."""
        names = names or tuple(self.by_name)
        found = await asyncio.gather(*(violations(self.by_name[name]) for name in names))
        report = [f"{name}:\n{describe(failing(v))}" for name, v in zip(names, found, strict=True)
                  if failing(v)]
        if report:
            raise AssertionError(f"accessibility violations, {state}:\n" + "\n".join(report))


@pytest.fixture
async def pages(live_server: RunningServer, browser: Browser) -> AsyncIterator[Pages]:
    the_pages = Pages(browser, live_server)
    yield the_pages
    for page in the_pages.by_name.values():
        await page.context.close()


async def test_every_page_in_every_state(live_server: RunningServer, pages: Pages) -> None:
    programme = live_server.links.programme
    assert programme is not None
    await asyncio.gather(*(pages.open("programme", lang, programme) for lang in LANGUAGES),
                         *(pages.open("studio", lang) for lang in LANGUAGES))
    await pages.check("as opened")
    for page in list(pages.by_name.values()):
        await page.context.close()
    pages.by_name.clear()

    opened = await asyncio.gather(*(pages.open(role, lang) for lang in LANGUAGES
                                    for role in ("participant", "moderator", "stage")))
    for page in opened:
        await expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
    await pages.check("an empty session")

    moderator = await client(live_server, "moderator")
    other = await client(live_server, "participant")
    try:
        await questions_in_every_status(pages, moderator, other)
        await a_poll_open_then_closed_with_results(pages, moderator)
        await ban_dialog(pages)
    finally:
        await moderator.close()
        await other.close()
    assert pages.problems == []


async def client(server: RunningServer, role: str) -> Client:
    return await Client(server.ws_base, SESSION, token_of(server.link(role, SESSION))).connect()


async def questions_in_every_status(pages: Pages, moderator: Client, other: Client) -> None:
    for text in (WAITING, APPROVED, ANSWERED, PROJECTED):
        await other.ok("AskQuestion", text=text, name="Awa Diallo", organisation="Ville de Dakar")
    await moderator.wait_for(lambda: moderator.question(PROJECTED))
    ids = {q["text"]: q["id"] for q in moderator.view["questions"]}
    for text in (APPROVED, ANSWERED, PROJECTED):
        await moderator.ok("ApproveQuestion", question_id=ids[text])
    await moderator.ok("MarkAnswered", question_id=ids[ANSWERED])
    await moderator.ok("PutOnStage", question_id=ids[PROJECTED])

    participant = pages.by_name["participant/fr"]
    await participant.get_by_test_id("ask-text").fill(MINE)
    await participant.get_by_test_id("ask-submit").click()
    approved = participant.get_by_test_id("question-card").filter(has_text=APPROVED)
    await approved.get_by_test_id("upvote").click()
    await expect(approved.get_by_test_id("upvote")).to_have_attribute("aria-pressed", "true")
    await moderator.wait_for(lambda: moderator.question(MINE))
    for lang in LANGUAGES:
        await expect(pages.by_name[f"stage/{lang}"].get_by_test_id("stage-question-text")
                     ).to_have_text(PROJECTED)
        await expect(pages.by_name[f"moderator/{lang}"].get_by_test_id("queue-list")
                     ).to_contain_text(MINE)
        await expect(pages.by_name[f"participant/{lang}"].get_by_test_id("question-list")
                     ).to_contain_text(PROJECTED)
    await pages.check("questions pending, approved, answered, on stage")

    # The other tabs of both lists, with their status badges and actions (in French: the English
    # pages differ by their text only, checked above).
    for tab in ("mine", "answered"):
        await participant.get_by_test_id(f"tab-{tab}").click()
        await expect(participant.get_by_test_id(f"tab-{tab}")).to_have_attribute(
            "aria-selected", "true")
        await pages.check(f"the participant's {tab} tab", "participant/fr")
    await participant.get_by_test_id("tab-questions").click()
    console = pages.by_name["moderator/fr"]
    for tab in ("approved", "answered"):
        await console.get_by_test_id(f"tab-{tab}").click()
        await expect(console.get_by_test_id("queue-panel")).to_have_attribute("data-queue", tab)
        await expect(console.get_by_test_id("question-card").first).to_be_visible()
        await pages.check(f"the moderator's {tab} queue", "moderator/fr")
    await console.get_by_test_id("tab-pending").click()


async def a_poll_open_then_closed_with_results(pages: Pages, moderator: Client) -> None:
    await moderator.ok("CreatePoll", question=POLL, options=["Oui", "Non", "Sans avis"])
    poll_id = next(p["id"] for p in moderator.view["polls"] if p["question"] == POLL)
    await expect(pages.by_name["moderator/fr"].get_by_test_id("mod-poll")).to_contain_text(POLL)
    await pages.check("a draft poll", "moderator/fr")
    await moderator.ok("OpenPoll", poll_id=poll_id)
    participant = pages.by_name["participant/fr"]
    voting = participant.get_by_test_id("poll").filter(has_text=POLL)
    await voting.get_by_test_id("poll-option-1").check()
    await voting.get_by_test_id("poll-vote").click()
    await expect(voting.get_by_test_id("poll-note")).to_have_attribute("data-recorded", "true")
    for lang in LANGUAGES:
        await expect(pages.by_name[f"stage/{lang}"].get_by_test_id("stage-poll-question")
                     ).to_have_text(POLL)
        await expect(pages.by_name[f"participant/{lang}"].get_by_test_id("poll")).to_be_visible()
    await pages.check("a question and an open poll on stage")

    await moderator.ok("RevealResults", poll_id=poll_id)
    await moderator.ok("ClosePoll", poll_id=poll_id)
    await moderator.ok("ClearStage", target="question")
    for lang in LANGUAGES:
        await expect(pages.by_name[f"stage/{lang}"].get_by_test_id("stage-percent-1")
                     ).to_contain_text("100")
        await expect(pages.by_name[f"stage/{lang}"].get_by_test_id("stage-question")).to_be_hidden()
        await expect(pages.by_name[f"participant/{lang}"].get_by_test_id("poll")).to_have_attribute(
            "data-status", "closed")
    await pages.check("a closed poll with its results, alone on stage")


async def ban_dialog(pages: Pages) -> None:
    console = pages.by_name["moderator/fr"]
    card = console.get_by_test_id("queue-list").get_by_test_id("question-card").filter(
        has_text=WAITING)
    await card.get_by_test_id("action-ban").click()
    dialog = console.get_by_test_id("ban-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Awa Diallo")
    await pages.check("the ban dialog open", "moderator/fr")
    await dialog.get_by_test_id("ban-cancel").click()
    await expect(dialog).to_be_hidden()
