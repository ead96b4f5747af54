"""Asking, as a new participant finds it (issue 12, section 5): the question box is in view
without scrolling on a phone and on a laptop, under or beside the player; an organisation typed
without a name is not dropped silently, right after asking the empty list says the question waits for the
moderators rather than "ask the first one", and a refusal for going too fast says how long."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_flow import Pages

pytestmark = REQUIRES_CHROMIUM


async def test_an_organisation_needs_a_name_and_a_pending_question_is_said_to_wait(
        live_server: Any, browser: Browser) -> None:
    pages = Pages(browser, live_server)
    async with pages.reported("browser-asking-failure"):
        page = await pages.open("participant", {"width": 390, "height": 844})
        await expect(page.get_by_test_id("player")).to_be_visible()  # a streamed session
        await expect(page.get_by_test_id("ask-text")).to_be_in_viewport(ratio=1)
        laptop = await pages.new_page("laptop", {"width": 1366, "height": 768})
        await laptop.goto(live_server.link("participant", SESSION))
        await expect(laptop.get_by_test_id("ask-text")).to_be_in_viewport(ratio=1)
        await expect(laptop.get_by_test_id("ask-submit")).to_be_in_viewport(ratio=1)
        await assert_accessible(laptop, "the participant page on a laptop")
        empty = page.get_by_test_id("questions-empty")
        await expect(empty).to_have_text("Pas encore de question. Posez la première\u00a0!")
        await page.get_by_test_id("identity-organisation").fill("Ville de Lyon")
        await page.get_by_test_id("ask-text").fill("Quelle place pour les villes moyennes ?")
        await page.get_by_test_id("ask-submit").click()
        notice = page.get_by_test_id("notice")
        await expect(notice).to_have_text(
            "Indiquez aussi votre nom\u00a0: une organisation seule n'est pas affichée.")
        await expect(page.get_by_test_id("identity-name")).to_be_focused()
        await expect(page.get_by_test_id("ask-text")).to_have_value(
            "Quelle place pour les villes moyennes ?")  # kept: nothing was sent
        await page.get_by_test_id("identity-name").fill("Marie Dupont")
        await page.get_by_test_id("ask-submit").click()
        await expect(notice).to_contain_text("Merci", timeout=5_000)
        # Premoderation is on: the public list is still empty, and says why.
        await expect(empty).to_have_text(
            "Votre question attend la modération\u00a0: elle apparaîtra ici une fois publiée.")
        await assert_accessible(page, "a question waiting for moderation")
        # Over the budget (five at once): the refusal says how long to wait.
        for i in range(5):
            await page.get_by_test_id("ask-text").fill(f"Encore une question {i} ?")
            await page.get_by_test_id("ask-submit").click()
        await expect(notice).to_have_text(
            "Vous allez un peu vite\u00a0: réessayez dans 12\u00a0s au plus.", timeout=5_000)
        assert pages.problems == []


async def test_the_question_box_is_whole_on_a_small_phone(live_server: Any,
                                                         browser: Browser) -> None:
    """360 × 640, the player on the page: the top bar, the picture and its controls leave room for
    the whole question field on the first screen, in French and in English (whose connection badge
    is longer), and the compact page passes axe."""
    pages = Pages(browser, live_server)
    async with pages.reported("browser-asking-small-phone-failure"):
        page = await pages.open("participant", {"width": 360, "height": 640})
        await expect(page.get_by_test_id("player")).to_be_visible()
        await assert_whole_on_first_screen(page, 640)
        await assert_accessible(page, "the participant page on a small phone")
        english = await pages.new_page("english", {"width": 360, "height": 640})
        await english.goto(live_server.link("participant", SESSION) + "&lang=en")
        await expect(english.get_by_test_id("conn-status")).to_have_attribute("data-status", "open")
        await assert_whole_on_first_screen(english, 640)
        assert pages.problems == []


async def assert_whole_on_first_screen(page: Page, height: int) -> None:
    field = page.get_by_test_id("ask-text")
    await expect(field).to_be_in_viewport(ratio=1)
    box = await field.bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, f"the question field spans {box}"
    assert await page.evaluate("scrollY") == 0


async def test_a_written_reply_reaches_the_asker_and_everyone(live_server: Any,
                                                               browser: Browser) -> None:
    pages = Pages(browser, live_server)
    async with pages.reported("browser-reply-failure"):
        asker = await pages.open("participant", {"width": 390, "height": 844})
        moderator = await pages.open("moderator", {"width": 1366, "height": 768})
        await asker.get_by_test_id("identity-name").fill("Marie Dupont")
        await asker.get_by_test_id("ask-text").fill("Les villes moyennes auront-elles un fonds ?")
        await asker.get_by_test_id("ask-submit").click()
        card = moderator.get_by_test_id("question-card").filter(has_text="villes moyennes")
        await card.get_by_test_id("action-approve").click()
        await moderator.get_by_test_id("tab-approved").click()
        await card.get_by_test_id("action-reply").click()
        await card.get_by_test_id("edit-text").fill("Oui : un appel à projets ouvre en janvier.")
        await card.get_by_test_id("edit-save").click()
        await expect(card.get_by_test_id("question-reply")).to_have_text(
            "Réponse\u00a0: Oui : un appel à projets ouvre en janvier.")
        mine = asker.get_by_test_id("question-card").filter(has_text="villes moyennes")
        await expect(mine.get_by_test_id("question-reply")).to_have_text(
            "Réponse\u00a0: Oui : un appel à projets ouvre en janvier.", timeout=5_000)
        other = await pages.open("participant", {"width": 390, "height": 844})
        seen = other.get_by_test_id("question-card").filter(has_text="villes moyennes")
        await expect(seen.get_by_test_id("question-reply")).to_contain_text("appel à projets")
        await assert_accessible(asker, "a question with a written reply")
        assert pages.problems == []
