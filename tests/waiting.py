"""Waiting for a state, not for a time: poll a condition under a bound, and fail naming what did
not come. A fixed sleep before an assertion is either too short on a loaded machine (a flaky
test) or longer than needed everywhere else (a slow suite); these return as soon as the state is
there. `holds_for` is the other side: a negative check, that nothing happens over a stretch of
time chosen on purpose."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# What was awaited, for the failure message: text, or a function that says it at that moment
# (with the values seen last, say).
What = str | Callable[[], str]


def _said(what: What) -> str:
    return what if isinstance(what, str) else what()


async def wait_for(predicate: Callable[[], T | Awaitable[T]], timeout: float, what: What, *,
                   interval: float | None = None, blocking: bool = False) -> T:
    """Poll `predicate` until it returns something truthy, and return that; an AssertionError
    naming `what` after `timeout` seconds. The predicate may be a coroutine function. With
    `blocking`, it runs in a thread (it does blocking I/O, such as an HTTP request with urllib),
    so that the event loop goes on serving the test's own clients meanwhile, and is polled less
    often (every 0.1 s rather than 0.02 s) by default."""
    interval = interval if interval is not None else 0.1 if blocking else 0.02
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(predicate) if blocking else predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {_said(what)}")
        await asyncio.sleep(interval)


def wait_for_sync(predicate: Callable[[], T], timeout: float, what: What, *,
                  interval: float = 0.05) -> T:
    """`wait_for` for code without an event loop (fixtures starting processes, scenario scripts)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {_said(what)}")
        time.sleep(interval)


async def holds_for(predicate: Callable[[], object], seconds: float, what: What, *,
                    interval: float = 0.02) -> None:
    """A negative check: `predicate` stays true for `seconds` (nothing arrives, nothing changes).
    The time is the check's subject, so it is waited in full; fails as soon as it turns false."""
    deadline = time.monotonic() + seconds
    while True:
        assert predicate(), f"within {seconds:g} s, no longer so: {_said(what)}"
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
