"""The browser's client state (static/js/state.js), run by Node, for the Python tests.

Every test client's view comes from the page's own reducer: one Node process
(tests/js/state_host.mjs) keeps each client's state by key and answers each batch of operations
with the views after them. There is no Python copy of those rules to drift from the browser's.
"""

from __future__ import annotations

import atexit
import itertools
import json
import shutil
import subprocess
import threading
from typing import Any

from tests.conftest import ROOT

HOST = ROOT / "tests" / "js" / "state_host.mjs"

View = dict[str, Any]
Op = tuple[str, str, Any, Any]  # key, "snapshot" | "event" | "tally" | "presence" | "forget", msg, meta


class StateHost:
    def __init__(self) -> None:
        node = shutil.which("node")
        assert node is not None, "node is not on PATH: scripts/test installs Node.js"
        self._proc = subprocess.Popen([node, str(HOST)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, bufsize=1, cwd=ROOT)
        self._lock = threading.Lock()  # servers' and tests' threads may share it

    def run(self, ops: list[Op]) -> list[View | None]:
        line = json.dumps({"ops": ops}, separators=(",", ":")) + "\n"
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(line)
            answer = json.loads(self._proc.stdout.readline() or '{"error": "state host exited"}')
        if "error" in answer:
            raise AssertionError(f"state.js: {answer['error']}")
        views: list[View | None] = answer["views"]
        return views

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


_host: StateHost | None = None
_keys = itertools.count()


def host() -> StateHost:
    global _host
    if _host is None:
        _host = StateHost()
        atexit.register(_host.close)
    return _host


class ClientState:
    """One client's state, kept by state.js; `view` is what the test reads."""

    def __init__(self) -> None:
        self.key = f"c{next(_keys)}"
        self.view: View = {}

    def _do(self, op: str, msg: Any, meta: Any = None) -> View:
        [view] = host().run([(self.key, op, msg, meta)])
        assert view is not None
        self.view = view
        return view

    def snapshot(self, state: View, epoch: str | None, seq: int) -> View:
        return self._do("snapshot", state, {"epoch": epoch, "seq": seq})

    def apply(self, msg: View) -> View:
        """A frame that changes the state: an event (it has a seq), a Tally or a Presence."""
        if not self.view:
            return self.view  # nothing to apply to before the first snapshot
        op = {"Tally": "tally", "Presence": "presence"}.get(msg["type"], "event")
        return self._do(op, msg)

    def forget(self) -> None:
        host().run([(self.key, "forget", None, None)])
