"""The programme edited in the control room, in Debian's Chromium: a session's new title and room,
saved in the editor, reach an open participant page without a reload (its session stays open)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect

from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_flow import Pages

pytestmark = REQUIRES_CHROMIUM


async def test_a_programme_edit_reaches_an_open_participant_page(live_server: Any,
                                                                 browser: Browser) -> None:
    pages = Pages(browser, live_server)
    async with pages.reported("browser-programme-edit-failure"):
        participant = await pages.open("participant", {"width": 390, "height": 844})
        title = participant.get_by_test_id("session-title")
        before = await title.text_content()
        assert before
        control = await pages.new_page("control", {"width": 1280, "height": 900})
        await control.goto(live_server.links.control)
        text = control.get_by_test_id("programme-text")
        await expect(text).not_to_have_value("", timeout=10_000)
        toml = await text.input_value()
        assert f'title = "{before}"' in toml
        head, block = toml.split(f'id = "{SESSION}"\n', 1)
        block = block.replace(f'title = "{before}"', 'title = "Plénière déplacée"', 1).replace(
            'room = "', 'room = "Salle Europe ', 1)
        await text.fill(f'{head}id = "{SESSION}"\n{block}')
        await control.get_by_test_id("programme-by").fill("Claire")
        await control.get_by_test_id("programme-save").click()
        await expect(control.get_by_test_id("programme-message")).to_have_text(
            "Version 2 enregistrée.")
        await expect(control.get_by_test_id("programme-history")).to_contain_text("Claire")
        await assert_accessible(control, "the control room's programme editor")
        await expect(title).to_have_text("Plénière déplacée", timeout=15_000)
        await expect(participant.locator('[data-programme="room"]')).to_contain_text("Salle Europe")
        await expect(participant.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open")  # no reload: the same connection
        assert pages.problems == []
