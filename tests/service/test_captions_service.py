"""Captions through the service: the session's languages come from the programme (and stay so
after a reload from a snapshot), and each session's caption budgets hold in the store."""

from __future__ import annotations

import json

import pytest

from live.bus.memory import MemoryBus
from live.config import load_programme
from live.domain import Actor, DomainError, Role
from live.domain import commands as c
from live.limits import CAPTION_BURST, PARTIAL_BURST
from live.service import Service
from live.store.memory import MemoryStore

SESSION = "pleniere-geopolitique"  # French, with English and Spanish interpretation
FRENCH_ONLY = "atelier-1"
CAPTIONER = Actor(Role.CAPTIONER)


@pytest.fixture
async def service() -> Service:
    return Service(load_programme(None), MemoryStore(), MemoryBus())


async def test_a_line_is_written_in_one_of_the_programmes_languages(service: Service) -> None:
    await service.execute(SESSION, c.PostCaption("es", "Bienvenidos."), CAPTIONER)
    with pytest.raises(DomainError) as info:
        await service.execute(FRENCH_ONLY, c.PostCaption("es", "Bienvenidos."), CAPTIONER)
    assert info.value.code == "invalid"
    hub = await service.hub(SESSION)
    assert [(line.language, line.text) for line in hub.room.state.captions] == [
        ("es", "Bienvenidos.")]


async def test_a_session_reloaded_from_its_snapshot_keeps_its_languages(service: Service) -> None:
    await service.execute(SESSION, c.PostCaption("en", "Welcome."), CAPTIONER)
    hub = await service.hub(SESSION)
    await service.store.save_snapshot(SESSION, hub.epoch, hub.seq, hub.version,
                                      json.dumps(hub.room.snapshot()))
    restarted = Service(service.programme, service.store, MemoryBus())
    again = await restarted.hub(SESSION)
    assert [line.text for line in again.room.state.captions] == ["Welcome."]
    await restarted.execute(SESSION, c.PostCaption("es", "Bienvenidos."), CAPTIONER)


async def test_final_lines_and_partial_results_have_budgets_of_their_own(service: Service) -> None:
    for i in range(CAPTION_BURST):
        await service.execute(SESSION, c.PostCaption("fr", f"ligne {i}"), CAPTIONER)
    with pytest.raises(DomainError) as info:
        await service.execute(SESSION, c.PostCaption("en", "one more line"), CAPTIONER)
    assert (info.value.code, info.value.message) == ("rate_limited",
                                                     "too many captions: wait a little")
    # Partial results are budgeted apart, per language.
    for i in range(PARTIAL_BURST):
        await service.execute(SESSION, c.PostCaption("fr", f"en cours {i}", final=False),
                              CAPTIONER)
    with pytest.raises(DomainError) as info:
        await service.execute(SESSION, c.PostCaption("fr", "encore", final=False), CAPTIONER)
    assert info.value.code == "rate_limited"
    await service.execute(SESSION, c.PostCaption("en", "in progress", final=False), CAPTIONER)
    # Another session's budget is its own, and nothing refused was stored.
    await service.execute(FRENCH_ONLY, c.PostCaption("fr", "Bonjour."), CAPTIONER)
    hub = await service.hub(SESSION)
    assert len(hub.room.state.captions) == CAPTION_BURST
    assert hub.room.state.partials["fr"].text == f"en cours {PARTIAL_BURST - 1}"
