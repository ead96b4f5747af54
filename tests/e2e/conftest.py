"""Fixtures of the end-to-end tests: Chromium for the browser tests (with a fake camera for
test_browser_media, and the media tests' server), and `run.py --workers 2` for test_workers and
test_faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL
from tests.e2e.chromium import browser, media_browser  # noqa: F401  (fixtures)
from tests.e2e.supervised import Service
from tests.media.conftest import media_server  # noqa: F401  (a fixture, for test_browser_media)


@pytest.fixture
async def service(key_prefix: str, tmp_path: Path) -> AsyncIterator[Service]:
    """`run.py --workers 2` on the shared Redis; stopped before `key_prefix` deletes the keys."""
    the_service = Service(REDIS_URL, key_prefix, tmp_path)
    await asyncio.to_thread(the_service.start)
    try:
        yield the_service
    finally:
        await asyncio.to_thread(the_service.stop)

