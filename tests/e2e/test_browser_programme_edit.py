"""The programme edited in the control room, in Debian's Chromium: a session's new title and room,
saved in the TOML editor, reach an open participant page without a reload (its session stays
open); saved in the form, field by field, they reach the server, and a second tab still on the old
version is told who saved since and reloads the latest."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.conftest import SESSION, token_of
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
        await control.get_by_test_id("programme-tab-toml").click()
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


async def open_form(pages: Pages, role: str, link: str) -> Page:
    """The control room on its programme form, with the session's details opened."""
    control = await pages.new_page(role, {"width": 1280, "height": 900})
    await control.goto(link)
    await expect(control.get_by_test_id("programme-tab-form")).to_have_attribute(
        "aria-selected", "true")
    session = control.locator(f'details[data-session="{SESSION}"]')
    await session.locator("summary").click()
    await expect(session.get_by_test_id("programme-form-room")).to_be_visible()
    return control


async def test_the_programme_form_saves_a_session_and_names_a_later_save(
        live_server: Any, browser: Browser) -> None:
    pages = Pages(browser, live_server)
    link = live_server.links.control
    async with pages.reported("browser-programme-form-failure"):
        first = await open_form(pages, "control", link)
        second = await open_form(pages, "control-2", link)  # on version 1 too
        session = first.locator(f'details[data-session="{SESSION}"]')
        await expect(session.get_by_test_id("programme-form-id")).to_have_attribute("readonly", "")
        await session.get_by_test_id("programme-form-title").fill("Plénière déplacée")
        await session.get_by_test_id("programme-form-room").fill("Salle Europe")
        await expect(session.locator("summary")).to_contain_text("Plénière déplacée")
        await expect(session.locator("summary")).to_contain_text("Salle Europe")
        await assert_accessible(first, "the programme form with a session open")
        await first.get_by_test_id("programme-by").fill("Claire")
        await first.get_by_test_id("programme-form-save").click()
        await expect(first.get_by_test_id("programme-message")).to_have_text(
            "Version 2 enregistrée.")
        shown = await (await first.request.get(
            f"{live_server.base_url}/control/programme",
            headers={"authorization": f"Bearer {token_of(link)}"})).json()
        saved = next(s for s in shown["data"]["sessions"] if s["id"] == SESSION)
        assert (saved["title"], saved["room"]) == ("Plénière déplacée", "Salle Europe")
        assert shown["history"][0]["by"] == "Claire" and 'room = "Salle Europe"' in shown["text"]
        assert any(s["polls"] for s in shown["data"]["sessions"])  # kept though not shown

        # The second tab saves on version 1: refused, naming who saved since; it reloads.
        other = second.locator(f'details[data-session="{SESSION}"]')
        await other.get_by_test_id("programme-form-room").fill("Annexe")
        await second.get_by_test_id("programme-form-save").click()
        message = second.get_by_test_id("programme-message")
        await expect(message).to_contain_text("Claire a enregistré la version 2")
        await second.get_by_test_id("programme-latest").click()
        await expect(message).to_have_text("Version 2 rechargée.")
        await expect(other.get_by_test_id("programme-form-room")).to_have_value("Salle Europe")
        await expect(second.get_by_test_id("programme-latest")).to_be_hidden()

        # A session added to a day: its id asked for, the server's refusal shown, then saved.
        await second.get_by_test_id("programme-form-add-session").first.click()
        added = second.locator('details[data-session=""]')
        await expect(added.get_by_test_id("programme-form-id")).to_be_focused()
        await second.get_by_test_id("programme-form-save").click()
        await expect(message).to_have_text("Donnez un identifiant à la nouvelle session.")
        await expect(added.get_by_test_id("programme-form-id")).to_be_focused()
        await added.get_by_test_id("programme-form-id").fill("atelier-nouveau")
        await added.get_by_test_id("programme-form-title").fill("Nouvel atelier")
        await added.get_by_label("Langues").fill("fr, english")
        await second.get_by_test_id("programme-form-save").click()
        await expect(message).to_contain_text("session 'atelier-nouveau': 'languages'")
        await added.get_by_label("Langues").fill("fr, en")
        await second.get_by_test_id("programme-form-save").click()
        await expect(message).to_have_text("Version 3 enregistrée.")
        stored = second.locator('details[data-session="atelier-nouveau"]')
        await expect(stored.get_by_test_id("programme-form-id")).to_have_attribute("readonly", "")
        # Chromium logs each refused save itself: those lines, and nothing else.
        refused = [re.fullmatch(r"control-2 console: Failed to load resource: the server "
                                r"responded with a status of (\d+) \(.*\)", problem)
                   for problem in pages.problems]
        assert [match and match[1] for match in refused] == ["409", "422"], pages.problems
