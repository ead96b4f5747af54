"""User text where people look, in Chromium: markup that would run (an `<img onerror>`, a
`<script>`, an `<svg onload>`), a `javascript:` URL and invisible characters, typed into every field
people fill in (a question, the asker's name and organisation, a poll and its options, a moderator's
edit, a registrant's name and organisation from the registrants file), are shown on every page that
shows them (participant, registrant, moderator, stage) as the text they are: nothing runs, no
element and no link is made of them, and they read exactly as typed, but for the invisible
characters the server removes (live/domain/text.py).

The pages' CSP would block an inline handler that slipped into the DOM; these checks do not count on
it: an element made of user text fails them even when the CSP kept it from running. The programme
page shows nothing people type (the programme is the organiser's file); the CSV exports are
downloads, not pages."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Locator, Page, ViewportSize, expect

from live.config import Settings
from live.domain.state import NAME_CHARS, ORGANISATION_CHARS, POLL_QUESTION_CHARS
from tests.conftest import RunningServer, ServerThread, free_port
from tests.e2e.chromium import ARTIFACTS, REQUIRES_CHROMIUM
from tests.e2e.test_registered import links_of
from tests.e2e.test_ws_flow import SESSION

pytestmark = REQUIRES_CHROMIUM

PHONE = ViewportSize(width=400, height=900)
LAPTOP = ViewportSize(width=1280, height=900)
PROJECTOR = ViewportSize(width=1280, height=720)

RAN = "window.__xss=(window.__xss||0)+1"
IMG = f'<img src=x onerror="{RAN}">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = f'<svg onload="{RAN}">'
JS_URL = "javascript:window.__xss=1"
# Right-to-left override, pop, zero-width space, isolate, BOM: removed by the server. The
# zero-width joiner inside the emoji (one emoji of two) is kept.
BIDI = "Tarif \u202e05 €\u202c ou\u200b 50 €\u2066 ?\u2069\ufeff ok 👩\u200d💻"
BIDI_SHOWN = "Tarif 05 € ou 50 € ? ok 👩\u200d💻"


def shown(typed: str) -> str:
    """What a page shows of `typed`: the same text, without the invisible characters."""
    return typed.replace(BIDI, BIDI_SHOWN)


@dataclass(frozen=True)
class Question:
    name: str
    organisation: str
    text: str

    def as_shown(self) -> Question:
        return Question(shown(self.name), shown(self.organisation), shown(self.text))


# Each payload in each of the three fields of a question.
ASKED = [
    Question(IMG, SVG, SCRIPT),
    Question(SCRIPT, IMG, SVG),
    Question(SVG, JS_URL, f"{IMG} {JS_URL}"),
    Question(JS_URL, SCRIPT, JS_URL),
    Question(BIDI, BIDI, BIDI),
]
EDITED_AT_APPROVAL = (3, f"{BIDI} {JS_URL}")  # ApproveQuestion with a text
EDITED = (0, f"{SCRIPT} {IMG} {SVG}")  # EditQuestion of an approved question
BANNED = 1  # the moderator bans the author of this question
REGISTRANT = Question(SVG, f"{SCRIPT} {JS_URL}", f"{JS_URL} {IMG}")
REGISTRANT_EMAIL = "xss.registrant@example.org"
POLL_QUESTION = f"{IMG} {SCRIPT} {SVG} {JS_URL} {BIDI}"
POLL_OPTIONS = [IMG, SCRIPT, SVG, JS_URL, BIDI]
# Within the limits, so that each payload is shown and not refused.
assert all(len(q.name) <= NAME_CHARS and len(q.organisation) <= ORGANISATION_CHARS
           for q in [*ASKED, REGISTRANT])
assert len(POLL_QUESTION) <= POLL_QUESTION_CHARS

# Elements user text must never become, and where each page shows user text.
MADE_OF_TEXT = "img, script, svg, iframe, object, embed"
SHOWS_USER_TEXT = {
    "participant": ["#question-list", "#poll-list", "#identity-summary"],
    "registrant": ["#question-list", "#poll-list", "#identity-summary"],
    "moderator": ["#queue-list", "#stage-current", "#stage-poll", "#mod-poll-list", "#banned-list",
                  "#ban-dialog"],
    "stage": ["#stage-question", "#stage-poll"],
    "programme": ["main"],
}
# Anywhere in the document: inline handlers and `javascript:` URLs (an anchor's protocol is read
# as the browser parses it, so case, spaces and control characters cannot hide one).
RUNNABLE_ATTRIBUTES = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const url = attr.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (attr.name.startsWith("on")) found.push(`${el.tagName} ${attr.name}`);
      else if (["href", "src", "action", "formaction", "xlink:href", "data"].includes(attr.name)
               && url.startsWith("javascript:")) found.push(`${el.tagName} ${attr.name}=${attr.value}`);
    }
    if ((el instanceof HTMLAnchorElement || el instanceof HTMLAreaElement) && el.protocol === "javascript:")
      found.push(`${el.tagName} href=${el.href}`);
  }
  return found;
}"""


