"""The programme edited live over HTTP (live/web/programme_edit.py): an edit served at once, a stale
save refused with 409 naming who saved, the history, the TOML export read back and imported, bad
input answered with the field, every link but the admin's refused, and a second app on the same
Redis following the change; the form's saves, as plain data rather than TOML, likewise."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from live.app import create_app
from live.config import Settings, load_programme
from live.domain import Actor, DomainError, Role
from live.domain import commands as c
from live.domain.programme import Programme, parse_programme
from live.programmes import EDITS_PER_MINUTE, MAX_SESSIONS, parse_text, to_data, to_toml
from live.web.auth import EVENT_SCOPE
from tests.conftest import REDIS_URL, SESSION, delete_prefix, redis_prefix, token_of

URL = "/control/programme"


@pytest.fixture()
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(port=8000)), base_url="http://127.0.0.1:8000") as client:
        yield client


def admin_headers(client: TestClient) -> dict[str, str]:
    app: Any = client.app
    token = app.state.signer.issue(Role.ADMIN, EVENT_SCOPE, int(time.time()) + 3600)
    return {"authorization": f"Bearer {token}"}


def programme_of(client: TestClient) -> Programme:
    app: Any = client.app
    programme: Programme = app.state.service.programme
    return programme


def test_the_demo_programme_reads_back_from_its_export() -> None:
    demo = load_programme(None)
    assert parse_text(to_toml(demo)) == demo


def test_an_edit_is_served_at_once_and_recorded(client: TestClient) -> None:
    shown = client.get(URL, headers=admin_headers(client)).json()
    assert shown["version"] == 1 and shown["history"][0]["by"] == "file"
    text = shown["text"].replace('room = "', 'room = "Salle B ', 1)
    saved = client.put(URL, headers=admin_headers(client),
                       json={"base": 1, "text": text, "by": "Ana"})
    assert saved.status_code == 200 and saved.json() == {"version": 2, "polls_created": 0}
    assert programme_of(client).sessions[0].room.startswith("Salle B ")
    assert client.get("/programme/version").json() == {"version": 2}
    history = client.get(URL, headers=admin_headers(client)).json()["history"]
    assert [(h["version"], h["by"], h["what"]) for h in history] == [(2, "Ana", "edit"),
                                                                    (1, "file", "import")]


def test_a_stale_save_is_refused_naming_who_saved(client: TestClient) -> None:
    text = client.get(URL, headers=admin_headers(client)).json()["text"]
    assert client.put(URL, headers=admin_headers(client),
                      json={"base": 1, "text": text, "by": "Ana"}).status_code == 200
    stale = client.put(URL, headers=admin_headers(client),
                       json={"base": 1, "text": text, "by": "Bob"})
    assert stale.status_code == 409
    assert stale.json()["error"] == "programme.stale" and stale.json()["by"] == "Ana"
    assert "Ana" in stale.json()["message"]


def test_export_and_import_round_trip(client: TestClient) -> None:
    exported = client.get(f"{URL}.toml", headers=admin_headers(client))
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    added = exported.text + ('\n[[sessions]]\nid = "late-news"\ntitle = "Dernières nouvelles"\n'
                             f'date = "{programme_of(client).days[0].day}"\n'
                             'start = "18:00"\nend = "18:30"\nroom = "Hall"\n')
    imported = client.put(URL, headers=admin_headers(client),
                          json={"base": 1, "text": added, "by": "Ana", "what": "import"})
    assert imported.status_code == 200
    late = programme_of(client).session("late-news")
    assert late is not None and late.room == "Hall"
    assert client.get(f"{URL}.toml", headers=admin_headers(client)).text == added


@pytest.mark.parametrize(("change", "field"), [
    (lambda t: t.replace('start = "', 'start = "nine', 1), "is not a time"),
    (lambda t: t.replace('kind = "', 'kind = "party', 1), "kind"),
    (lambda t: t.replace('[[sessions]]\nid = "', '[[sessions]]\nid = "Bad Id', 1), "'id'"),
    (lambda t: t + "[[", "not valid TOML"),
    (lambda t: t.replace('[[sessions]]\nid = "', '[[sessions]]\ntitle_es = "' + "x" * 400 + '"\nid = "', 1),
     "'title_es'"),
])
def test_bad_programmes_are_refused_naming_the_field(client: TestClient, change: Any,
                                                     field: str) -> None:
    text = client.get(URL, headers=admin_headers(client)).json()["text"]
    refused = client.put(URL, headers=admin_headers(client),
                         json={"base": 1, "text": change(text), "by": "Ana"})
    assert refused.status_code == 422 and field in refused.json()["message"], refused.json()
    assert client.get("/programme/version").json() == {"version": 1}


def test_too_many_sessions_and_bad_requests(client: TestClient) -> None:
    text = client.get(URL, headers=admin_headers(client)).json()["text"]
    day = programme_of(client).days[0].day
    many = text + "".join(f'\n[[sessions]]\nid = "s{i}"\ntitle = "S"\ndate = "{day}"\n'
                          'start = "08:00"\nend = "08:10"\n' for i in range(MAX_SESSIONS))
    assert client.put(URL, headers=admin_headers(client),
                      json={"base": 1, "text": many, "by": "A"}).status_code == 422
    for body, field in (({"text": text, "by": "A"}, "base"), ({"base": 1, "by": "A"}, "data"),
                        ({"base": 1, "text": text, "by": ""}, "by"),
                        ({"base": 1, "text": text, "what": "drop"}, "what")):
        answer = client.put(URL, headers=admin_headers(client), json=body)
        assert answer.status_code == 400 and answer.json()["field"] == field
    assert client.put(URL, headers=admin_headers(client), content=b"{").status_code == 400


def give_activity(client: TestClient, session_id: str) -> None:
    """A record in the session's history: what makes it a session that cannot be removed."""
    app: Any = client.app
    store, portal = app.state.service.store, client.portal
    assert portal is not None
    loaded = portal.call(store.load, session_id)
    portal.call(store.append, session_id, loaded.epoch, loaded.snapshot_version,
                ['{"type":"noted"}'])


