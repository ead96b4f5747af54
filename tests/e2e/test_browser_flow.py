"""Three browsers on the real service (Debian's Chromium): a participant asks a question, a
moderator approves it and puts it on stage, the stage screen shows it; then a poll goes from
creation to results on the stage; the moderator exports the session and bans the author of an
anonymous question while the participant is offline, whose queued question is then refused.
No console error and no CSP violation is allowed on any page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import Browser, Page, expect

from tests.conftest import SESSION
from tests.e2e import chromium
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import RAW_KEY, REQUIRES_CHROMIUM, Network
from tests.waiting import wait_for

pytestmark = REQUIRES_CHROMIUM

QUESTION = 'Quel rôle pour les villes ? <b>HTML</b> & "guillemets"'
POLL = "Faut-il renforcer la coopération décentralisée ?"
ANONYMOUS = "Une question anonyme qui vaudra un bannissement"
AFTER_BAN = "Et celle-ci, partie hors ligne ?"
BANNED_TEXT = "Vous ne pouvez plus poser de questions ni voter dans cette session."
BANNED_POLL_TEXT = "Vous ne pouvez plus voter dans cette session."
TEN = "Dix réponses tiennent-elles sur l'écran ?"


class Pages(chromium.Pages):
    async def open(self, role: str, viewport: dict[str, int], network: Network | None = None
                   ) -> Page:
        page = await self.new_page(role, viewport)
        if network is not None:
            await page.route_web_socket(re.compile(r"/ws/sessions/"), network.route)
        await page.goto(self.server.link(role, SESSION))
        await expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
        return page


async def test_question_and_poll_reach_the_stage(live_server: Any, browser: Browser) -> None:
    pages = Pages(browser, live_server)
    async with pages.reported("browser-flow-failure"):
        await run_flow(pages)
    for role, page in pages.pages.items():
        text = await page.locator("body").inner_text()
        assert not RAW_KEY.search(text), f"{role}: untranslated key {RAW_KEY.search(text)}"
        assert not re.search(r"\b(?:null|undefined|NaN)\b", text), f"{role}: {text}"
    assert pages.problems == []


async def run_flow(pages: Pages) -> None:
    stage = await pages.open("stage", {"width": 1280, "height": 720})
    moderator = await pages.open("moderator", {"width": 1280, "height": 900})
    network = Network()
    participant = await pages.open("participant", {"width": 360, "height": 740}, network)
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
    await keyboard_keeps_its_place(moderator, approved)
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
    for role, page in pages.pages.items():
        await assert_accessible(page, f"{role}, a question and a poll's results on stage")

    # Closed, then reopened: the participant can vote again.
    await poll_card.get_by_test_id("poll-close").click()
    await expect(poll_card.get_by_test_id("poll-status")).to_have_attribute("data-status", "closed")
    await expect(voting.get_by_test_id("poll-option-0")).to_be_disabled()
    await poll_card.get_by_test_id("poll-reopen").click()
    await expect(poll_card.get_by_test_id("poll-status")).to_have_attribute("data-status", "open")
    await expect(voting.get_by_test_id("poll-option-0")).to_be_enabled()

    await export_links(moderator)
    await ban_through_a_question(moderator, participant, network)
    await ten_options_fit_the_stage(moderator, stage, participant)


async def keyboard_keeps_its_place(moderator: Page, card: Any) -> None:
    """Buttons rebuilt by a render keep the keyboard focus; the editor gets it once shown."""
    await card.get_by_test_id("action-star").focus()
    await moderator.keyboard.press("Enter")
    await expect(card).to_have_class(re.compile(r"\bis-starred\b"))
    await expect(card.get_by_test_id("action-star")).to_be_focused()
    await moderator.keyboard.press("Enter")
    await expect(card).not_to_have_class(re.compile(r"\bis-starred\b"))
    await expect(card.get_by_test_id("action-star")).to_be_focused()
    await card.get_by_test_id("action-edit").focus()
    await moderator.keyboard.press("Enter")
    await expect(card.get_by_test_id("edit-text")).to_be_focused()
    await moderator.keyboard.press("Escape")
    await expect(card.get_by_test_id("action-edit")).to_be_focused()


async def ten_options_fit_the_stage(moderator: Page, stage: Page, participant: Page) -> None:
    """A ten-option poll fits a 1920×1080 stage without scrolling; the participant who has not
    voted yet finds it above the question form."""
    await moderator.get_by_test_id("poll-question").fill(TEN)
    for _ in range(8):
        await moderator.get_by_test_id("poll-add-option").click()
    options = moderator.get_by_test_id("poll-option-input")
    for i in range(10):
        await options.nth(i).fill(f"Réponse numéro {i + 1}, assez longue pour passer à la ligne")
    await moderator.get_by_test_id("poll-create").click()
    card = moderator.get_by_test_id("mod-poll").filter(has_text=TEN)
    await card.get_by_test_id("poll-open").click()
    await card.get_by_test_id("poll-reveal").click()

    await stage.set_viewport_size({"width": 1920, "height": 1080})
    await expect(stage.get_by_test_id("stage-poll-question")).to_have_text(TEN)
    await expect(stage.get_by_test_id("stage-percent-9")).to_have_text(re.compile(r"0"))
    fit: dict[str, Any] = {}

    async def fitted() -> bool:  # the resize refits on the next frame
        fit.update(await stage.evaluate("""() => ({
            scroll: document.documentElement.scrollHeight, height: innerHeight,
            last: document.querySelector("[data-testid=stage-option-9]").getBoundingClientRect().bottom,
            footer: document.getElementById("stage-poll-footer").getBoundingClientRect().bottom,
            clipped: document.getElementById("stage-poll").classList.contains("is-clipped")})"""))
        return (fit["scroll"] <= fit["height"] and fit["last"] <= fit["height"]
                and fit["footer"] <= fit["height"] and not fit["clipped"])

    await wait_for(fitted, 5, lambda: f"the ten options fitting the stage, unclipped: {fit}")

    voting = participant.get_by_test_id("poll").filter(has_text=TEN)
    await expect(voting).to_be_visible()
    assert await participant.evaluate("document.getElementById('polls').nextElementSibling.id") == "ask"
    await assert_accessible(stage, "ten options with results, 1920×1080")
    await assert_accessible(participant, "a poll to answer above the question form")


async def export_links(moderator: Page) -> None:
    """The report exports are plain download links carrying the moderator's token."""
    for kind, expected in (("questions", "Marie Dupont"), ("polls", POLL)):
        link = moderator.get_by_test_id(f"export-{kind}")
        await expect(link).to_be_visible()
        await expect(link).to_have_attribute("download", "")
        href = await link.get_attribute("href")
        assert href and re.fullmatch(rf"/moderate/{SESSION}/{kind}\.csv\?t=[^&\s]+", href), href
        response = await moderator.request.get(urljoin(moderator.url, href))
        assert response.status == 200, (kind, response.status)
        assert response.headers["content-type"].startswith("text/csv")
        assert expected in await response.text()


