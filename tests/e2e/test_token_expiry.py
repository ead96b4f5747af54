"""An open WebSocket is closed (4001) when the token it was opened with expires."""

from __future__ import annotations

import time

from live.domain import Role
from live.protocol import CLOSE_UNAUTHORIZED
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import SESSION, RunningServer
from tests.wsclient import Client


async def test_a_connection_closes_when_its_token_expires(live_server: RunningServer) -> None:
    signer: Signer = live_server.app.state.signer
    expires = int(time.time()) + 2
    short = Client(live_server.ws_base, SESSION, signer.issue(Role.PARTICIPANT, EVENT_SCOPE, expires))
    await short.connect()
    lasting = Client(live_server.ws_base, SESSION,
                     signer.issue(Role.MODERATOR, SESSION, int(time.time()) + 3600))
    await lasting.connect()
    await short.ok("AskQuestion", text="Avant l'expiration")  # valid until then
    await short.wait_for(lambda: short.closed_code is not None, timeout=5)
    assert short.closed_code == CLOSE_UNAUTHORIZED
    assert time.time() >= expires - 0.05  # not before its time
    await lasting.ok("SetPremoderation", enabled=False)  # the other connection is untouched
    assert lasting.closed_code is None
    await lasting.close()