def test_a_session_with_activity_cannot_be_removed(client: TestClient) -> None:
    give_activity(client, SESSION)
    programme = programme_of(client)
    without = replace(programme, sessions=tuple(s for s in programme.sessions if s.id != SESSION))
    refused = client.put(URL, headers=admin_headers(client),
                         json={"base": 1, "text": to_toml(without), "by": "Ana"})
    assert refused.status_code == 422 and SESSION in refused.json()["message"]
    assert programme_of(client).session(SESSION) is not None


def test_only_the_admin_link_edits(client: TestClient) -> None:
    app: Any = client.app
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={}).status_code == 401
    for role, link in app.state.links.by_session[SESSION].items():
        token = link.split("Bearer ")[1] if "Bearer " in link else token_of(link)
        for answer in (client.get(URL, headers={"authorization": f"Bearer {token}"}),
                       client.get(f"{URL}.toml", params={"t": token}),
                       client.put(URL, headers={"authorization": f"Bearer {token}"},
                                  json={"base": 1, "text": "", "by": "x"})):
            assert answer.status_code == 403, role
    assert client.get("/programme/version").json() == {"version": 1}


def test_a_second_app_on_the_same_redis_follows_the_edit() -> None:
    prefix = redis_prefix()
    settings = Settings(port=8000, redis_url=REDIS_URL, key_prefix=prefix)
    try:
        with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as first, \
                TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as second:
            text = first.get(URL, headers=admin_headers(first)).json()["text"]
            edited = text.replace('room = "', 'room = "Salle B ', 1)
            assert first.put(URL, headers=admin_headers(first),
                             json={"base": 1, "text": edited, "by": "Ana"}).status_code == 200
            deadline = time.monotonic() + 10
            while second.get("/programme/version").json()["version"] != 2:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert programme_of(second).sessions[0].room.startswith("Salle B ")
    finally:
        delete_prefix(prefix)


def test_an_edit_reaches_loaded_sessions_and_the_other_routes(client: TestClient) -> None:
    app: Any = client.app
    service, portal = app.state.service, client.portal
    assert portal is not None
    hub = portal.call(service.hub, SESSION)
    text = client.get(URL, headers=admin_headers(client)).json()["text"]
    edited = text.replace(f'[[sessions]]\nid = "{SESSION}"\ntitle = "',
                          f'[[sessions]]\nid = "{SESSION}"\ntitle = "Déplacée : ', 1)
    assert edited != text
    assert client.put(URL, headers=admin_headers(client),
                      json={"base": 1, "text": edited, "by": "Ana"}).status_code == 200
    assert hub.session_view["title"]["fr"].startswith("Déplacée : ")
    assert app.state.pages.programme is service.programme
    follow = client.get("/programme/version", params={"session": SESSION, "lang": "fr"}).json()
    assert follow["session"]["title"].startswith("Déplacée : ")


