"""Revoking links without rotating the secret: link generations.

A link's token carries the generation of its role and scope when it was signed (`g`, absent for
0). The store counts, per "role:scope", how many times those links were revoked (`python -m
live.revoke`); a token below its role and scope's count is refused wherever tokens are checked
(`Signer.verify`: pages, exports, the WebSocket Hello, WHIP and WHEP). Event-wide links (the
public participant link, admin links) do not cover a session whose role has a generation of its
own: revoking one session's participant links leaves the public link working for the others,
and that session gets links of its own.

Every process reads the generations every `REFRESH` seconds (one small hash in Redis) and closes
the WebSockets it holds that were opened with a link no longer valid (4001). With the in-memory
store nothing outside the process can change them: restarting it (with a new secret) is how its
links are revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from live.store import Store

log = logging.getLogger(__name__)

REFRESH = 1.0  # seconds: how long a revoked link may still open a page or a connection
EVENT_WIDE = "*"  # live.web.auth.EVENT_SCOPE (auth imports this module, not the other way)


def generation_key(role: str, scope: str) -> str:
    return f"{role}:{scope}"


class Generations:
    """The generations as last read, and the open connections to close when theirs is revoked."""

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._sessions_of: dict[str, frozenset[str]] = {}  # role -> sessions with their own
        self._watchers: dict[object, tuple[Callable[[], bool], Callable[[], None]]] = {}

    def of(self, role: str, scope: str) -> int:
        return self._current.get(generation_key(role, scope), 0)

    def sessions_with_own(self, role: str) -> frozenset[str]:
        """The sessions whose `role` links were revoked on their own: event-wide ones skip them."""
        return self._sessions_of.get(role, frozenset())

    def update(self, current: dict[str, int]) -> None:
        """New generations from the store: close what they revoke."""
        if current == self._current:
            return
        self._current = dict(current)
        sessions: dict[str, set[str]] = {}
        for key, generation in current.items():
            role, _, scope = key.partition(":")
            if generation > 0 and scope != EVENT_WIDE:
                sessions.setdefault(role, set()).add(scope)
        self._sessions_of = {role: frozenset(ids) for role, ids in sessions.items()}
        for owner, (revoked, on_revoked) in list(self._watchers.items()):
            if revoked():
                del self._watchers[owner]
                on_revoked()

    def watch(self, owner: object, revoked: Callable[[], bool],
              on_revoked: Callable[[], None]) -> None:
        """Call `on_revoked` (once) when an update makes `revoked()` true, until `unwatch`."""
        self._watchers[owner] = (revoked, on_revoked)

    def unwatch(self, owner: object) -> None:
        self._watchers.pop(owner, None)

    @property
    def watched(self) -> int:
        return len(self._watchers)


class Refresher:
    """Reads the store's generations into `generations` now, then every `interval` seconds."""

    def __init__(self, store: Store, generations: Generations, interval: float = REFRESH) -> None:
        self.store, self.generations, self.interval = store, generations, interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.generations.update(await self.store.generations())  # before any link is checked
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.generations.update(await self.store.generations())
            except Exception as exc:  # Redis away: keep the last generations known
                if not failing:
                    log.warning("cannot read link generations (revocations wait): %r", exc)
                failing = True
            else:
                failing = False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
