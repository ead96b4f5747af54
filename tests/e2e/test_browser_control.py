"""The control room in Debian's Chromium: it shows a studio going live and a moderator connecting
in other browsers, and an alert while the session has no moderator, gone once one connects; then
the links for the day: revoking the moderator's links closes the open console and shows new ones,
and the room's sheet prints as one A4 page whose QR code, decoded, opens the session as asked
from the room."""

from __future__ import annotations

import base64
import io
import re
from datetime import datetime
from pathlib import Path

import openpyxl
from playwright.async_api import Browser, Dialog, Page, expect

from tests.conftest import SESSION
from tests.e2e.axe import assert_accessible
from tests.e2e.chromium import REQUIRES_CHROMIUM
from tests.e2e.test_browser_media import CSP_PROBE, Pages
from tests.media.conftest import MediaServer, serving

pytestmark = REQUIRES_CHROMIUM

JSQR = Path(__file__).resolve().parents[2] / "node_modules" / "jsqr" / "dist" / "jsQR.js"
# Runs in the page: the QR code in a PNG screenshot, read back as the text it carries.
DECODE = """async (png) => {
    const image = new Image();
    image.src = `data:image/png;base64,${png}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [image.width, image.height];
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height);
    const code = jsQR(pixels.data, image.width, image.height);
    return code ? code.data : null;
}"""


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
        assert book.sheetnames == ["Sessions", "Questions", "Sondages", "Fréquentation",
                                   "Modération"]
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
        await links_for_the_day(pages, control)


async def links_for_the_day(pages: Pages, control: Page) -> None:
    card = control.get_by_test_id(f"room-{SESSION}")
    links = card.get_by_test_id("room-links")
    await links.locator("summary").click()
    moderator = links.get_by_test_id("links-moderator")
    url = moderator.get_by_test_id("link-url")
    await expect(url).to_have_value(re.compile(rf"/moderate/{SESSION}\?t="))
    old = await url.input_value()

    async def accept(dialog: Dialog) -> None:
        assert "Révoquer tous les liens" in dialog.message
        await dialog.accept()

    control.once("dialog", accept)
    await moderator.get_by_test_id("links-revoke").click()
    await expect(links.get_by_test_id("links-notice")).to_contain_text("sont révoqués")
    await expect(url).not_to_have_value(old)
    # The console opened with the old link is closed: nobody moderates any more.
    await expect(card.get_by_test_id("room-moderator")).to_have_text("Personne", timeout=10_000)
    await assert_accessible(control, "control room with a room's links open")

    async with control.expect_popup() as opening:
        await links.get_by_test_id("links-sheet").click()
    sheet = await opening.value
    short = sheet.get_by_test_id("sheet-short")
    await expect(short).to_contain_text("/j/")
    await assert_accessible(sheet, "a room's printable sheet")
    pdf = await sheet.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    png = await sheet.get_by_test_id("sheet-qr").locator("svg").screenshot()
    await sheet.evaluate(JSQR.read_text("utf-8"))
    decoded = await sheet.evaluate(DECODE, base64.b64encode(png).decode())
    assert decoded == (await short.text_content() or "").strip()

    onsite = await pages.new_page("onsite", {"width": 390, "height": 844})
    await onsite.goto(decoded)
    await expect(onsite.get_by_test_id("ask-form")).to_be_visible()
    assert onsite.url.endswith(f"/s/{SESSION}?onsite=1")  # the token out of the address bar
