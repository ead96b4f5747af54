"""The organiser's reports over HTTP (live/web/reports.py): each format opened and read back (the
XLSX with openpyxl), the words of the asked language, the separator option, the clear 4xx of a
bad request, and every link but the admin's refused."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings
from live.domain import Actor, Role
from live.domain import commands as c
from live.web.auth import EVENT_SCOPE
from tests.conftest import SESSION, token_of

SESSION_URL = f"/control/reports/sessions/{SESSION}"
EVENT_URL = "/control/reports/event"
# 09:30 UTC on the plenary's day: 11:30 in Paris, the event's time zone.
MINUTE = int(datetime(2020, 9, 22, 9, 30, tzinfo=UTC).timestamp() // 60)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as client:
        app: Any = client.app
        service, portal = app.state.service, client.portal
        assert portal is not None
        moderator = Actor(Role.MODERATOR)
        asker, hidden = Actor(Role.PARTICIPANT, "u_1"), Actor(Role.PARTICIPANT, "u_2")
        portal.call(service.execute, SESSION, c.AskQuestion(
            "=HYPERLINK(\"http://evil\") Et les villes ?", name="Zoé", organisation="Lyon"), asker)
        portal.call(service.execute, SESSION, c.AskQuestion(
            "Question discrète ?", name="Caché", organisation="Secret", anonymous=True), hidden)
        state = portal.call(service.hub, SESSION).room.state
        first = next(q.id for q in state.questions.values() if q.author_id == "u_1")
        portal.call(service.execute, SESSION, c.ApproveQuestion(first), moderator)
        portal.call(service.execute, SESSION, c.ReplyToQuestion(first, "Oui, à 14 h."), moderator)
        portal.call(service.execute, SESSION, c.CreatePoll("D'accord ?", ["Oui", "Non", "Bof"]),
                    moderator)
        poll = next(iter(state.polls))
        portal.call(service.execute, SESSION, c.OpenPoll(poll), moderator)
        for voter, choice in (("u_1", 0), ("u_2", 0), ("u_3", 1)):
            portal.call(service.execute, SESSION, c.CastBallot(poll, [choice]),
                        Actor(Role.PARTICIPANT, voter))
        store = service.store
        for node, people, viewers in (("w0", 30, 4), ("w1", 12, 5)):
            portal.call(store.record_attendance, SESSION, node, MINUTE,
                        {"participants": people, "viewers": viewers})
        portal.call(store.record_attendance, SESSION, "w0", MINUTE + 1,
                    {"participants": 50, "viewers": 2})
        yield client


def admin(client: TestClient, expires_in: int = 3600) -> str:
    app: Any = client.app
    return str(app.state.signer.issue(Role.ADMIN, EVENT_SCOPE, int(time.time()) + expires_in))


def get(client: TestClient, url: str, **params: str) -> Any:
    return client.get(url, params={"t": admin(client), **params})


def test_the_session_xlsx_has_a_sheet_per_part_in_english(client: TestClient) -> None:
    answer = get(client, f"{SESSION_URL}.xlsx", lang="en")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"{SESSION}-report.xlsx" in answer.headers["content-disposition"]
    assert answer.headers["cache-control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Sessions", "Questions", "Polls", "Attendance", "Moderation"]
    questions = [[cell.value for cell in row] for row in book["Questions"].iter_rows()]
    header = questions[0]
    # Both asked within one millisecond: their order is the ids', which are random.
    rows = {row[header.index("Anonymous")]: row for row in questions[1:]}
    named = dict(zip(header, rows["no"], strict=True))
    assert named["Question"].startswith("=HYPERLINK")  # exactly as asked, and as text:
    line = 2 + questions[1:].index(rows["no"])
    assert book["Questions"].cell(line, header.index("Question") + 1).data_type == "s"  # not =
    assert (named["Author"], named["Organisation"], named["Status"]) == ("Zoé", "Lyon", "Published")
    assert named["Written reply"] == "Oui, à 14 h." and named["Origin"] == "Remote"
    hidden = dict(zip(header, rows["yes"], strict=True))
    assert (hidden["Author"], hidden["Organisation"], hidden["Anonymous"]) == (None, None, "yes")
    polls = [[cell.value for cell in row] for row in book["Polls"].iter_rows(min_row=2)]
    assert [(row[-3], row[-2], row[-1]) for row in polls] == [("Oui", 2, 66.7), ("Non", 1, 33.3),
                                                              ("Bof", 0, 0.0)]
    attendance = [[cell.value for cell in row] for row in book["Attendance"].iter_rows(min_row=2)]
    # Both workers' samples of a minute summed, in Paris time.
    assert attendance == [[datetime(2020, 9, 22, 11, 30), 42, 9],
                          [datetime(2020, 9, 22, 11, 31), 50, 2]]
    summary = [cell.value for cell in book["Sessions"][2]]
    assert summary[0] == SESSION and 50 in summary and 9 in summary


def test_the_event_csv_in_french_by_default_with_semicolons(client: TestClient) -> None:
    answer = get(client, f"{EVENT_URL}.csv", sep="semicolon")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(answer.text[1:], newline=""), delimiter=";"))
    parts = {row[0] for row in rows}
    assert parts == {"Sessions", "Questions", "Sondages", "Fréquentation", "Modération"}
    app: Any = client.app
    sessions = [row for row in rows if row[0] == "Sessions"]
    assert len(sessions) == 1 + len(app.state.service.programme.sessions)
    questions = [row for row in rows if row[0] == "Questions"]
    assert questions[0][1:3] == ["Session", "Identifiant"]
    assert any(row[1] == SESSION and row[5].startswith("'=HYPERLINK") for row in questions)
    polls = [row for row in rows if row[0] == "Sondages"]
    assert [row[-1] for row in polls[1:] if row[1] == SESSION] == ["66,7", "33,3", "0,0"]
    minutes = [row[1:] for row in rows if row[0] == "Fréquentation" and row[1] == SESSION]
    assert minutes == [[SESSION, "2020-09-22 11:30:00", "42", "9"],
                       [SESSION, "2020-09-22 11:31:00", "50", "2"]]


def test_the_csv_speaks_the_browser_s_language_and_separates_with_commas(client: TestClient
                                                                          ) -> None:
    answer = client.get(f"{SESSION_URL}.csv", params={"t": admin(client)},
                        headers={"accept-language": "en-GB,en;q=0.8"})
    rows = list(csv.reader(io.StringIO(answer.text[1:], newline="")))
    assert {row[0] for row in rows} == {"Sessions", "Questions", "Polls", "Attendance",
                                        "Moderation"}
    assert [row[-1] for row in rows if row[0] == "Polls"][1:] == ["66.7", "33.3", "0.0"]


def test_the_event_json_is_versioned_and_has_everything_but_who_voted(client: TestClient) -> None:
    answer = client.get(f"{EVENT_URL}.json", headers={"authorization": f"Bearer {admin(client)}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert (document["schema"], document["version"]) == ("tribune.report", 1)
    assert document["event"]["timezone"] == "Europe/Paris"
    app: Any = client.app
    assert [s["id"] for s in document["sessions"]] == [
        s.id for s in app.state.service.programme.sessions]
    plenary = next(s for s in document["sessions"] if s["id"] == SESSION)
    questions = plenary["state"]["questions"]
    assert [q["reply"] for q in questions] == ["Oui, à 14 h.", None]
    assert questions[1]["author_name"] is None and questions[1]["organisation"] is None
    [poll] = plenary["state"]["polls"]
    assert [r["count"] for r in poll["results"]] == [2, 1, 0] and poll["ballot_count"] == 3
    assert plenary["attendance"]["peak"]["participants"] == {
        "count": 50, "at": "2020-09-22T11:31:00+02:00"}
    text = json.dumps(document)
    assert "u_1" not in text and "u_3" not in text and "Caché" not in text


def test_bad_requests_get_a_clear_4xx(client: TestClient) -> None:
    assert get(client, f"{SESSION_URL}.pdf").status_code == 404
    assert "xlsx, csv" in get(client, f"{SESSION_URL}.pdf").text
    assert get(client, "/control/reports/sessions/no-such-session.csv").status_code == 404
    assert get(client, f"{EVENT_URL}.csv", sep="tab").status_code == 400
    assert client.post(f"{EVENT_URL}.csv", params={"t": admin(client)}).status_code == 405


def other_tokens(client: TestClient) -> dict[str, str]:
    """Every link printed for the session, by role: none of them is the organiser's."""
    app: Any = client.app
    tokens = {}
    for role, link in app.state.links.by_session[SESSION].items():
        tokens[role] = link.split("Bearer ")[1] if "Bearer " in link else token_of(link)
    assert {"participant", "moderator", "stage", "studio", "interpreter en", "captioner"} <= set(
        tokens)
    return tokens


