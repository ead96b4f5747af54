"""The control room's polls page in Debian's Chromium: the organiser finds the polls the programme
prepared, prepares another, and copies one to a plenary, where its moderator sees the new draft;
a link of another role is refused the page. No console error, no accessibility violation."""

from __future__ import annotations

from urllib.parse import quote

from playwright.async_api import Browser, expect

from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e import chromium
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

PREPARED = "atelier-3"  # the demo programme prepares three polls there
RATING = "Comment évaluez-vous cet atelier ?"


async def test_the_organiser_prepares_and_copies_polls(live_server: RunningServer,
                                                       browser: Browser) -> None:
    pages = chromium.Pages(browser, live_server)
    control_link = live_server.links.control
    token = token_of(control_link)
    async with pages.reported("browser-control-polls-failure"):
        page = await pages.new_page("control-polls", {"width": 1024, "height": 768})
        await page.goto(f"{live_server.base_url}/control?t={quote(token)}")
        await page.get_by_test_id("control-polls-link").click()
        await page.get_by_test_id("control-polls-session").select_option(PREPARED)
        await page.get_by_role("button", name="Afficher").click()
        await expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
        cards = page.get_by_test_id("mod-poll-list")
        await expect(cards).to_contain_text(RATING)
        await expect(cards).to_contain_text("En un mot, quelle priorité")
        # another poll, prepared here as on the console
        await page.get_by_test_id("poll-question").fill("Une idée pour demain ?")
        await page.get_by_test_id("poll-kind-text").check()
        await page.get_by_test_id("poll-create").click()
        await expect(cards).to_contain_text("Une idée pour demain ?")
        # the rating copied to the plenary: its moderator gets a new draft
        moderator = await Client(live_server.ws_base, SESSION,
                                 token_of(live_server.link("moderator", SESSION))).connect()
        try:
            assert not any(p["question"] == RATING for p in moderator.view["polls"])
            await page.get_by_test_id("copy-poll").select_option(label=f"{RATING} (Note de 1 à 5)")
            await page.get_by_test_id("copy-to").select_option(SESSION)
            await page.get_by_test_id("copy-submit").click()
            await expect(page.get_by_test_id("notice")).to_contain_text("Copié en brouillon")
            copy = await moderator.wait_for(lambda: next(
                (p for p in moderator.view["polls"] if p["question"] == RATING), None))
            assert (copy["kind"], copy["status"]) == ("rating", "draft")
        finally:
            await moderator.close()
        await assert_accessible(page, "control room's polls page")
        # a moderator's link does not open the page
        refused = await page.goto(f"{live_server.base_url}/control/polls?t="
                                  f"{quote(token_of(live_server.link('moderator', SESSION)))}")
        assert refused is not None and refused.status == 403
    assert [p for p in pages.problems if "403" not in p] == []
