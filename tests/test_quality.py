"""The code stays ruff- and mypy-clean: part of the one test command, so CI enforces it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_ruff_is_clean() -> None:
    paths = [p for p in ("live", "tests", "run.py", "bench", "scripts") if (ROOT / p).exists()]
    result = run("ruff", "check", *paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    cache = ROOT / ".mypy_cache"
    result = run("mypy", "--cache-dir", str(cache), "live", "run.py")
    assert result.returncode == 0, result.stdout + result.stderr