async def ban_through_a_question(moderator: Page, participant: Page, network: Network) -> None:
    # The same participant now asks anonymously.
    await participant.get_by_test_id("tab-questions").click()
    await participant.get_by_test_id("identity-anonymous").check()
    await participant.get_by_test_id("ask-text").fill(ANONYMOUS)
    await participant.get_by_test_id("ask-submit").click()

    await moderator.get_by_test_id("tab-pending").click()
    card = moderator.get_by_test_id("queue-list").get_by_test_id("question-card").filter(
        has_text=ANONYMOUS)
    await expect(card).to_be_visible(timeout=5_000)
    await expect(card).not_to_contain_text("Marie Dupont")

    # The participant's Wi-Fi drops; meanwhile the moderator bans the author, through the dialog.
    await network.cut()
    await expect(participant.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "offline")
    await card.get_by_test_id("action-ban").click()
    dialog = moderator.get_by_test_id("ban-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("anonyme")
    await assert_accessible(moderator, "the ban dialog open")
    await dialog.get_by_test_id("ban-confirm").click()
    await expect(dialog).to_be_hidden()
    banned = moderator.get_by_test_id("banned-item")
    await expect(banned).to_have_count(1)
    # Banned through an anonymous question: the ban does not reveal the name used elsewhere.
    await expect(banned.get_by_test_id("banned-name")).to_have_text("Anonyme")
    await expect(banned).not_to_contain_text("Marie Dupont")
    await expect(card).to_have_count(0)  # its pending question is dismissed

    # Still offline, the participant asks again: the question waits, then is refused on return.
    await participant.get_by_test_id("ask-text").fill(AFTER_BAN)
    await participant.get_by_test_id("ask-submit").click()
    notice = participant.get_by_test_id("notice")
    await expect(notice).to_contain_text("hors ligne", ignore_case=True)
    await network.restore(participant)
    await expect(participant.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    await expect(notice).to_have_text(BANNED_TEXT)
    await expect(notice).to_have_attribute("data-kind", "error")
    await expect(participant.get_by_test_id("ask-closed")).to_have_text(BANNED_TEXT)
    await expect(participant.get_by_test_id("ask-submit")).to_be_hidden()
    await expect(moderator.get_by_test_id("queue-list")).not_to_contain_text(AFTER_BAN)
    # The open poll they voted in says they can no longer vote (not "your vote is recorded").
    voting = participant.get_by_test_id("poll").filter(has_text=POLL)
    await expect(voting.get_by_test_id("poll-note")).to_have_text(BANNED_POLL_TEXT)
    await expect(voting.get_by_test_id("poll-vote")).to_be_hidden()
    await expect(voting.get_by_test_id("poll-option-0")).to_be_disabled()
    await assert_accessible(participant, "banned, a poll open")
    await assert_accessible(moderator, "a participant banned")

    # Unbanned: the participant may ask again.
    await banned.get_by_test_id("action-unban").click()
    await expect(banned).to_have_count(0)
    await expect(participant.get_by_test_id("ask-closed")).to_be_hidden()
    await expect(participant.get_by_test_id("ask-submit")).to_be_visible()
