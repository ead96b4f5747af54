"""In Chromium: the Content-Security-Policy the server sends stops inline script. A real session
page is served by the real server; on its way to the browser an inline script and an inline event
handler are written into it (as an injection would), its headers kept. They do not run, and the
browser reports the policy stopping them, while the page's own scripts run. The same
page without the policy header runs them: the injection is real, the policy is what stops it."""

from __future__ import annotations

from playwright.async_api import Browser, Route

from tests.conftest import RunningServer
from tests.e2e.chromium import REQUIRES_CHROMIUM

pytestmark = REQUIRES_CHROMIUM

SESSION = "pleniere-geopolitique"
INJECTED = ('<script>window.injected = "script"</script>'
            '<img src="/nowhere.png" alt="" onerror="window.handler = true">')
WATCH_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation",
                          (e) => window.violations.push(e.effectiveDirective));
"""


async def open_injected(server: RunningServer, browser: Browser, *, keep_policy: bool
                        ) -> dict[str, object]:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await page.add_init_script(WATCH_VIOLATIONS)  # the browser's own, before the page's

    async def inject(route: Route) -> None:
        response = await route.fetch()
        headers = dict(response.headers)
        if not keep_policy:
            headers.pop("content-security-policy")
        body = (await response.text()).replace("</body>", INJECTED + "</body>", 1)
        await route.fulfill(response=response, headers=headers, body=body)

    await page.route(f"{server.base_url}/s/**", inject)
    served = await page.goto(server.link("participant", SESSION) + "&lang=fr")
    assert served is not None and served.status == 200
    # The page's own scripts, from /static, run whatever happens to the injected ones: they
    # take the token out of the address bar (static/js/linktoken.js).
    await page.wait_for_function("!new URL(location.href).searchParams.has('t')", timeout=10_000)
    await page.wait_for_function("document.querySelector('img[src=\"/nowhere.png\"]').complete")
    seen: dict[str, object] = await page.evaluate(
        "({injected: window.injected ?? null, handler: window.handler ?? null,"
        "  violations: window.violations})")
    await context.close()
    return seen


async def test_the_policy_stops_inline_script_in_chromium(live_server: RunningServer,
                                                          browser: Browser) -> None:
    guarded = await open_injected(live_server, browser, keep_policy=True)
    assert guarded["injected"] is None and guarded["handler"] is None, guarded
    assert {"script-src-elem", "script-src-attr"} <= set(guarded["violations"]), guarded  # type: ignore[arg-type]
    unguarded = await open_injected(live_server, browser, keep_policy=False)
    assert unguarded["injected"] == "script" and unguarded["handler"] is True, unguarded
