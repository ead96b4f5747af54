"""Refusals that say what to do (issue 12, section 5): a question over its participant's budget
is refused with how long to wait at most, a text too long with the limit, over the real server."""

from __future__ import annotations

from tests.conftest import SESSION, RunningServer, token_of
from tests.wsclient import Client


async def test_a_rate_limit_says_how_long_and_a_long_text_its_limit(
        live_server: RunningServer) -> None:
    asker = await Client(live_server.ws_base, SESSION,
                         token_of(live_server.link("participant", SESSION))).connect()
    try:
        for i in range(5):  # the burst: five at once
            await asker.ok("AskQuestion", text=f"Question {i} ?")
        refused = await asker.send("AskQuestion", text="Une de trop ?")
        # Five a minute after the burst: the next one within 12 s.
        assert (refused["code"], refused["retry_after"]) == ("rate_limited", 12), refused
        assert "limit" not in refused
        long = await asker.send("AskQuestion", text="x" * 501)
        assert (long["code"], long["limit"]) == ("invalid", 500), long
        named = await asker.send("AskQuestion", text="Court ?", name="n" * 61)
        assert (named["code"], named["limit"]) == ("invalid", 60), named
        missing = await asker.send("AskQuestion")
        assert missing["code"] == "invalid" and "limit" not in missing  # nothing to say more
    finally:
        await asker.close()
