"""The moderators' private message and countdown for the speaker (issue 12, section 5): on the
stage screen, acknowledged from there, and never on a participant's page, not even in the state
their page holds."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, expect

from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_flow import Pages

pytestmark = REQUIRES_CHROMIUM

SECRET_LINE = "Plus que deux minutes, concluez"


async def test_a_message_to_the_speaker_is_seen_on_stage_only(live_server: Any,
                                                              browser: Browser) -> None:
    pages = Pages(browser, live_server)
    async with pages.reported("browser-speaker-failure"):
        moderator = await pages.open("moderator", {"width": 1366, "height": 768})
        stage = await pages.open("stage", {"width": 1280, "height": 720})
        # Every frame the participant's page receives, from its first connection on.
        participant = await pages.new_page("participant", {"width": 390, "height": 844})
        received: list[str] = []
        participant.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(
            f if isinstance(f, str) else f.decode())))
        await participant.goto(live_server.link("participant", SESSION))
        await expect(participant.get_by_test_id("conn-status")).to_have_attribute(
            "data-status", "open", timeout=10_000)

        await moderator.get_by_test_id("speaker-text").fill(SECRET_LINE)
        await moderator.get_by_test_id("speaker-send").click()
        await moderator.get_by_test_id("timer-minutes").fill("2")
        await moderator.get_by_test_id("timer-start").click()
        await expect(stage.get_by_test_id("stage-message")).to_have_text(SECRET_LINE)
        await expect(stage.get_by_test_id("stage-timer")).to_have_text(
            re.compile(r"^[12]:\d\d$"))
        await expect(moderator.get_by_test_id("speaker-status")).to_contain_text("pas encore vu")
        await assert_accessible(stage, "stage with a message for the speaker")

        await stage.get_by_test_id("stage-message-seen").click()
        await expect(stage.get_by_test_id("stage-message")).to_be_hidden()
        await expect(moderator.get_by_test_id("speaker-status")).to_contain_text("Vu à")
        await expect(stage.get_by_test_id("stage-timer")).to_be_visible()  # the countdown stays
        await moderator.get_by_test_id("timer-stop").click()
        await expect(stage.get_by_test_id("stage-timer")).to_be_hidden()

        await participant.wait_for_timeout(500)  # anything in flight would have arrived
        assert received, "the participant's page got no frame at all"
        assert not any(SECRET_LINE in frame or "speaker" in frame for frame in received), received
        assert SECRET_LINE not in await participant.locator("body").inner_text()
        assert pages.problems == []
