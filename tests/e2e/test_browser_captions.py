"""Live captions in Chromium on the real service: the captioner types a line and presses Enter; a
participant who turned captions on sees it under the player, and their screen reader is told of it
once; the stage screen shows it once a moderator turns stage captions on; the transcript holds
it. Text size and the choice to see captions stay on the device. No console error, no CSP
violation, no accessibility violation on the way."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import ARTIFACTS, REQUIRES_CHROMIUM
from tests.web.vtt import parse_webvtt

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"  # streamed, French with English and Spanish interpretation
FIRST = 'Bienvenue à toutes et à tous --> <b>Lyon</b> & "Dakar"'
SECOND = "Welcome to the plenary session."


class Pages:
    def __init__(self, browser: Browser, server: Any) -> None:
        self.browser, self.server = browser, server
        self.problems: list[str] = []
        self.pages: dict[str, Page] = {}

    async def open(self, role: str, viewport: dict[str, int]) -> Page:
        context = await self.browser.new_context(viewport=viewport, locale="fr-FR")
        page = await context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":  # CSP violations are console errors too
                self.problems.append(f"{role} console: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{role} page error: {exc}"))
        await page.goto(self.server.link(role, SESSION))
        await expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
        self.pages[role] = page
        return page


async def test_a_typed_line_reaches_participants_the_stage_and_the_transcript(
        live_server: Any, browser: Browser) -> None:
    pages = Pages(browser, live_server)
    try:
        await run(pages)
    except BaseException as exc:
        ARTIFACTS.mkdir(exist_ok=True)
        for role, page in pages.pages.items():
            await page.screenshot(path=str(ARTIFACTS / f"captions-failure-{role}.png"),
                                  full_page=True)
        if pages.problems:
            exc.add_note("browser problems:\n" + "\n".join(pages.problems))
        raise
    for role, page in pages.pages.items():
        text = await page.locator("body").inner_text()
        assert not re.search(r"\b(?:captions?|captioner)\.[a-z_]+", text), f"{role}: raw key"
        assert not re.search(r"\b(?:null|undefined|NaN)\b", text), f"{role}: {text}"
    assert pages.problems == []


async def run(pages: Pages) -> None:
    captioner = await pages.open("captioner", {"width": 1024, "height": 768})
    participant = await pages.open("participant", {"width": 390, "height": 844})
    stage = await pages.open("stage", {"width": 1280, "height": 720})
    moderator = await pages.open("moderator", {"width": 1280, "height": 900})

    # The participant turns captions on, larger: nothing written yet.
    captions = participant.get_by_test_id("captions")
    await expect(captions).to_be_visible()
    toggle = captions.get_by_test_id("captions-toggle")
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    await expect(captions.get_by_test_id("captions-box")).to_be_hidden()
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await captions.get_by_test_id("captions-size-l").click()
    box = captions.get_by_test_id("captions-box")
    await expect(box).to_have_attribute("data-size", "l")
    await expect(captions.get_by_test_id("captions-empty")).to_be_visible()

    # Like every session page, the captioner's keeps its token out of the address bar.
    await expect(captioner).to_have_url(re.compile(rf"/caption/{SESSION}$"))

    # The captioner's languages are the session's, named; French is the floor's, chosen first.
    language = captioner.get_by_test_id("caption-language")
    await expect(language).to_have_value("fr")
    await expect(language.locator("option")).to_have_text(["Français", "Anglais", "Espagnol"])
    await assert_accessible(captioner, "the captioner's page, nothing sent")
    field = captioner.get_by_test_id("caption-text")
    await field.fill(FIRST)
    await field.press("Enter")
    await expect(field).to_have_value("")
    await expect(field).to_be_focused()
    sent = captioner.get_by_test_id("caption-sent-line").first
    await expect(sent).to_have_attribute("data-state", "sent")
    await expect(sent).to_contain_text(FIRST)

    # The participant sees it under the player, as text, and the live region says it once.
    line = box.get_by_test_id("caption-line")
    await expect(line).to_have_text([FIRST])
    assert await line.locator("b").count() == 0
    await expect(line).to_have_attribute("lang", "fr")
    await expect(captions.get_by_test_id("captions-empty")).to_be_hidden()
    announced = captions.get_by_test_id("captions-live")
    await expect(announced).to_have_attribute("aria-live", "polite")
    await expect(announced.locator("p")).to_have_text([FIRST])
    await expect(captions.get_by_test_id("captions-lines")).to_have_attribute("aria-hidden", "true")
    await assert_accessible(participant, "captions on, one line")

    # Stage captions are off until a moderator turns them on.
    band = stage.get_by_test_id("stage-captions")
    await expect(band).to_be_hidden()
    switch = moderator.get_by_test_id("stage-captions-toggle")
    await expect(switch).to_be_enabled()
    await expect(switch).not_to_be_checked()
    await switch.check()
    await expect(band).to_be_visible()
    await expect(band.get_by_test_id("caption-line")).to_have_text([FIRST])
    await expect(switch).to_be_checked()
    fits = await stage.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert fits, "the stage scrolls with the captions band"
    await assert_accessible(stage, "stage captions on")
    await assert_accessible(moderator, "stage captions on")

    # A line in English: the participant can now choose the language; still one announcement per
    # line, none for what was already there when the language changed.
    await language.select_option("en")
    await field.fill(SECOND)
    await field.press("Enter")
    await expect(captioner.get_by_test_id("caption-sent-line")).to_have_count(2)
    choose = captions.get_by_test_id("captions-language")
    await expect(choose).to_be_visible()
    await choose.select_option("en")
    await expect(line).to_have_text([SECOND])
    await expect(announced.locator("p")).to_have_count(0)
    await expect(band.get_by_test_id("caption-line")).to_have_text([FIRST])  # the stage: French

    # What the participant chose stays on the device: another tab opens the same way.
    again = await participant.context.new_page()
    again.on("console", lambda msg: pages.problems.append(f"tab: {msg.text}")
             if msg.type == "error" else None)
    await again.goto(pages.server.link("participant", SESSION))
    await expect(again.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    await expect(again.get_by_test_id("captions-toggle")).to_have_attribute("aria-pressed", "true")
    await expect(again.get_by_test_id("captions-box")).to_have_attribute("data-size", "l")
    await expect(again.get_by_test_id("caption-line")).to_have_text([SECOND])
    await expect(again.get_by_test_id("captions-live").locator("p")).to_have_count(0)

    # The transcript holds the line, from the moderators' download link.
    link = moderator.get_by_test_id("export-captions-fr")
    href = await link.get_attribute("href")
    assert href is not None
    response = await moderator.request.get(urljoin(moderator.url, href))
    assert response.status == 200 and response.headers["content-type"].startswith("text/vtt")
    assert [cue.text for cue in parse_webvtt(await response.body())] == [FIRST]
    text = await moderator.request.get(urljoin(moderator.url, href.replace(".vtt", ".txt")))
    assert text.status == 200 and FIRST in await text.text()

    # Off again: the stage band leaves.
    await switch.uncheck()
    await expect(band).to_be_hidden()

    # The captioner's page survives a reload: asked without its token, the server answers 401
    # (which Chromium logs), and the page asks again with the token its tab kept.
    await captioner.reload()
    await expect(captioner.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    await expect(captioner.get_by_test_id("caption-sent-line")).to_have_count(2)
    expected = "captioner console: Failed to load resource: the server responded with a status of 401"
    assert sum(p.startswith(expected) for p in pages.problems) == 1, pages.problems
    pages.problems = [p for p in pages.problems if not p.startswith(expected)]