@pytest.mark.parametrize("url", [f"{SESSION_URL}.xlsx", f"{EVENT_URL}.csv", f"{EVENT_URL}.json"])
def test_only_the_admin_link_gets_a_report(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 401
    assert client.get(url).headers["www-authenticate"] == "Bearer"
    assert client.get(url, params={"t": "forged.token"}).status_code == 401
    assert client.get(url, headers={"authorization": "Bearer forged.token"}).status_code == 401
    expired = admin(client, expires_in=-1)
    assert client.get(f"{url}?t={quote(expired)}").status_code == 401
    assert client.get(url, headers={"authorization": f"Bearer {expired}"}).status_code == 401
    for role, token in other_tokens(client).items():
        assert client.get(url, params={"t": token}).status_code == 403, role
        refused = client.get(url, headers={"authorization": f"Bearer {token}"})
        assert refused.status_code == 403, role
        assert "HYPERLINK" not in refused.text and "Zoé" not in refused.text  # nothing of it
    # The refusals come before anything about the request: an unknown session or format too.
    participant = other_tokens(client)["participant"]
    assert client.get("/control/reports/sessions/nope.pdf",
                      params={"t": participant}).status_code == 403


def test_the_control_room_links_every_report(client: TestClient) -> None:
    page = client.get("/control", params={"t": admin(client), "lang": "en"})
    assert page.status_code == 200 and 'data-testid="control-reports"' in page.text
    links = [html.unescape(href) for href in re.findall(r'href="(/control/reports/[^"]+)"', page.text)]
    app: Any = client.app
    sessions = app.state.service.programme.sessions
    assert len(links) == 4 * (1 + len(sessions))  # XLSX, CSV ; and , and JSON: event, each session
    assert any(link.startswith(f"{SESSION_URL}.csv?") and "sep=semicolon" in link for link in links)
    for link in (links[0], links[1], links[-1]):
        answer = client.get(link)
        assert answer.status_code == 200, link
        assert "lang=en" in link and answer.headers["content-disposition"].startswith("attachment")


def test_a_store_that_does_not_answer_gets_a_503_not_a_crash(client: TestClient,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    app: Any = client.app

    async def away(session_id: str) -> list[Any]:
        raise ConnectionError("the store is away")

    monkeypatch.setattr(app.state.service.store, "attendance", away)
    assert get(client, f"{EVENT_URL}.xlsx").status_code == 503
    monkeypatch.undo()
    assert get(client, f"{EVENT_URL}.xlsx").status_code == 200
