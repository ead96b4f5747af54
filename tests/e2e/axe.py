"""axe-core (npm, pinned in package.json, installed by scripts/test) run inside a page: each page, in
each state a browser test brings it to, must have no accessibility violation axe rates critical or
serious, nor any of the structure rules below whatever their rating."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = {"critical", "serious"}
# axe rates these "moderate", yet without them a screen reader user cannot find their way on the
# page (no main heading to jump to, content outside any landmark): they fail too.
STRUCTURE_RULES = {"page-has-heading-one", "landmark-one-main", "region", "heading-order",
                   "landmark-unique", "landmark-no-duplicate-main", "empty-heading"}
# axe's default rule set (WCAG 2.0–2.2 A and AA) and its best-practice rules, named so that a newer
# axe changing its defaults does not quietly drop a family of checks.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]

# Runs in the page: axe's results, reduced to what a failure message needs.
RUN = """async (tags) => {
    const results = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                             resultTypes: ["violations"]});
    return results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({target: n.target.join(" "),
                                    summary: (n.failureSummary || "").replace(/\\s+/g, " ")})),
    }));
}"""


@cache
def axe_source() -> str:
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: scripts/test installs it with `npm ci`")
    return AXE.read_text("utf-8")


async def violations(page: Page) -> list[dict[str, Any]]:
    """Every violation axe finds on the page as it is now (any impact)."""
    # Evaluated through the DevTools protocol rather than added as a <script>: the pages' CSP
    # (script-src 'self') would refuse an inline script, and turning the CSP off for the context
    # (bypass_csp) would hide the CSP violations the browser tests look for.
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    found: list[dict[str, Any]] = await page.evaluate(RUN, TAGS)
    return found


def failing(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in found if v["impact"] in FAILING_IMPACTS or v["id"] in STRUCTURE_RULES]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['summary']}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


async def assert_accessible(page: Page, state: str) -> None:
    """Fails listing each violation (rule, element, what is wrong) found in this state."""
    bad = failing(await violations(page))
    if bad:
        raise AssertionError(f"accessibility violations, {state} ({page.url.split('?')[0]}):\n"
                             + describe(bad))
