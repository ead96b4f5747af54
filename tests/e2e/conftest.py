"""Fixtures of the end-to-end tests: a Chromium for the browser tests (test_browser_media brings its
own, with a fake camera), and `run.py --workers 2` for test_workers and test_faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.conftest import REDIS_URL
from tests.e2e.chromium import BASE_ARGS, launched
from tests.e2e.supervised import Service


@pytest.fixture
async def service(key_prefix: str, tmp_path: Path) -> AsyncIterator[Service]:
    """`run.py --workers 2` on the shared Redis; stopped before `key_prefix` deletes the keys."""
    the_service = Service(REDIS_URL, key_prefix, tmp_path)
    await asyncio.to_thread(the_service.start)
    try:
        yield the_service
    finally:
        await asyncio.to_thread(the_service.stop)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched(BASE_ARGS) as b:
        yield b
