"""Fixtures of the tests that run `run.py --workers 2` (test_workers, test_faults)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL
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