def test_a_loaded_room_follows_whether_it_takes_questions_and_its_languages(
        client: TestClient) -> None:
    app: Any = client.app
    service, portal = app.state.service, client.portal
    assert portal is not None
    room = "atelier-1"  # questions and polls, French only
    portal.call(service.hub, room)
    text = client.get(URL, headers=admin_headers(client)).json()["text"]
    start = text.index(f'id = "{room}"')
    block = text[start:text.index("[[sessions]]", start)]
    edited = text.replace(block, block.replace("interactive = true", "interactive = false")
                          .replace('languages = ["fr"]', 'languages = ["fr", "en"]'), 1)
    assert client.put(URL, headers=admin_headers(client),
                      json={"base": 1, "text": edited}).status_code == 200
    with pytest.raises(DomainError) as refused:
        portal.call(service.execute, room, c.AskQuestion("Encore ?"),
                    Actor(Role.PARTICIPANT, "u_1"))
    assert refused.value.code == "not_interactive"
    portal.call(service.execute, room, c.PostCaption("en", "Welcome."),
                Actor(Role.CAPTIONER))  # English is one of its languages now


def test_saves_are_rate_limited(client: TestClient) -> None:
    text = client.get(URL, headers=admin_headers(client)).json()["text"]
    for base in range(1, EDITS_PER_MINUTE + 1):
        assert client.put(URL, headers=admin_headers(client),
                          json={"base": base, "text": text, "by": "Ana"}).status_code == 200
    refused = client.put(URL, headers=admin_headers(client),
                         json={"base": EDITS_PER_MINUTE + 1, "text": text, "by": "Ana"})
    assert refused.status_code == 429 and refused.json()["error"] == "programme.too_many_saves"


def test_the_stored_programme_wins_over_the_file_at_start(caplog: pytest.LogCaptureFixture) -> None:
    prefix = redis_prefix()
    settings = Settings(port=8000, redis_url=REDIS_URL, key_prefix=prefix)
    try:
        with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as first:
            text = first.get(URL, headers=admin_headers(first)).json()["text"]
            assert first.put(URL, headers=admin_headers(first), json={
                "base": 1, "text": text.replace('room = "', 'room = "Annexe ', 1),
                "by": "Ana"}).status_code == 200
        with caplog.at_level("INFO", logger="live.programmes"), \
                TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as again:
            assert programme_of(again).sessions[0].room.startswith("Annexe ")
            assert again.get("/programme/version").json() == {"version": 2}
        assert "wins over the file" in caplog.text
    finally:
        delete_prefix(prefix)


# -- the form's saves: plain data, stored as TOML ---------------------------------------------------

def test_the_demo_programme_reads_back_from_its_data() -> None:
    demo = load_programme(None)
    assert parse_programme(to_data(demo)) == demo
    assert any(session["polls"] for session in to_data(demo)["sessions"])  # they go round too
    assert to_data(demo)["sessions"][0]["start"].count(":") == 1  # "09:30", as the form shows


def data_of(client: TestClient) -> dict[str, Any]:
    shown = client.get(URL, headers=admin_headers(client)).json()
    assert shown["data"] == to_data(parse_text(shown["text"]))  # the version's own programme
    data: dict[str, Any] = shown["data"]
    return data


def session_data(data: dict[str, Any], session_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["sessions"] if s["id"] == session_id)
    return found


def test_a_form_save_is_served_and_stored_as_toml(client: TestClient) -> None:
    data = data_of(client)
    session_data(data, SESSION).update(title="Plénière déplacée", room="Salle Europe")
    saved = client.put(URL, headers=admin_headers(client),
                       json={"base": 1, "data": data, "by": "Ana"})
    assert saved.status_code == 200 and saved.json() == {"version": 2, "polls_created": 0}
    session = programme_of(client).session(SESSION)
    assert session is not None and session.title["fr"] == "Plénière déplacée"
    assert session.room == "Salle Europe"
    shown = client.get(URL, headers=admin_headers(client)).json()
    assert 'room = "Salle Europe"' in shown["text"] and shown["data"] == data
    latest = shown["history"][0]
    assert (latest["version"], latest["by"], latest["what"]) == (2, "Ana", "edit")


