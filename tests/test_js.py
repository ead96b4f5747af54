"""The browser modules' unit tests (protocol client, state reducer, catalogs) under Node's runner.

Node is part of the suite's setup (scripts/test installs it): without it this fails rather than
skips. Node's runner is told each file by name (the directory form changed meaning across Node
versions), and its TAP summary must show every test written in tests/js/ run and passed: a file
that stopped loading, or a runner that found nothing, fails here even when Node exits 0.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.conftest import ROOT

FILES = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))
WRITTEN = re.compile(r"^\s*(?:test|it)\(", re.MULTILINE)  # each test written out (loops add more)


def summary(tap: str) -> dict[str, int]:
    return {key: int(value) for key, value in re.findall(r"^# (\w+) (\d+)$", tap, re.MULTILINE)}


def test_js_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: scripts/test installs Node.js for tests/js/"
    assert FILES, "no tests/js/*.test.mjs"
    result = subprocess.run([node, "--test", "--test-reporter=tap", *map(str, FILES)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    counts = summary(result.stdout)
    written = sum(len(WRITTEN.findall(f.read_text("utf-8"))) for f in FILES)
    assert counts.get("tests", 0) >= written > 0, (counts, written)
    assert counts["pass"] == counts["tests"], counts
    assert counts.get("fail") == 0 and counts.get("skipped") == 0 and counts.get("todo") == 0, counts
