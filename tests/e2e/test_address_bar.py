"""In Chromium: pages take their link's token out of the address bar once loaded; a reload still
works (the tab kept the token), a bookmark (the address without the token) opened in another tab
says the address has no access key."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e.chromium import REQUIRES_CHROMIUM

pytestmark = REQUIRES_CHROMIUM

NO_KEY = "Cette adresse ne contient pas la clé d'accès"


async def address(page: Page) -> str:
    href: str = await page.evaluate("location.href")
    return href


async def without_token(page: Page) -> str:
    """Wait until the address bar no longer carries `t=`; the address."""
    await page.wait_for_function("!new URL(location.href).searchParams.has('t')", timeout=5_000)
    return await address(page)


async def test_a_session_page_hides_its_token_and_survives_a_reload(
        live_server: RunningServer, browser: Browser) -> None:
    context = await browser.new_context(locale="fr-FR")
    problems: list[str] = []
    page = await context.new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    link = live_server.link("participant", SESSION) + "&lang=fr"
    token = token_of(link)
    await page.goto(link)
    await expect(page.get_by_test_id("conn-status")).to_have_attribute("data-status", "open",
                                                                      timeout=10_000)
    bare = await without_token(page)
    assert bare == f"{live_server.base_url}/s/{SESSION}?lang=fr"
    assert token not in await address(page)

    await page.reload()  # the server gets no token: 401, then the page asks again with the kept one
    await expect(page.get_by_test_id("conn-status")).to_have_attribute("data-status", "open",
                                                                      timeout=10_000)
    assert await without_token(page) == bare

    bookmark = await context.new_page()  # another tab: its own (empty) sessionStorage
    response = await bookmark.goto(bare)
    assert response is not None and response.status == 401
    await expect(bookmark.get_by_test_id("error")).to_contain_text(NO_KEY)
    assert await address(bookmark) == bare  # stays there: nothing to ask again with
    # The reload's first answer is the server's 401 (Chromium logs it): expected, nothing else.
    assert [p for p in problems if "status of 401" not in p] == [], problems
    await context.close()


async def test_the_programme_hides_the_public_token_and_keeps_its_links_on_reload(
        live_server: RunningServer, browser: Browser) -> None:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await page.goto(live_server.links.programme or "")
    session_link = page.locator(f'[data-testid="session-{SESSION}"] h3 a')
    await expect(session_link).to_have_count(1)
    assert await without_token(page) == f"{live_server.base_url}/"
    await page.reload()
    await expect(session_link).to_have_count(1, timeout=5_000)
    assert "t=" not in await address(page)
    # The session links themselves carry the token: following one opens the session page.
    await session_link.click()
    await expect(page.get_by_test_id("conn-status")).to_have_attribute("data-status", "open",
                                                                      timeout=10_000)
    assert "t=" not in await without_token(page)
    await context.close()


async def test_a_refused_token_is_hidden_too(live_server: RunningServer, browser: Browser) -> None:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    response = await page.goto(f"{live_server.base_url}/moderate/{SESSION}?t=forged.token")
    assert response is not None and response.status == 401
    assert await without_token(page) == f"{live_server.base_url}/moderate/{SESSION}"
    await page.reload()  # nothing was kept for a refused token: no loop, the no-key page
    await expect(page.get_by_test_id("error")).to_contain_text(NO_KEY)
    await context.close()