def registrants_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["nom", "organisation", "courriel", "langue"])
        writer.writerow([REGISTRANT.name, REGISTRANT.organisation, REGISTRANT_EMAIL, "fr"])


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    """Registered mode, the public link on: typed names and the registrants file's names at once."""
    source, out = tmp_path / "registrants.csv", tmp_path / "links.csv"
    registrants_csv(source)
    with ServerThread(Settings(port=free_port(), registrants_path=source, links_out=out,
                                print_links=True)) as running:
        yield running, out


class Pages:
    """Each page in its own context, with what goes wrong on it: page errors, console errors (CSP
    violations are reported there), and any alert, confirm or prompt."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.problems: list[str] = []
        self.pages: dict[str, Page] = {}

    async def open(self, name: str, url: str, viewport: ViewportSize) -> Page:
        context = await self.browser.new_context(viewport=viewport, locale="fr-FR")
        page = await context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                self.problems.append(f"{name} console: {msg.text}")

        async def on_dialog(dialog: Dialog) -> None:
            self.problems.append(f"{name} {dialog.type} dialog: {dialog.message}")
            await dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{name} page error: {exc}"))
        page.on("dialog", on_dialog)
        await page.goto(url)
        self.pages[name] = page
        return page

    async def session(self, name: str, url: str, viewport: ViewportSize) -> Page:
        page = await self.open(name, url, viewport)
        await connected(page)
        return page

    async def screenshots(self, prefix: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for name, page in self.pages.items():
            await page.screenshot(path=str(ARTIFACTS / f"{prefix}-{name}.png"), full_page=True)


async def connected(page: Page) -> None:
    await expect(page.get_by_test_id("conn-status")).to_have_attribute(
        "data-status", "open", timeout=10_000)


async def reads(field: Locator, expected: str) -> None:
    """`field` shows `expected` as its text, exactly, and holds nothing but text."""
    await expect(field).to_have_text(expected, use_inner_text=True)
    assert await field.inner_text() == expected
    assert await field.evaluate("el => el.childElementCount") == 0, await field.inner_html()


async def nothing_made_of_text(name: str, page: Page) -> None:
    """No element made of user text where the page shows it, no runnable attribute anywhere, no
    script ran."""
    for container in SHOWS_USER_TEXT[name]:
        made = await page.locator(container).evaluate(
            f"el => [...el.querySelectorAll({MADE_OF_TEXT!r})].map((e) => e.outerHTML)")
        assert made == [], f"{name} {container}: {made}"
    assert await page.evaluate(RUNNABLE_ATTRIBUTES) == [], name
    assert await page.evaluate("typeof window.__xss") == "undefined", name


def question_card(page: Page, listing: Locator, text: str) -> Locator:
    """The card of the question whose text is `text` (an author's name may read the same)."""
    text_field = page.get_by_test_id("question-text").and_(page.get_by_text(text, exact=True))
    return listing.get_by_test_id("question-card").filter(has=text_field)


async def card_reads(page: Page, listing: Locator, question: Question) -> Locator:
    card = question_card(page, listing, question.text)
    await expect(card).to_have_count(1, timeout=5_000)
    await reads(card.get_by_test_id("question-text"), question.text)
    await reads(card.locator(".question__author"), question.name)
    await reads(card.locator(".question__org"), question.organisation)
    return card


async def test_user_text_never_runs_and_reads_as_typed(
        browser: Browser, registered: tuple[RunningServer, Path]) -> None:
    running, links_out = registered
    pages = Pages(browser)
    try:
        await everything_where_people_look(pages, running, links_out)
        for name, page in pages.pages.items():
            await nothing_made_of_text(name, page)
    except BaseException as exc:
        await pages.screenshots("browser-xss-failure")
        if pages.problems:
            exc.add_note("browser problems:\n" + "\n".join(pages.problems))
        raise
    assert pages.problems == []


async def everything_where_people_look(pages: Pages, running: RunningServer, links_out: Path
                                       ) -> None:
    stage = await pages.session("stage", running.link("stage", SESSION), PROJECTOR)
    moderator = await pages.session("moderator", running.link("moderator", SESSION), LAPTOP)
    participant = await pages.session("participant", running.link("participant", SESSION), PHONE)
    registrant = await registrant_page(pages, links_of(links_out)[REGISTRANT_EMAIL]["link"])
    questions = await ask_and_moderate(moderator, participant, registrant)
    for page in (participant, registrant):
        listing = page.get_by_test_id("question-list")
        for question in questions:
            await card_reads(page, listing, question)
    await each_question_on_stage(moderator, stage, questions)
    await poll_with_results_on_stage(moderator, stage, participant, registrant)
    await ban(moderator, questions[BANNED])


async def registrant_page(pages: Pages, personal_link: str) -> Page:
    """The personal link opens the programme (nothing typed by anyone on it), then the session,
    whose form the registrants file fills in."""
    page = await pages.open("programme", personal_link, PHONE)
    join = page.get_by_test_id(f"join-{SESSION}")
    await expect(join).to_be_visible()
    assert "__xss" not in await page.locator("body").inner_text()
    await nothing_made_of_text("programme", page)
    registrant = await pages.open("registrant", await absolute(page, join), PHONE)
    await connected(registrant)
    await expect(registrant.locator("#identity-name")).to_have_value(REGISTRANT.name)
    await expect(registrant.locator("#identity-organisation")).to_have_value(REGISTRANT.organisation)
    summary = registrant.get_by_test_id("identity-summary")
    await expect(summary).to_contain_text(REGISTRANT.name)
    assert await summary.evaluate("el => el.childElementCount") == 0
    return registrant


async def absolute(page: Page, link: Locator) -> str:
    return str(await link.evaluate("a => a.href"))


async def ask(page: Page, question: Question, *, typed_identity: bool = True) -> None:
    if typed_identity:
        await page.get_by_test_id("identity-name").fill(question.name)
        await page.get_by_test_id("identity-organisation").fill(question.organisation)
    await page.get_by_test_id("ask-text").fill(question.text)
    await page.get_by_test_id("ask-submit").click()


async def ask_and_moderate(moderator: Page, participant: Page, registrant: Page) -> list[Question]:
    """Every question reaches the pending queue as typed; the moderator approves them, editing one
    on approval and one once approved. Returns the questions as they now read."""
    pending_count = moderator.locator("[data-count=pending]")
    for n, question in enumerate(ASKED, start=1):
        await ask(participant, question)
        await expect(pending_count).to_have_text(str(n), timeout=5_000)
    await ask(registrant, REGISTRANT, typed_identity=False)  # the registrants file's name
    await expect(pending_count).to_have_text(str(len(ASKED) + 1), timeout=5_000)
    await expect(participant.get_by_test_id("identity-summary")).to_contain_text("Tarif")

    queue = moderator.get_by_test_id("queue-list")
    for question in [*ASKED, REGISTRANT]:
        await card_reads(moderator, queue, question.as_shown())
    await nothing_made_of_text("moderator", moderator)

    questions = [q.as_shown() for q in [*ASKED, REGISTRANT]]
    index, text = EDITED_AT_APPROVAL
    card = question_card(moderator, queue, questions[index].text)
    await edit(card, text)
    questions[index] = Question(questions[index].name, questions[index].organisation, shown(text))
    await expect(card).to_have_count(0)
    for question in questions:
        card = question_card(moderator, queue, question.text)
        if question is not questions[index]:
            await card.get_by_test_id("action-approve").click()
            await expect(card).to_have_count(0)
    await expect(pending_count).to_have_text("0")

    await moderator.get_by_test_id("tab-approved").click()
    index, text = EDITED
    await edit(question_card(moderator, queue, questions[index].text), text)
    questions[index] = Question(questions[index].name, questions[index].organisation, shown(text))
    for question in questions:
        await card_reads(moderator, queue, question)
    await expect(queue.get_by_test_id("question-card")).to_have_count(len(questions))
    return questions


async def edit(card: Locator, text: str) -> None:
    await card.get_by_test_id("action-edit").click()
    await card.get_by_test_id("edit-text").fill(text)
    await card.get_by_test_id("edit-save").click()


async def each_question_on_stage(moderator: Page, stage: Page, questions: list[Question]) -> None:
    queue = moderator.get_by_test_id("queue-list")
    for question in questions:
        await question_card(moderator, queue, question.text).get_by_test_id("action-on_stage").click()
        await reads(stage.get_by_test_id("stage-question-text"), question.text)
        await reads(stage.get_by_test_id("stage-question-author"), question.name)
        await reads(stage.get_by_test_id("stage-question-org"), question.organisation)
        await reads(moderator.get_by_test_id("stage-current"), question.text)
        await nothing_made_of_text("stage", stage)


async def poll_with_results_on_stage(moderator: Page, stage: Page, participant: Page,
                                     registrant: Page) -> None:
    await moderator.get_by_test_id("poll-question").fill(POLL_QUESTION)
    for _ in range(len(POLL_OPTIONS) - 2):
        await moderator.get_by_test_id("poll-add-option").click()
    inputs = moderator.get_by_test_id("poll-option-input")
    for i, option in enumerate(POLL_OPTIONS):
        await inputs.nth(i).fill(option)
    await moderator.get_by_test_id("poll-create").click()
    card = moderator.get_by_test_id("mod-poll")
    await expect(card).to_have_count(1)
    await card.get_by_test_id("poll-open").click()
    await expect(stage.get_by_test_id("stage-poll")).to_be_visible()

    voting = registrant.get_by_test_id("poll")
    await voting.get_by_test_id("poll-option-0").check()
    await voting.get_by_test_id("poll-vote").click()
    await expect(voting.get_by_test_id("poll-note")).to_have_attribute("data-recorded", "true")
    await expect(card.get_by_test_id("poll-ballots")).to_contain_text("1")
    await card.get_by_test_id("poll-reveal").click()
    await expect(stage.get_by_test_id("stage-percent-0")).to_contain_text("100")

    options = [shown(option) for option in POLL_OPTIONS]
    await reads(stage.get_by_test_id("stage-poll-question"), shown(POLL_QUESTION))
    for i, option in enumerate(options):
        await reads(stage.get_by_test_id(f"stage-option-{i}").locator(".stage-option__label"), option)
    await reads(card.locator(".poll__question"), shown(POLL_QUESTION))
    await polls_option_labels(card, options)
    in_stage_box = moderator.get_by_test_id("stage-current-poll")
    await expect(in_stage_box).to_contain_text(shown(POLL_QUESTION), use_inner_text=True)
    assert await in_stage_box.evaluate("el => el.childElementCount") == 0
    for page in (participant, registrant):
        poll = page.get_by_test_id("poll")
        await expect(poll.get_by_test_id("poll-percent-0")).to_contain_text("100")
        await reads(poll.locator(".poll__question span:not(.status-badge)"), shown(POLL_QUESTION))
        await polls_option_labels(poll, options)


async def polls_option_labels(poll: Locator, options: list[str]) -> None:
    labels = poll.locator(".poll-option__label")
    await expect(labels).to_have_count(len(options))
    for i, option in enumerate(options):
        await reads(labels.nth(i), option)


async def ban(moderator: Page, question: Question) -> None:
    """The ban dialog and the banned list name the author and quote the question, as text."""
    queue = moderator.get_by_test_id("queue-list")
    await question_card(moderator, queue, question.text).get_by_test_id("action-ban").click()
    dialog = moderator.get_by_test_id("ban-dialog")
    await expect(dialog).to_be_visible()
    said = moderator.locator("#ban-dialog-text")
    await expect(said).to_contain_text(question.name, use_inner_text=True)
    assert await said.evaluate("el => el.childElementCount") == 0
    await dialog.get_by_test_id("ban-confirm").click()
    await expect(dialog).to_be_hidden()
    banned = moderator.get_by_test_id("banned-item")
    await expect(banned).to_have_count(1)
    await reads(banned.get_by_test_id("banned-name"), question.name)
    quoted = banned.locator(".banned-list__question")
    await expect(quoted).to_contain_text(question.text, use_inner_text=True)
    assert await quoted.evaluate("el => el.childElementCount") == 0
