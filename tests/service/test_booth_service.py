"""The booth chat through the service: live, in a snapshot, in a replay from memory and from the
store, a booth's messages reach its own interpreters and no other subscriber."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from live.bus.memory import MemoryBus
from live.config import load_programme
from live.domain import Actor, Role
from live.domain import commands as c
from live.service import Service
from live.store.memory import MemoryStore
from live.views import Audience

SESSION = "pleniere-geopolitique"  # French, with English and Spanish interpretation
EN, ES = Actor(Role.INTERPRETER, language="en"), Actor(Role.INTERPRETER, language="es")


@dataclass(eq=False)
class Sink:
    audience: Audience
    participant_id: str | None = None
    booth: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def deliver(self, text: str) -> None:
        self.messages.append(json.loads(text))

    def deliver_latest(self, slot: str, text: str) -> None:
        pass

    def booth_texts(self) -> list[str]:
        """The booth chat as this subscriber was told it: snapshots' and events'."""
        texts: list[str] = []
        for m in self.messages:
            if m["type"] == "Snapshot":
                texts = [b["text"] for b in m["state"].get("booth", [])]
            elif "booth_message" in m:
                texts.append(m["booth_message"]["text"])
        return texts


def subscribers() -> dict[str, Sink]:
    return {"en": Sink(Audience.STAGE, booth="en"), "es": Sink(Audience.STAGE, booth="es"),
            "stage": Sink(Audience.STAGE), "moderator": Sink(Audience.MODERATOR),
            "participant": Sink(Audience.PARTICIPANT, "u_anna")}


def leaked(sink: Sink, *secrets: str) -> list[str]:
    """Whatever of `secrets` any message to `sink` carries."""
    text = json.dumps(sink.messages, ensure_ascii=False)
    return [s for s in secrets if s in text]


@pytest.fixture
async def service() -> Service:
    return Service(load_programme(None), MemoryStore(), MemoryBus())


async def test_live_and_in_snapshots_a_booth_hears_only_itself(service: Service) -> None:
    sinks = subscribers()
    for sink in sinks.values():
        await service.attach(SESSION, sink, None)
    await service.execute(SESSION, c.SendBoothMessage("english secret", device="dev-en"), EN)
    await service.execute(SESSION, c.SendBoothMessage("secreto", name="Lola"), ES)
    assert sinks["en"].booth_texts() == ["english secret"]
    assert sinks["es"].booth_texts() == ["secreto"]
    for name in ("stage", "moderator", "participant"):
        assert leaked(sinks[name], "english secret", "secreto", "dev-en", "Lola",
                      "BoothMessageSent") == [], name
    assert leaked(sinks["en"], "secreto", "Lola") == [] and leaked(sinks["es"], "english") == []
    # Newcomers: each booth's snapshot has its own chat; nobody else's has any.
    late = subscribers()
    for sink in late.values():
        await service.attach(SESSION, sink, None)
    assert late["en"].booth_texts() == ["english secret"] and late["es"].booth_texts() == ["secreto"]
    for name in ("stage", "moderator", "participant"):
        [snapshot] = [m for m in late[name].messages if m["type"] == "Snapshot"]
        assert "booth" not in snapshot["state"], name
        assert leaked(late[name], "english secret", "secreto") == [], name
    hub = await service.hub(SESSION)
    for sink in (*sinks.values(), *late.values()):
        service.detach(SESSION, sink)
    assert hub.booths == {} and hub.subscribers == []


@pytest.mark.parametrize("from_store", [False, True], ids=["from memory", "from the store"])
async def test_a_resuming_client_is_replayed_its_own_booth_only(service: Service,
                                                               from_store: bool) -> None:
    first = Sink(Audience.STAGE, booth="en")
    await service.attach(SESSION, first, None)
    [snapshot] = first.messages[:1]
    epoch, seq = snapshot["epoch"], snapshot["seq"]
    await service.execute(SESSION, c.SendBoothMessage("english secret"), EN)
    await service.execute(SESSION, c.SendBoothMessage("secreto"), ES)
    await service.execute(SESSION, c.SetPremoderation(False), Actor(Role.MODERATOR))
    hub = await service.hub(SESSION)
    if from_store:
        hub.recent.clear()  # the replay then comes from the store's records
    resumed = subscribers()
    for sink in resumed.values():
        await service.attach(SESSION, sink, (epoch, seq))
        kinds = [m["type"] for m in sink.messages if m["type"] not in ("Tally", "ModerationLogged")]
        assert kinds[0] == "Resumed" and kinds[-1] == "PremoderationSet", kinds
    assert resumed["en"].booth_texts() == ["english secret"]
    assert resumed["es"].booth_texts() == ["secreto"]
    assert leaked(resumed["en"], "secreto") == [] and leaked(resumed["es"], "english") == []
    for name in ("stage", "moderator", "participant"):
        assert leaked(resumed[name], "english secret", "secreto", "BoothMessageSent") == [], name
