"""The participant page with the keyboard alone (Debian's Chromium, the real service): Tab and
Shift+Tab to move, Enter and Space to act, the arrow keys in a poll. A participant asks a question,
upvotes another, votes in a poll, chooses to hear the English interpretation, turns captions on
and switches the interface to English; the moderator's view of
the session (over the WebSocket) says each reached the service. Every control the focus lands on
on the way must show that it has it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import RunningServer, token_of
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"
OTHERS = "Une question d'un autre participant, à soutenir ?"
MINE = "Posée au clavier, sans souris ?"
POLL = "Voté au clavier ?"
CAPTION = "Sous-titre lu au clavier."
MAX_STEPS = 60  # key presses to reach a control: the page has fewer stops than this

# What has the focus, and whether it shows it: the outline of app.css's :focus-visible, at least
# 2 px wide and not transparent (a control that removes it must bring its own outline).
FOCUSED = """(wanted) => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const shown = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
        && !/rgba\\(.*, 0\\)$/.test(style.outlineColor);
    return {
        wanted: el.matches(wanted), testid: el.dataset.testid || "", id: el.id,
        tag: el.tagName.toLowerCase(),
        text: (el.textContent || "").trim().slice(0, 40),
        shown, outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
    };
}"""


async def move_to(page: Page, wanted: str, key: str = "Tab") -> None:
    """Presses `key` until the control `wanted` (a test id, or a CSS selector) has the focus; on
    the way, each focused control must show its focus."""
    selector = wanted if "[" in wanted else f"[data-testid={wanted}]"
    seen = []
    for _ in range(MAX_STEPS):
        await page.keyboard.press(key)
        focused = await page.evaluate(FOCUSED, selector)
        if focused is None:
            continue
        seen.append(focused["testid"] or focused["id"] or focused["text"] or focused["tag"])
        assert focused["shown"], f"focus not visible on {focused}"
        if focused["wanted"]:
            return
    raise AssertionError(f"{key} never reached {wanted}; focus went through {seen}")


@pytest.fixture
async def moderator(live_server: RunningServer) -> AsyncIterator[Client]:
    client = await Client(live_server.ws_base, SESSION,
                          token_of(live_server.link("moderator", SESSION))).connect()
    yield client
    await client.close()


async def test_ask_upvote_vote_and_switch_language_with_the_keyboard(
        live_server: RunningServer, browser: Browser, moderator: Client) -> None:
    other = await Client(live_server.ws_base, SESSION,
                         token_of(live_server.link("participant", SESSION))).connect()
    await other.ok("AskQuestion", text=OTHERS)
    asked = await moderator.wait_for(lambda: moderator.question(OTHERS))
    await moderator.ok("ApproveQuestion", question_id=asked["id"])
    await other.close()

    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    await page.goto(live_server.link("participant", SESSION))
    await expect(page.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    await expect(page.get_by_test_id("question-list")).to_contain_text(OTHERS)

    # Ask: from the top of the page to the question box, type, then on to the button.
    await move_to(page, "ask-text")
    await page.keyboard.type(MINE)
    await move_to(page, "ask-submit")
    await page.keyboard.press("Enter")
    await moderator.wait_for(lambda: moderator.question(MINE))
    await expect(page.get_by_test_id("ask-text")).to_have_value("")

    # Upvote the other participant's question with Space.
    card = page.get_by_test_id("question-list").get_by_test_id("question-card").filter(
        has_text=OTHERS)
    await move_to(page, "upvote")
    await expect(card.get_by_test_id("upvote")).to_be_focused()
    await page.keyboard.press("Space")
    await moderator.wait_for(lambda: (moderator.question(OTHERS) or {}).get("votes") == 1)
    await expect(card.get_by_test_id("upvote")).to_have_attribute("aria-pressed", "true")

    # A poll opens: it comes above the question form. Shift+Tab enters its radio group on the last
    # option (none is ticked yet); the arrow key moves to and ticks the first; Enter votes.
    await moderator.ok("CreatePoll", question=POLL, options=["Oui", "Non"])
    poll_id = next(p["id"] for p in moderator.view["polls"] if p["question"] == POLL)
    await moderator.ok("OpenPoll", poll_id=poll_id)
    voting = page.get_by_test_id("poll").filter(has_text=POLL)
    await expect(voting).to_be_visible()
    await move_to(page, "poll-option-1", "Shift+Tab")
    await expect(voting.get_by_test_id("poll-option-1")).not_to_be_checked()
    await page.keyboard.press("ArrowUp")
    await expect(voting.get_by_test_id("poll-option-0")).to_be_checked()
    await move_to(page, "poll-vote")
    await page.keyboard.press("Enter")
    await expect(voting.get_by_test_id("poll-note")).to_have_attribute("data-recorded", "true")
    await moderator.wait_for(
        lambda: next(p for p in moderator.view["polls"] if p["id"] == poll_id)["ballots"] == 1)
    assert next(p for p in moderator.view["polls"] if p["id"] == poll_id)["counts"] == [1, 0]

    # Under the player: choose to hear the English interpretation, with the arrow keys on the
    # focused menu (nobody is in the English booth: the page says the original plays).
    await move_to(page, "player-language", "Shift+Tab")
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_test_id("player-language")).to_have_value("en")
    await expect(page.get_by_test_id("player-language-note")).to_contain_text("anglais")
    # Captions on, with Enter; a line the captioner sends shows under the player.
    await move_to(page, "captions-toggle")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("captions-toggle")).to_have_attribute("aria-pressed", "true")
    captioner = await Client(live_server.ws_base, SESSION,
                             token_of(live_server.link("captioner", SESSION))).connect()
    await captioner.ok("PostCaption", language="fr", text=CAPTION, final=True)
    await expect(page.get_by_test_id("captions-lines")).to_contain_text(CAPTION)
    await captioner.close()

    # Switch the interface to English from the language menu, at the top of the page.
    await move_to(page, "a[hreflang=en]", "Shift+Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_test_id("ask")).to_contain_text("Ask a question")
    await expect(page.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)
    # The service remembers the choice for this browser, and still knows the participant.
    assert {"name": "lang", "value": "en"}.items() <= next(
        c for c in await context.cookies() if c["name"] == "lang").items()
    await move_to(page, "tab-questions")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_test_id("tab-mine")).to_be_focused()
    await expect(page.get_by_test_id("tab-mine")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("question-list")).to_contain_text(MINE)
    await context.close()
    assert problems == []
