"""The moderator console's polls in Chromium, on the real service: a choice draft edited in the
form, duplicated, the copy deleted after the page's own confirmation, the poll run, closed and
reset (its ballots cleared); a rating, a word cloud and an open-text poll prepared and run, with
participants answering over the WebSocket (tests/wsclient.py): the rating's average in French, a
word hidden, an open answer approved. The console stays accessible (axe) with these cards, keeps
the keyboard's place, and shows no console error."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e import chromium
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import RAW_KEY, REQUIRES_CHROMIUM
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

DRAFT = "Quel format pour la prochaine édition ?"
EDITED = "Quels formats pour la prochaine édition ?"
RATING = "Comment notez-vous cette séance ?"
WORDS = "Un mot pour cette journée ?"
TEXT = "Une idée pour la suite ?"
IDEA = "Plus de <b>pauses</b>"


async def console(pages: chromium.Pages, server: RunningServer) -> Page:
    page = await pages.new_page("moderator", {"width": 1280, "height": 900})
    await page.goto(server.link("moderator", SESSION))
    await expect(page.get_by_test_id("conn-status")).to_have_attribute("data-status", "open", timeout=10_000)
    return page


@pytest.fixture
async def participants(live_server: RunningServer) -> AsyncIterator[list[Client]]:
    token = token_of(live_server.link("participant", SESSION))
    clients = [await Client(live_server.ws_base, SESSION, token).connect() for _ in range(2)]
    yield clients
    for client in clients:
        await client.close()


async def create(page: Page, question: str, kind: str, options: tuple[str, ...] = ()) -> Locator:
    await page.get_by_test_id(f"poll-kind-{kind}").check()
    await expect(page.get_by_test_id("poll-options-fieldset")).to_be_visible(
        visible=kind in ("single", "multiple"))
    await page.get_by_test_id("poll-question").fill(question)
    for i, option in enumerate(options):
        await page.get_by_test_id("poll-option-input").nth(i).fill(option)
    await page.get_by_test_id("poll-create").click()
    card = page.get_by_test_id("mod-poll").filter(
        has=page.get_by_test_id("poll-question-text").get_by_text(question, exact=True))
    await expect(card).to_have_count(1)
    await expect(card.get_by_test_id("poll-status")).to_have_attribute("data-status", "draft")
    return card


async def focused_testid(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.dataset.testid"))


def is_open(client: Client, poll_id: str) -> bool:
    return any(p["id"] == poll_id and p["status"] == "open" for p in client.view["polls"])


async def confirm(page: Page, expected: str) -> None:
    dialog = page.get_by_test_id("poll-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(expected)
    await page.get_by_test_id("poll-dialog-confirm").click()
    await expect(dialog).to_be_hidden()


async def test_a_choice_draft_is_edited_duplicated_deleted_run_and_reset(
        live_server: RunningServer, browser: Browser, participants: list[Client]) -> None:
    pages = chromium.Pages(browser, live_server)
    async with pages.reported("moderator-polls-choice"):
        page = await console(pages, live_server)
        card = await create(page, DRAFT, "single", ("Sur place", "À distance"))
        await expect(card.get_by_test_id("poll-kind-label")).to_have_text("Choix unique")

        # Edit: the form takes the draft; saved, the card says what it became and the keyboard
        # goes back to the card's Edit button.
        await card.get_by_test_id("poll-edit").click()
        await expect(page.get_by_test_id("poll-form-editing")).to_contain_text(DRAFT)
        assert await focused_testid(page) == "poll-question"
        await page.get_by_test_id("poll-question").fill(EDITED)
        await page.get_by_test_id("poll-kind-multiple").check()
        await page.get_by_test_id("poll-add-option").click()
        await page.get_by_test_id("poll-option-input").nth(2).fill("Les deux")
        await page.get_by_test_id("poll-save").click()
        card = page.get_by_test_id("mod-poll").filter(has_text=EDITED)
        await expect(card.get_by_test_id("poll-kind-label")).to_have_text("Choix multiple")
        await expect(card.locator(".poll-option__label")).to_have_text(
            ["Sur place", "À distance", "Les deux"])
        await expect(page.get_by_test_id("poll-form-editing")).to_be_hidden()
        await expect(page.get_by_test_id("poll-create")).to_be_visible()
        assert await focused_testid(page) == "poll-edit"

        # Duplicate, then delete the copy: cancelled once, then confirmed in the page's dialog.
        await card.get_by_test_id("poll-duplicate").click()
        await expect(card).to_have_count(2)
        copy = card.nth(1)
        await copy.get_by_test_id("poll-delete").click()
        await assert_accessible(page, "moderator, confirming a draft's deletion")
        await page.get_by_test_id("poll-dialog-cancel").click()
        await expect(card).to_have_count(2)
        await copy.get_by_test_id("poll-delete").click()
        await confirm(page, EDITED)
        await expect(card).to_have_count(1)
        assert await focused_testid(page) == "poll-delete"  # the remaining draft's, in its place

        # Run it: a participant votes, the poll is closed then reset to 0 ballots.
        await card.get_by_test_id("poll-open").click()
        poll_id = await card.get_attribute("data-poll-id")
        voter = participants[0]
        await voter.wait_for(partial(is_open, voter, str(poll_id)))
        await voter.ok("CastBallot", poll_id=poll_id, choices=[0, 2])
        await expect(card.get_by_test_id("poll-ballots")).to_have_text("1 participation")
        await card.get_by_test_id("poll-close").click()
        await expect(card.get_by_test_id("poll-status")).to_have_attribute("data-status", "closed")
        await card.get_by_test_id("poll-reset").click()
        await confirm(page, EDITED)
        await expect(card.get_by_test_id("poll-ballots")).to_have_text("0 participation")
        await expect(card.get_by_test_id("poll-reset")).to_have_count(0)  # nothing left to clear
        assert await focused_testid(page) == "poll-reopen"
        await assert_accessible(page, "moderator, a closed poll reset")
    text = await page.locator("body").inner_text()
    assert not RAW_KEY.search(text), RAW_KEY.search(text)
    assert pages.problems == []


async def test_rating_word_cloud_and_open_text_polls_are_run_and_screened(
        live_server: RunningServer, browser: Browser, participants: list[Client]) -> None:
    pages = chromium.Pages(browser, live_server)
    async with pages.reported("moderator-polls-kinds"):
        page = await console(pages, live_server)
        rating = await create(page, RATING, "rating")
        words = await create(page, WORDS, "words")
        text = await create(page, TEXT, "text")
        await expect(rating.get_by_test_id("poll-kind-label")).to_have_text("Note de 1 à 5")
        await expect(rating.get_by_test_id("poll-average")).to_have_text("Aucune note pour l'instant.")
        await expect(words.get_by_test_id("poll-answers")).to_be_empty()

        async def run(card: Locator, *ballots: dict[str, Any]) -> None:
            """Opens the poll of `card`; each participant in turn casts one of `ballots`."""
            await card.get_by_test_id("poll-open").click()
            poll_id = str(await card.get_attribute("data-poll-id"))
            for voter, fields in zip(participants, ballots, strict=False):
                await voter.wait_for(partial(is_open, voter, poll_id))
                await voter.ok("CastBallot", poll_id=poll_id, **fields)

        # Word cloud: two participants, the moderator hides one word; it stays listed, struck.
        await run(words, {"answers": ["Mobilités", "climat"]}, {"answers": ["mobilités !"]})
        answers = words.get_by_test_id("poll-answer")
        await expect(answers.get_by_test_id("poll-answer-text")).to_have_text(["mobilités", "climat"])
        await expect(answers.first.get_by_test_id("poll-answer-count")).to_have_text("2 voix")
        climat = answers.filter(has_text="climat")
        await climat.get_by_test_id("poll-answer-screen").click()
        await expect(climat).to_have_attribute("data-shown", "false")
        await expect(climat.get_by_test_id("poll-answer-screen")).to_have_text("Afficher")
        assert await focused_testid(page) == "poll-answer-screen"
        await words.get_by_test_id("poll-close").click()

        # Open text: the answer waits; approved, it can be hidden again.
        await run(text, {"answers": [IDEA]})
        answer = text.get_by_test_id("poll-answer").filter(has_text=IDEA)
        await expect(answer).to_have_attribute("data-shown", "false")
        await expect(answer).to_contain_text("en attente")
        assert await answer.locator("b").count() == 0  # a participant's text, shown as text
        await answer.get_by_test_id("poll-answer-screen").click()
        await expect(answer).to_have_attribute("data-shown", "true")
        await expect(answer.get_by_test_id("poll-answer-screen")).to_have_text("Masquer")
        await expect(page.get_by_test_id("log-entry").first).to_contain_text(
            f"a modéré une réponse du sondage {TEXT} → {IDEA}")
        await text.get_by_test_id("poll-close").click()

        # Rating: 4 and 5 make 4,5 in French, and the bars say how many gave each mark.
        await run(rating, {"choices": [4]}, {"choices": [5]})
        await expect(rating.get_by_test_id("poll-average")).to_have_text(
            re.compile(r"^Note moyenne\s: 4,5\s/\s5$"))
        await expect(rating.get_by_test_id("poll-percent-3")).to_have_text(re.compile(r"^50\s% \(1 voix\)$"))
        await assert_accessible(page, "moderator, rating, word-cloud and open-text results")
    body = await page.locator("body").inner_text()
    assert not RAW_KEY.search(body), RAW_KEY.search(body)
    assert pages.problems == []
