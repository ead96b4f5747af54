"""The replay (live/web/replay.py): the page with the answered questions and poll results, the
files served with range requests, who may see them, a moderator taking the replay down, and the
programme's link to it once the session is over."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Actor, Role
from live.domain import commands as c
from live.service import Service
from live.web.auth import EVENT_SCOPE, Signer
from tests.conftest import SESSION

PART = f"{SESSION}_20200922-070000.webm"  # 09:00 in Paris, when the session starts
SECOND = f"{SESSION}_20200922-073000-2.webm"
BODY = bytes(range(256)) * 40  # what the file holds does not matter to the server


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    (tmp_path / PART).write_bytes(BODY)
    (tmp_path / SECOND).write_bytes(BODY[:100])
    (tmp_path / f"{SESSION}_20200922-080000.webm.part").write_bytes(BODY)  # still being written
    (tmp_path / "pleniere-aict_20200922-090000.webm").write_bytes(BODY)  # another session's
    return tmp_path


@pytest.fixture
def client(recordings: Path) -> Iterator[TestClient]:
    settings = Settings(port=8000, recordings=recordings,
                        clock_override=datetime(2020, 9, 22, 18, 0))  # the evening after
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as c:
        yield c


def token(client: TestClient, role: Role, scope: str = SESSION, expires: int | None = None) -> str:
    signer: Signer = client.app.state.signer  # type: ignore[attr-defined]
    return quote(signer.issue(role, scope, expires or int(time.time()) + 600))


def run(client: TestClient, command: c.Command, actor: Actor) -> None:
    service: Service = client.app.state.service  # type: ignore[attr-defined]
    client.portal.call(service.execute, SESSION, command, actor)  # type: ignore[union-attr]


def test_the_replay_page_shows_the_video_the_answers_and_the_results(client: TestClient) -> None:
    service: Service = client.app.state.service  # type: ignore[attr-defined]
    participant, moderator = Actor(Role.PARTICIPANT, "u_1"), Actor(Role.MODERATOR)
    run(client, c.AskQuestion("Quel rôle pour les villes ?", name="Ana", organisation="Lyon"),
        participant)
    run(client, c.AskQuestion("Et le climat ?", anonymous=True), Actor(Role.PARTICIPANT, "u_2"))
    run(client, c.AskQuestion("Jamais traitée ?"), Actor(Role.PARTICIPANT, "u_3"))
    state = client.portal.call(service.hub, SESSION).room.state  # type: ignore[union-attr]
    first, second, _ = state.questions
    for question in (first, second):
        run(client, c.ApproveQuestion(question), moderator)
        run(client, c.MarkAnswered(question), moderator)
    run(client, c.CreatePoll("Êtes-vous pour ?", ["Oui", "Non"]), moderator)
    run(client, c.CreatePoll("Caché ?", ["A", "B"]), moderator)
    state = client.portal.call(service.hub, SESSION).room.state  # type: ignore[union-attr]
    shown, hidden = state.polls
    for poll in (shown, hidden):
        run(client, c.OpenPoll(poll), moderator)
    run(client, c.CastBallot(shown, [0]), participant)
    run(client, c.CastBallot(hidden, [1]), participant)
    run(client, c.RevealResults(shown), moderator)
    for poll in (shown, hidden):
        run(client, c.ClosePoll(poll), moderator)

    page = client.get(f"/replay/{SESSION}?t={token(client, Role.PARTICIPANT, EVENT_SCOPE)}")
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(rf'<video id="replay-video"[^>]* src="/replay/{SESSION}/{PART}\?t=', html)
    assert html.count("data-part=") == 2  # two finished parts, not the .part file
    assert "Quel rôle pour les villes ?" in html and "Ana · Lyon" in html
    assert "Et le climat ?" in html and "Anonyme" in html
    assert "Jamais traitée" not in html  # only the answered ones
    assert html.count('data-testid="replay-seek"') == 2
    assert "<span>Oui</span> <strong>100\u00a0% (1 voix)</strong>" in html
    assert "<span>Non</span> <strong>0\u00a0% (0 voix)</strong>" in html
    assert "Les résultats n'ont pas été publiés." in html  # the hidden poll's
    assert 'data-testid="replay-unpublished"' not in html


def test_the_files_are_served_with_ranges_and_only_the_sessions(client: TestClient) -> None:
    mine = token(client, Role.PARTICIPANT, EVENT_SCOPE)
    url = f"/replay/{SESSION}/{PART}?t={mine}"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == BODY
    assert whole.headers["content-type"] == "video/webm"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={"range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == BODY[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(BODY)}"
    assert client.get(url, headers={"range": "bytes=999999-"}).status_code == 416
    for name in (f"{SESSION}_20200922-080000.webm.part", "pleniere-aict_20200922-090000.webm",
                 "..%2F..%2Fetc%2Fpasswd", "nope.webm"):
        assert client.get(f"/replay/{SESSION}/{name}?t={mine}").status_code == 404, name
    assert client.get(f"/replay/{SESSION}/{PART}").status_code == 401
    assert client.get(f"/replay/{SESSION}/{PART}?t={token(client, Role.MODERATOR, 'atelier-1')}"
                      ).status_code == 403
    for path in ("/replay/nope.json", f"/replay/nope/{PART}", "/replay/copil-assises.json",
                 f"/replay/copil-assises/{PART}", "/replay/%2e%2e.json"):
        assert client.get(f"{path}?t={mine}").status_code == 404, path  # no such streamed session
    status = client.get(f"/replay/{SESSION}.json?t={mine}")
    assert status.json() == {"parts": [PART, SECOND], "published": True}
    assert client.get(f"/replay/{SESSION}.json").status_code == 401


def test_pages_refuse_bad_links_and_sessions_without_a_replay(client: TestClient) -> None:
    mine = token(client, Role.PARTICIPANT, EVENT_SCOPE)
    assert client.get(f"/replay/{SESSION}").status_code == 401
    assert client.get(f"/replay/{SESSION}?t={mine[:-4]}AAAA").status_code == 401
    expired = token(client, Role.PARTICIPANT, EVENT_SCOPE, int(time.time()) - 5)
    assert client.get(f"/replay/{SESSION}?t={expired}").status_code == 401
    other = token(client, Role.STAGE, "pleniere-aict")
    assert client.get(f"/replay/{SESSION}?t={other}").status_code == 403
    assert client.get(f"/replay/copil-assises?t={mine}").status_code == 404  # not streamed
    assert client.get(f"/replay/nope?t={mine}").status_code == 404
    empty = client.get(f"/replay/atelier-1?t={mine}")  # streamed, nothing recorded
    assert empty.status_code == 200 and 'data-testid="replay-none"' in empty.text


def test_a_moderator_takes_the_replay_down_and_puts_it_back(client: TestClient) -> None:
    mine = token(client, Role.PARTICIPANT, EVENT_SCOPE)
    run(client, c.SetReplayPublished(False), Actor(Role.MODERATOR))
    assert client.get(f"/replay/{SESSION}?t={mine}").status_code == 410
    assert client.get(f"/replay/{SESSION}/{PART}?t={mine}").status_code == 410
    assert client.get(f"/replay/{SESSION}.json?t={mine}").json() == {"parts": [],
                                                                     "published": False}
    assert f"/replay/{SESSION}?" not in client.get(f"/?t={mine}").text
    for staff in (Role.MODERATOR, Role.STUDIO):
        page = client.get(f"/replay/{SESSION}?t={token(client, staff)}")
        assert page.status_code == 200 and 'data-testid="replay-unpublished"' in page.text
    run(client, c.SetReplayPublished(True), Actor(Role.MODERATOR))
    assert client.get(f"/replay/{SESSION}?t={mine}").status_code == 200


def test_the_programme_links_to_replays_of_sessions_that_are_over(recordings: Path) -> None:
    during = Settings(port=8000, recordings=recordings,
                      clock_override=datetime(2020, 9, 22, 9, 30))  # the plenary is on
    with TestClient(create_app(during), base_url="http://127.0.0.1:8000") as live:
        page = live.get(f"/?t={token(live, Role.PARTICIPANT, EVENT_SCOPE)}").text
        assert f'data-testid="replay-{SESSION}"' not in page
        assert 'data-testid="replay-pleniere-aict"' in page  # recorded, and not on now
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as bare:
        assert 'data-testid="replay-' not in bare.get(
            f"/?t={token(bare, Role.PARTICIPANT, EVENT_SCOPE)}").text  # no recordings folder