def test_a_form_save_creates_the_polls_it_adds_and_keeps_the_others(client: TestClient) -> None:
    data = data_of(client)
    prepared = next(s for s in data["sessions"] if s["polls"])
    prepared["polls"].append({"question": "Une question de plus ?", "kind": "choice",
                              "options": ["Oui", "Non"], "multiple": False})
    saved = client.put(URL, headers=admin_headers(client), json={"base": 1, "data": data})
    assert saved.status_code == 200 and saved.json()["polls_created"] == 1
    session = programme_of(client).session(prepared["id"])
    assert session is not None and len(session.polls) == len(prepared["polls"])


def test_a_stale_form_save_is_refused_naming_who_saved(client: TestClient) -> None:
    data = data_of(client)
    assert client.put(URL, headers=admin_headers(client),
                      json={"base": 1, "data": data, "by": "Ana"}).status_code == 200
    stale = client.put(URL, headers=admin_headers(client),
                       json={"base": 1, "data": data, "by": "Bob"})
    assert stale.status_code == 409 and stale.json()["by"] == "Ana"
    assert stale.json()["version"] == 2 and "Ana" in stale.json()["message"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda s: s.update(kind="party"), "kind 'party'"),
    (lambda s: s.update(id="Bad Id"), "'id'"),
    (lambda s: s.update(start="nine"), "'nine' is not a time"),
    (lambda s: s.update(date="1999-01-01"), "not one of the programme's days"),
    (lambda s: s.update(interactive="false"), "'interactive' must be true or false"),
    (lambda s: s.update(room=["A"]), "'room' must be text"),
    (lambda s: s.update(languages="fr, en"), "'languages'"),
    (lambda s: s.update(title_es="x" * 400), "'title_es'"),
    (lambda s: s.pop("title"), "missing 'title'"),
])
def test_bad_form_data_is_refused_naming_the_field(client: TestClient, change: Any,
                                                   field: str) -> None:
    data = data_of(client)
    change(session_data(data, SESSION))
    refused = client.put(URL, headers=admin_headers(client),
                         json={"base": 1, "data": data, "by": "Ana"})
    assert refused.status_code == 422, refused.json()
    assert refused.json()["error"] == "programme.invalid"
    assert field in refused.json()["message"], refused.json()
    assert client.get("/programme/version").json() == {"version": 1}


def test_form_data_within_the_bounds_and_one_of_text_or_data(client: TestClient) -> None:
    shown = client.get(URL, headers=admin_headers(client)).json()
    data, day = shown["data"], shown["data"]["days"][0]["date"]
    many = {**data, "sessions": data["sessions"] + [
        {"id": f"s{i}", "title": "S", "date": day, "start": "08:00", "end": "08:10"}
        for i in range(MAX_SESSIONS)]}
    too_many = client.put(URL, headers=admin_headers(client), json={"base": 1, "data": many})
    assert too_many.status_code == 422 and "at most" in too_many.json()["message"]
    for body in ({"base": 1, "text": shown["text"], "data": data}, {"base": 1},
                 {"base": 1, "data": [data]}, {"base": 1, "data": "[event]"}):
        answer = client.put(URL, headers=admin_headers(client), json=body)
        assert answer.status_code == 400, body
        assert answer.json() == {"error": "programme.bad_request", "field": "data",
                                 "message": answer.json()["message"]}
    assert client.get("/programme/version").json() == {"version": 1}


def test_a_form_save_cannot_remove_a_session_with_activity(client: TestClient) -> None:
    give_activity(client, SESSION)
    data = data_of(client)
    data["sessions"] = [s for s in data["sessions"] if s["id"] != SESSION]
    refused = client.put(URL, headers=admin_headers(client), json={"base": 1, "data": data})
    assert refused.status_code == 422 and SESSION in refused.json()["message"]
    assert programme_of(client).session(SESSION) is not None
