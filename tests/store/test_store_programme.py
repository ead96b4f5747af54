"""The programme as edited live, under contract: versions, stale saves refused, bounded history."""

from __future__ import annotations

import pytest

from live.store import Store
from live.store.programme_doc import HISTORY_ENTRIES, StaleProgramme


async def test_nothing_stored_at_first(store: Store) -> None:
    assert await store.programme_docs.get() is None
    assert await store.programme_docs.history() == []


async def test_saves_number_versions_and_refuse_a_stale_base(store: Store) -> None:
    docs = store.programme_docs
    first = await docs.save("a = 1\n", 0, "ana", "import")
    assert (first.version, first.text, first.by) == (1, "a = 1\n", "ana")
    second = await docs.save("a = 2\n", 1, "bob", "edit")
    assert second.version == 2
    with pytest.raises(StaleProgramme) as refused:
        await docs.save("a = 3\n", 1, "ana", "edit")
    assert (refused.value.current.version, refused.value.current.by) == (2, "bob")
    stored = await docs.get()
    assert stored is not None and (stored.version, stored.text) == (2, "a = 2\n")
    history = await docs.history()
    assert [(h["version"], h["by"], h["what"]) for h in history] == [(2, "bob", "edit"),
                                                                    (1, "ana", "import")]


async def test_history_is_bounded(store: Store) -> None:
    for version in range(HISTORY_ENTRIES + 3):
        await store.programme_docs.save(f"v = {version}\n", version, "ana", "edit")
    history = await store.programme_docs.history()
    assert len(history) == HISTORY_ENTRIES and history[0]["version"] == HISTORY_ENTRIES + 3
