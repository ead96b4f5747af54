"""Polls prepared from the control room (live/web/polldesk.py): a poll copied to another session as
a new draft; every link but the admin's refused, bad input answered with a clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.domain import Actor, Role
from live.domain import commands as c
from live.domain.state import DRAFT
from live.web.polldesk import COPIES
from tests.conftest import SESSION
from tests.web.test_linkdesk import admin, bearer, every_other_token, make_client

URL = "/control/polls/copy"
PREPARED = "atelier-3"  # the demo programme prepares three polls there
NOT_INTERACTIVE = "b-to-b"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client() as the_client:
        yield the_client


def polls_of(client: TestClient, session_id: str) -> dict[str, Any]:
    app: Any = client.app
    hub = client.portal.call(app.state.service.hub, session_id)  # type: ignore[union-attr]
    return dict(hub.room.state.polls)


def a_poll(client: TestClient, kind: str) -> str:
    return next(p.id for p in polls_of(client, PREPARED).values() if p.kind == kind)


def test_a_poll_is_copied_to_another_session_as_a_draft(client: TestClient) -> None:
    app: Any = client.app
    source = a_poll(client, "choice")
    # run it first: the copy takes its question and options, not its ballots nor its status
    for command, actor in ((c.OpenPoll(source), Actor(Role.ADMIN)),
                           (c.CastBallot(source, [1]), Actor(Role.PARTICIPANT, "u_1"))):
        client.portal.call(app.state.service.execute, PREPARED, command,  # type: ignore[union-attr]
                           actor)
    answer = client.post(URL, headers=bearer(admin(client)),
                         json={"from": PREPARED, "poll_id": source, "to": SESSION})
    assert answer.status_code == 201, answer.text
    copy = polls_of(client, SESSION)[answer.json()["poll_id"]]
    original = polls_of(client, PREPARED)[source]
    assert (copy.question, copy.kind, copy.options, copy.status, copy.voters) == (
        original.question, "choice", original.options, DRAFT, 0)
    # a second copy is another draft; the rating poll keeps its kind
    again = client.post(URL, headers=bearer(admin(client)),
                        json={"from": PREPARED, "poll_id": a_poll(client, "rating"), "to": SESSION})
    assert again.status_code == 201 and polls_of(client, SESSION)[again.json()["poll_id"]].kind == (
        "rating")


def test_bad_copies_are_answered_with_what_is_wrong(client: TestClient) -> None:
    source = a_poll(client, "words")
    headers = bearer(admin(client))
    cases = [
        ({"from": PREPARED, "poll_id": source}, 400, "polls.error.bad_request"),
        ({"from": PREPARED, "poll_id": 3, "to": SESSION}, 400, "polls.error.bad_request"),
        ({"from": "nowhere", "poll_id": source, "to": SESSION}, 404, "error.unknown_session"),
        ({"from": PREPARED, "poll_id": source, "to": "nowhere"}, 404, "error.unknown_session"),
        ({"from": PREPARED, "poll_id": "p_404", "to": SESSION}, 404, "polls.error.unknown_poll"),
        ({"from": PREPARED, "poll_id": source, "to": NOT_INTERACTIVE}, 409,
         "polls.error.not_interactive"),
    ]
    for body, status, key in cases:
        answer = client.post(URL, headers=headers, json=body)
        assert (answer.status_code, answer.json()["error"]) == (status, key), body
    assert client.post(URL, headers=headers, content=b"{").status_code == 400
    assert client.post(URL, headers=headers, content=b"x" * 2000).status_code == 413
    assert client.get(URL, headers=headers).status_code == 405


def test_copies_are_rate_limited(client: TestClient) -> None:
    source = a_poll(client, "words")
    body = {"from": PREPARED, "poll_id": source, "to": SESSION}
    statuses = [client.post(URL, headers=bearer(admin(client)), json=body).status_code
                for _ in range(COPIES + 1)]
    assert statuses == [201] * COPIES + [429]


def test_only_the_admin_link_copies_or_opens_the_page(client: TestClient) -> None:
    body = {"from": PREPARED, "poll_id": a_poll(client, "words"), "to": SESSION}
    assert client.post(URL, json=body).status_code == 401
    for name, token in every_other_token(client).items():
        status = client.post(URL, headers=bearer(token), json=body).status_code
        assert status == (401 if name in ("expired admin", "forged") else 403), name
        status = client.get("/control/polls", params={"t": token}).status_code
        assert status == (401 if name in ("expired admin", "forged") else 403), name
    assert not any(p.question == polls_of(client, PREPARED)[body["poll_id"]].question
                   for p in polls_of(client, SESSION).values())
