"""Polls prepared in the programme (`[[sessions.polls]]`): drafts in their session from the first
stored programme, and from a save that adds them; never twice, and a deleted draft stays deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.domain import Actor, Role
from live.domain import commands as c
from live.domain.state import DRAFT
from tests.web.test_linkdesk import admin, bearer, make_client

URL = "/control/programme"
PREPARED = "atelier-3"  # the demo programme prepares three polls there


@pytest.fixture()
def client() -> Iterator[TestClient]:
    with make_client() as the_client:
        yield the_client


def headers(client: TestClient) -> dict[str, str]:
    return bearer(admin(client))


def polls(client: TestClient, session_id: str) -> list[tuple[str, str, str]]:
    app: Any = client.app

    async def read() -> list[tuple[str, str, str]]:
        hub = await app.state.service.hub(session_id)
        return [(p.kind, p.question, p.status) for p in hub.room.state.polls.values()]
    return client.portal.call(read)  # type: ignore[union-attr]


def save(client: TestClient, text: str) -> dict[str, Any]:
    version = client.get(URL, headers=headers(client)).json()["version"]
    answer = client.put(URL, headers=headers(client), json={"base": version, "text": text})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_first_programme_stored_prepares_its_polls_as_drafts(client: TestClient) -> None:
    assert polls(client, PREPARED) == [
        ("words", "En un mot, quelle priorité pour votre collectivité ?", DRAFT),
        ("choice", "Votre collectivité a-t-elle déjà un partenariat international ?", DRAFT),
        ("rating", "Comment évaluez-vous cet atelier ?", DRAFT)]
    exported = client.get(f"{URL}.toml", headers=headers(client)).text
    assert exported.count("[[sessions.polls]]") == 3 and 'kind = "rating"' in exported


def test_a_save_creates_the_polls_it_adds_once_and_a_deleted_one_stays_deleted(
        client: TestClient) -> None:
    text = client.get(URL, headers=headers(client)).json()["text"]
    # the table after the session's keys (before the next session): it belongs to atelier-1
    cut = text.index("[[sessions]]", text.index('id = "atelier-1"'))
    text2 = (text[:cut] + '[[sessions.polls]]\nquestion = "Pause ?"\noptions = ["Oui", "Non"]\n\n'
             + text[cut:])
    assert save(client, text2)["polls_created"] == 1
    assert polls(client, "atelier-1") == [("choice", "Pause ?", DRAFT)]
    assert save(client, text2 + "\n")["polls_created"] == 0  # the same poll again: known
    app: Any = client.app
    [(poll_id, _)] = [(p.id, p) for p in client.portal.call(  # type: ignore[union-attr]
        app.state.service.hub, "atelier-1").room.state.polls.values()]
    client.portal.call(app.state.service.execute,  # type: ignore[union-attr]
                       "atelier-1", c.DeletePoll(poll_id), Actor(Role.ADMIN))
    assert save(client, text2)["polls_created"] == 0
    assert polls(client, "atelier-1") == []
