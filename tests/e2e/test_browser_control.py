"""The control room in Debian's Chromium: it shows a studio going live and a moderator connecting
in other browsers, and an alert while the session has no moderator, gone once one connects."""

from __future__ import annotations

import io
import re
from datetime import datetime

import openpyxl
from playwright.async_api import Browser, expect

from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_media import CSP_PROBE, Pages
from tests.media.conftest import MediaServer, serving

pytestmark = REQUIRES_CHROMIUM


async def test_the_control_room_sees_a_studio_go_live_and_a_moderator_arrive(
        media_browser: Browser) -> None:
    # During the plenary, by the programme's clock: it should be on air and moderated.
    with serving(clock_override=datetime(2020, 9, 22, 9, 30)) as server:
        await run(server, media_browser)


async def run(server: MediaServer, media_browser: Browser) -> None:
    pages = Pages(media_browser, server)
    async with pages.reported("browser-control-failure"):
        control = await pages.new_page("control", {"width": 1024, "height": 768}, CSP_PROBE)
        await control.goto(server.app.state.links.control)  # type: ignore[attr-defined]
        card = control.get_by_test_id(f"room-{SESSION}")
        await expect(card.get_by_test_id("room-air")).to_have_text("Hors antenne", timeout=10_000)
        alerts = control.get_by_test_id("control-alerts")
        await expect(alerts).to_contain_text("aucun modérateur connecté")
        await expect(alerts).to_contain_text("rien n'est à l'antenne")
        # The reports: the whole event's workbook, in French, from the room's download link.
        reports = control.get_by_test_id("control-reports")
        await reports.locator("summary").click()
        async with control.expect_download() as downloading:
            await reports.get_by_test_id("report-event").get_by_role(
                "link", name=re.compile(r"^Excel")).click()
        download = await downloading.value
        assert download.suggested_filename.endswith("-event-report.xlsx")
        book = openpyxl.load_workbook(io.BytesIO((await download.path()).read_bytes()))
        assert book.sheetnames == ["Sessions", "Questions", "Sondages", "Fréquentation"]
        await assert_accessible(control, "control room with alerts and its reports")

        studio = await pages.open("studio", {"width": 1280, "height": 900})
        await studio.get_by_test_id("studio-go-live").click()
        await expect(card.get_by_test_id("room-air")).to_have_text("À l'antenne", timeout=15_000)
        await expect(card).to_have_attribute("data-on-air", "true")
        await expect(card.get_by_test_id("room-stream")).to_contain_text("kbit/s", timeout=10_000)
        await expect(alerts).not_to_contain_text("rien n'est à l'antenne", timeout=10_000)

        await pages.open("moderator", {"width": 1280, "height": 900})
        await expect(card.get_by_test_id("room-moderator")).to_have_text("Connecté (1)",
                                                                          timeout=10_000)
        await expect(alerts).not_to_contain_text("aucun modérateur connecté", timeout=10_000)
        await expect(control.get_by_test_id("control-calm")).to_be_visible()  # no other room is on now
        await pages.check_clean()
