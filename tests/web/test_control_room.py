"""The control room's page and status (live/web/control.py): the admin link alone opens them,
and the status shows who is connected by role and what waits, through the real server."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx2 as httpx

from live.domain import Role
from live.web.auth import EVENT_SCOPE
from tests.conftest import SESSION, RunningServer, token_of
from tests.waiting import wait_for
from tests.wsclient import Client


def admin_token(server: RunningServer) -> str:
    return token_of(server.links.control)


async def test_only_the_admin_link_opens_the_control_room(live_server: RunningServer) -> None:
    admin = admin_token(live_server)
    signer = live_server.app.state.signer
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as http:
        page = await http.get(f"/control?t={quote(admin)}")
        assert page.status_code == 200 and 'data-testid="control-rooms"' in page.text
        status = await http.get("/control/status", headers={"authorization": f"Bearer {admin}"})
        assert status.status_code == 200
        assert (await http.get("/control")).status_code == 401
        assert (await http.get("/control/status")).status_code == 401
        assert (await http.get("/control/status", headers={
            "authorization": "Bearer forged.token"})).status_code == 401
        expired = signer.issue(Role.ADMIN, EVENT_SCOPE, int(time.time()) - 1)
        assert (await http.get(f"/control?t={quote(expired)}")).status_code == 401
        for role in ("participant", "moderator", "stage", "studio", "captioner",
                     "interpreter en", "guest Intervenant à distance"):
            token = token_of(live_server.link(role, SESSION))
            assert (await http.get(f"/control?t={quote(token)}")).status_code == 403, role
            refused = await http.get("/control/status", headers={"authorization": f"Bearer {token}"})
            assert refused.status_code == 403, role
    assert "Control room, for the organiser (keep private):" in live_server.links.as_text()


async def test_the_status_shows_who_is_connected_and_what_waits(live_server: RunningServer) -> None:
    admin = admin_token(live_server)

    async def room() -> dict[str, object]:
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as http:
            body = (await http.get("/control/status",
                                   headers={"authorization": f"Bearer {admin}"})).json()
        rooms = {r["id"]: r for r in body["rooms"]}
        assert set(rooms) == {s.id for s in live_server.app.state.service.programme.sessions}
        card: dict[str, object] = rooms[SESSION]
        return card

    before = await room()
    assert before["connected"] == {"moderator": 0, "stage": 0, "studio": 0, "interpreter": 0,
                                   "captioner": 0, "guest": 0, "participant": 0}
    assert before["on_air"] is False and before["pending"] == 0
    moderator = await Client(live_server.ws_base, SESSION,
                             token_of(live_server.link("moderator", SESSION))).connect()
    asker = await Client(live_server.ws_base, SESSION,
                         token_of(live_server.link("participant", SESSION))).connect()
    try:
        await asker.ok("AskQuestion", text="Une question pour la régie ?")
        latest: dict[str, object] = {}

        async def shown() -> bool:
            latest.update(await room())
            connected = latest["connected"]
            assert isinstance(connected, dict)
            return connected["moderator"] == 1 and connected["participant"] == 1 \
                and latest["pending"] == 1

        await wait_for(shown, 5, lambda: f"the moderator, the participant and the question: {latest}")
    finally:
        await moderator.close()
        await asker.close()
