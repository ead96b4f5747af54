"""A registrant's personal link in Chromium: the participant page fills in their name and
organisation by itself, and a later change on that device is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_registered import links_of, registered_server

pytestmark = REQUIRES_CHROMIUM


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    yield from registered_server(tmp_path)


async def test_the_personal_link_prefills_name_and_organisation(
        browser: Browser, registered: tuple[RunningServer, Path]) -> None:
    running, out = registered
    personal = token_of(links_of(out)["marie.dupont@example.org"]["link"])
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    url = f"{running.base_url}/s/{SESSION}?t={personal}"
    await page.goto(url)
    await expect(page.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    await expect(page.locator("#identity-name")).to_have_value("Marie Dupont")
    await expect(page.locator("#identity-organisation")).to_have_value("Ville de Lyon")
    # what the registrant changes on this device stays across a reload
    await page.locator("#identity-name").fill("Marie D.")
    await page.locator("#identity-name").dispatch_event("change")
    await page.goto(url)
    await expect(page.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    await expect(page.locator("#identity-name")).to_have_value("Marie D.")
    assert problems == []
    await context.close()
