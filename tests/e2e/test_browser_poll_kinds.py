"""The poll kinds beyond a choice, from a phone to the stage screen (Debian's Chromium): the
moderators (over a WebSocket) open a rating, a word cloud and an open question; a participant
answers each on the page, another over a WebSocket; the moderators approve the open answer and
hide a word, then reveal each poll: the stage shows the average with a decimal comma, the cloud
without the hidden word, and the approved answer. No console error, no CSP violation, and no
accessibility violation on the participant's page, before and after the results."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.conftest import SESSION, RunningServer, token_of
from tests.e2e import chromium
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import RAW_KEY, REQUIRES_CHROMIUM
from tests.wsclient import Client

pytestmark = REQUIRES_CHROMIUM

RATING = "Comment notez-vous cette séance ?"
WORDS = "Un mot pour la ville de demain ?"
TEXT = "Quelle idée pour votre quartier ?"
ANSWER = "Des pistes cyclables le long du fleuve"


class Pages(chromium.Pages):
    async def open(self, role: str, viewport: dict[str, int]) -> Page:
        page = await self.new_page(role, viewport)
        await page.goto(self.server.link(role, SESSION))
        await expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)
        return page


async def connect(server: RunningServer, role: str) -> Client:
    return await Client(server.ws_base, SESSION, token_of(server.link(role, SESSION))).connect()


async def test_rating_words_and_text_polls_from_the_phone_to_the_stage(
        live_server: RunningServer, browser: Browser) -> None:
    pages = Pages(browser, live_server)
    moderator = await connect(live_server, "moderator")
    other = await connect(live_server, "participant")
    try:
        async with pages.reported("browser-poll-kinds-failure"):
            await run(pages, moderator, other)
    finally:
        await other.close()
        await moderator.close()
    for role, page in pages.pages.items():
        text = await page.locator("body").inner_text()
        assert not RAW_KEY.search(text), f"{role}: untranslated key {RAW_KEY.search(text)}"
        assert not re.search(r"\b(?:null|undefined|NaN)\b", text), f"{role}: {text}"
    assert pages.problems == []


async def run(pages: Pages, moderator: Client, other: Client) -> None:
    stage = await pages.open("stage", {"width": 1280, "height": 720})
    phone = await pages.open("participant", {"width": 390, "height": 844})

    ids: dict[str, str] = {}
    for kind, question in (("rating", RATING), ("words", WORDS), ("text", TEXT)):
        await moderator.ok("CreatePoll", question=question, kind=kind)
        poll = await moderator.wait_for(lambda q=question: next(
            (p for p in moderator.view["polls"] if p["question"] == q), None))
        ids[kind] = poll["id"]
        await moderator.ok("OpenPoll", poll_id=poll["id"])

    cards = phone.get_by_test_id("poll")
    await expect(cards).to_have_count(3)
    rating, words, text = (cards.filter(has_text=q) for q in (RATING, WORDS, TEXT))

    # A mark: a real radio group, its marks named by their number.
    await rating.get_by_role("radio", name="4").check()
    await rating.get_by_test_id("poll-vote").click()
    await expect(rating.get_by_test_id("poll-note")).to_have_text(
        "Votre vote est enregistré. Vous pouvez le modifier tant que le sondage est ouvert.")

    # Words, written as people do: the server keeps them lower case, without the punctuation.
    await words.get_by_label("Mot 1").fill("Mobilités !")
    await words.get_by_label("Mot 2").fill("Vélo")
    await words.get_by_label("Mot 3").fill("Interdit")
    await words.get_by_test_id("poll-vote").click()
    await expect(words.get_by_test_id("poll-mine")).to_have_text(
        "Vos mots\u00a0: mobilités, vélo, interdit")

    # An open answer, which the participant is told waits for the moderators.
    await expect(text).to_contain_text("lue par l'équipe de modération avant d'être affichée")
    await text.get_by_label("Votre réponse").fill(ANSWER)
    await text.get_by_test_id("poll-vote").click()
    await expect(text.get_by_test_id("poll-note")).to_contain_text("approuvée par la modération")
    await assert_accessible(phone, "participant, three kinds of polls open")

    # Another participant: a 5, so the average is 4.5; "vélo" twice, the largest word.
    await other.ok("CastBallot", poll_id=ids["rating"], choices=[5])
    await other.ok("CastBallot", poll_id=ids["words"], answers=["vélo"])

    def answers(kind: str) -> list[dict[str, Any]]:
        poll = next(p for p in moderator.view["polls"] if p["id"] == ids[kind])
        return list(poll["answers"] or [])

    await moderator.wait_for(lambda: any(a["text"] == ANSWER for a in answers("text")))
    await moderator.wait_for(lambda: any(a["text"] == "interdit" for a in answers("words")))
    await moderator.ok("ScreenAnswer", poll_id=ids["text"], text=ANSWER, shown=True)
    await moderator.ok("ScreenAnswer", poll_id=ids["words"], text="interdit", shown=False)

    # Revealing a poll's results puts it on stage.
    await moderator.ok("RevealResults", poll_id=ids["rating"])
    await expect(stage.get_by_test_id("stage-poll-question")).to_have_text(RATING)
    await expect(stage.get_by_test_id("stage-rating-average")).to_have_text("4,5\u00a0/\u00a05")
    await expect(stage.get_by_test_id("stage-mark-percent-4")).to_have_text("50\u00a0%")
    await expect(stage.get_by_test_id("stage-poll-footer")).to_have_text("2 participations")
    await expect(rating.get_by_test_id("poll-average")).to_have_text(
        "Note moyenne\u00a0: 4,5\u00a0/\u00a05")

    await moderator.ok("RevealResults", poll_id=ids["words"])
    cloud = stage.get_by_test_id("stage-word-cloud")
    await expect(cloud.get_by_test_id("stage-word")).to_have_text(["mobilités", "vélo"])
    sizes = [await cloud.get_by_text(word, exact=True).evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)") for word in ("mobilités", "vélo")]
    assert sizes[1] > sizes[0], sizes  # given twice: larger
    await expect(words.get_by_test_id("poll-cloud")).not_to_contain_text("interdit")

    await moderator.ok("RevealResults", poll_id=ids["text"])
    await expect(stage.get_by_test_id("stage-answer")).to_have_text([ANSWER])
    await expect(text.get_by_test_id("poll-answers")).to_have_text(ANSWER)
    await assert_accessible(phone, "participant, the results of three kinds of polls")
    await assert_accessible(stage, "stage, an open question's approved answer")
