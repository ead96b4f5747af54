"""The organiser's `python -m live.revoke` against `run.py --workers 2`: every worker refuses the
revoked link within a second or so, and closes the connections it holds that were opened with it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from urllib.parse import unquote

from live.protocol import CLOSE_UNAUTHORIZED
from tests.conftest import REDIS_URL, ROOT, SESSION
from tests.e2e.supervised import Service, paused
from tests.processes import service_env
from tests.wsclient import Client


def revoke(service: Service, *args: str) -> str:
    """Run the command as an organiser would, in the service's environment: its output."""
    env = service_env(TRIBUNE_SECRET=service.secret, TRIBUNE_KEY_PREFIX=service.prefix,
                      TRIBUNE_PUBLIC_URL=f"http://127.0.0.1:{service.port}")
    result = subprocess.run([sys.executable, "-m", "live.revoke", *args, "--redis", REDIS_URL],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_every_worker_closes_and_refuses_a_revoked_link(service: Service) -> None:
    pids = service.worker_pids()
    # While one worker is frozen the other accepts every connection: one client on each.
    async with paused(pids[1]):
        on_0 = await service.connect("moderator")
    async with paused(pids[0]):
        on_1 = await service.connect("moderator")
    stage = await service.connect("stage")

    output = await asyncio.to_thread(revoke, service, SESSION, "moderator")
    new = unquote(output.split("?t=")[1].split()[0])

    for client in (on_0, on_1):  # both workers read the new generation and close theirs
        await client.wait_for(lambda c=client: c.closed_code is not None, timeout=5)  # type: ignore[misc]
        assert client.closed_code == CLOSE_UNAUTHORIZED
    old = service.tokens["moderator"]
    for worker in (0, 1):  # and each refuses the old link; the new one works on each
        async with paused(pids[1 - worker]):
            status, _ = await asyncio.to_thread(service.get, f"/moderate/{SESSION}?t={old}")
            assert status == 401, f"worker {worker} still accepts the revoked link"
            fresh = await Client(service.ws_base, SESSION, new).connect()
            await fresh.close()
    assert stage.closed_code is None  # another role's link: untouched
    await stage.close()
