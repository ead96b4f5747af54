"""The reports' rows (live/reports, pure): the event's time zone, the reader's language, the
semicolon CSV's decimal commas, anonymous askers, the formula guard, poll kinds, attendance and
its peak, and the JSON archive's schema and privacy."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest

from live.config import load_programme
from live.domain import commands as c
from live.domain.state import Poll
from live.reports.archive import SCHEMA, VERSION, archive
from live.reports.render import csv_text, xlsx_bytes
from live.reports.tables import Peak, SessionData, Table, Words, event_zone, peak, report_tables
from live.web.i18n import translator
from tests.domain.harness import MOD, P1, P2, P3, P4, Harness

PROGRAMME = load_programme(None)  # the demo: Europe/Paris
SESSION = PROGRAMME.session("pleniere-geopolitique")
assert SESSION is not None
# 2020-09-22 09:00 UTC is 11:00 in Paris (summer time): the harness's clock starts there.
MINUTE = int(datetime(2020, 9, 22, 9, 30, tzinfo=UTC).timestamp() // 60)


def words(lang: str = "fr") -> Words:
    return Words(translator(lang), lang, event_zone(PROGRAMME))


def session_data() -> SessionData:
    h = Harness()
    named = h.ask(P1, "Quelle place pour les villes ?", name="Awa Diallo", organisation="Ville de Dakar")
    hidden = h.ask(P2, "Et le financement ?", name="Secret Person", organisation="Hidden Org",
                   anonymous=True)
    for q in (named, hidden):
        h.send(c.ApproveQuestion(q), MOD)
    h.send(c.UpvoteQuestion(named), P3)
    h.send(c.UpvoteQuestion(named), P4)
    h.send(c.ReplyToQuestion(named, "Voir l'atelier de 14 h."), MOD)
    h.send(c.MarkAnswered(named), MOD)
    state = h.room.state
    state.questions[hidden].author_name = "Secret Person"  # whatever the state holds
    state.questions[hidden].organisation = "Hidden Org"
    state.questions[named].origin = "room"
    poll = h.poll(("Oui", "Non", "Je ne sais pas"))
    for voter, choice in ((P1, 0), (P2, 0), (P3, 1)):
        h.send(c.CastBallot(poll, [choice]), voter)
    attendance = [(MINUTE, {"participants": 40, "viewers": 10}),
                  (MINUTE + 1, {"participants": 55, "viewers": 12}),
                  (MINUTE + 2, {"participants": 55, "viewers": 30})]
    return SessionData(SESSION, state, attendance)  # type: ignore[arg-type]


def table(tables: list[Table], name: str) -> Table:
    return next(t for t in tables if t.name == name)


def as_dicts(t: Table) -> list[dict[str, Any]]:
    return [dict(zip(t.headers, row, strict=True)) for row in t.rows]


def test_questions_in_french_and_the_event_s_time_zone() -> None:
    rows = as_dicts(table(report_tables([session_data()], words("fr")), "questions"))
    named, hidden = rows
    assert named["Statut"] == "Traitée" and named["Origine"] == "Dans la salle"
    assert named["Auteur"] == "Awa Diallo" and named["Organisation"] == "Ville de Dakar"
    assert (named["Votes"], named["Anonyme"]) == (2, "non")
    assert named["Réponse écrite"] == "Voir l'atelier de 14 h."
    # Asked at the harness's first second past 09:00 UTC: 11:00:01 in Paris, not 09:00:01.
    assert named["Posée à"] == datetime(2020, 9, 22, 11, 0, 1)
    assert named["Traitée à"] is not None and named["Traitée à"].hour == 11
    assert hidden["Anonyme"] == "oui" and hidden["Origine"] == "À distance"
    assert hidden["Auteur"] is None and hidden["Organisation"] is None
    assert "Secret Person" not in str(rows) and "Hidden Org" not in str(rows)


def test_headers_statuses_and_yes_no_in_english() -> None:
    tables = report_tables([session_data()], words("en"))
    questions = as_dicts(table(tables, "questions"))
    assert questions[0]["Status"] == "Answered" and questions[0]["Anonymous"] == "no"
    assert questions[1]["Anonymous"] == "yes" and questions[1]["Origin"] == "Remote"
    polls = as_dicts(table(tables, "polls"))
    assert [(p["Answer"], p["Votes"], p["Share of voters (%)"]) for p in polls] == [
        ("Oui", 2, 66.7), ("Non", 1, 33.3), ("Je ne sais pas", 0, 0.0)]
    assert {p["Status"] for p in polls} == {"Open"} and {p["Voters"] for p in polls} == {3}
    assert [t.title for t in tables] == ["Sessions", "Questions", "Polls", "Attendance",
                                         "Moderation"]


def test_attendance_per_minute_and_its_peak_in_local_time() -> None:
    tables = report_tables([session_data()], words("fr"))
    minutes = as_dicts(table(tables, "attendance"))
    assert [(m["Minute"], m["Participants connectés"], m["Spectateurs du direct"])
            for m in minutes] == [(datetime(2020, 9, 22, 11, 30), 40, 10),
                                  (datetime(2020, 9, 22, 11, 31), 55, 12),
                                  (datetime(2020, 9, 22, 11, 32), 55, 30)]
    [summary] = as_dicts(table(tables, "sessions"))
    # The first minute the peak was reached.
    assert (summary["Pic de participants"], summary["Heure du pic de participants"]) == (
        55, datetime(2020, 9, 22, 11, 31))
    assert (summary["Pic de spectateurs"], summary["Heure du pic de spectateurs"]) == (
        30, datetime(2020, 9, 22, 11, 32))
    assert (summary["Questions"], summary["Questions traitées"], summary["Sondages"]) == (2, 1, 1)
    assert peak([], "viewers") == peak([(MINUTE, {"viewers": 0})], "viewers") == Peak(0, None)


def test_the_event_report_names_the_session_on_every_row() -> None:
    other = SessionData(PROGRAMME.sessions[0], session_data().state, [])
    tables = report_tables([session_data(), other], words("fr"), whole_event=True)
    questions = table(tables, "questions")
    assert questions.headers[0] == "Session"
    assert [row[0] for row in questions.rows] == [SESSION.id] * 2 + [other.session.id] * 2
    assert len(table(tables, "sessions").rows) == 2
    alone = report_tables([session_data()], words("fr"), whole_event=True)  # a one-session event
    assert table(alone, "polls").headers[0] == "Session"


def test_the_moderation_log_says_who_did_what_to_which_question_or_poll() -> None:
    rows = as_dicts(table(report_tables([session_data()], words("en")), "moderation"))
    assert [(r["By"], r["Action"], r["Question or poll"]) for r in rows] == [
        ("Moderator", "approved", "q_1"), ("Moderator", "approved", "q_2"),
        ("Moderator", "replied to", "q_1"), ("Moderator", "marked as answered", "q_1"),
        ("Moderator", "created the poll", "p_3"), ("Moderator", "opened the poll", "p_3")]
    assert rows[0]["Text at the time"] == "Quelle place pour les villes ?"
    assert rows[4]["Text at the time"] == "Êtes-vous d'accord ?"
    assert rows[0]["Time"] == datetime(2020, 9, 22, 11, 0, 3)  # the event's local time


def csv_rows(text: str, delimiter: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def test_csv_comma_and_semicolon_with_decimal_commas() -> None:
    tables = report_tables([session_data()], words("fr"))
    comma = csv_rows(csv_text(tables), ",")
    semicolon = csv_rows(csv_text(tables, semicolon=True), ";")
    # Each part's header row and its rows: sessions, questions, polls, attendance, moderation.
    assert len(comma) == len(semicolon) == 1 + 1 + 1 + 2 + 1 + 3 + 1 + 3 + 1 + 6
    polls = [r for r in semicolon if r[0] == "Sondages"]
    assert polls[0][-3:] == ["Réponse", "Voix", "Part des votants, en\u00a0%"]  # its own header row
    assert [r[-1] for r in polls[1:]] == ["66,7", "33,3", "0,0"]
    assert [r[-1] for r in comma if r[0] == "Sondages"][1:] == ["66.7", "33.3", "0.0"]
    # Times as the event's local time; texts with the separator in them stay one cell.
    question = next(r for r in semicolon if r[0] == "Questions" and "Awa Diallo" in r)
    assert "2020-09-22 11:00:01" in question
    minutes = [r[1] for r in semicolon if r[0] == "Fréquentation"][1:]
    assert minutes == ["2020-09-22 11:30:00", "2020-09-22 11:31:00", "2020-09-22 11:32:00"]


DANGEROUS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", DANGEROUS)
def test_no_cell_runs_as_a_formula_in_csv_or_xlsx(payload: str) -> None:
    data = session_data()
    question = next(iter(data.state.questions.values()))
    question.text = question.author_name = question.organisation = question.reply = payload
    tables = report_tables([data], words("fr"))
    for row in csv_rows(csv_text(tables, semicolon=True), ";"):
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    cells = [cell for row in csv_rows(csv_text(tables), ",") for cell in row]
    assert cells.count(f"'{payload}") == 4  # the text, the author, the organisation, the reply
    body = xlsx_bytes(tables, title="=cmd")
    with zipfile.ZipFile(io.BytesIO(body)) as archive_file:
        for name in archive_file.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive_file.read(name), name
    sheet = openpyxl.load_workbook(io.BytesIO(body))["Questions"]
    texts = [cell.value for cell in sheet[2]]
    # Kept as text, exactly (XML reads a carriage return back as a line feed).
    assert texts.count(payload.replace("\r", "\n")) == 4


def test_xlsx_has_a_sheet_per_part_bold_headers_widths_and_real_dates() -> None:
    body = xlsx_bytes(report_tables([session_data()], words("en")), title="Report")
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Sessions", "Questions", "Polls", "Attendance", "Moderation"]
    sheet = book["Questions"]
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    asked = sheet.cell(2, header.index("Asked at") + 1)
    assert asked.value == datetime(2020, 9, 22, 11, 0, 1) and asked.is_date
    text_width = sheet.column_dimensions["D"].width  # the question, wider than the id
    assert text_width > sheet.column_dimensions["A"].width
    polls = book["Polls"]
    share = polls.cell(2, polls.max_column)
    assert share.value == 66.7 and share.number_format == "0.0"


def test_each_poll_kind_has_its_own_rows() -> None:
    data = session_data()
    at = 1_600_765_300_000
    data.state.polls["p_r"] = Poll("p_r", "Votre note ?", (), False, at, kind="rating",
                                   ballots={"p1": (2,), "p2": (5,)})
    data.state.polls["p_w"] = Poll("p_w", "Un mot ?", (), False, at + 1, kind="words",
                                   answers={"p1": ("eau", "climat"), "p2": ("eau",)},
                                   screened={"climat": False})
    data.state.polls["p_t"] = Poll("p_t", "Une idée ?", (), False, at + 2, kind="text",
                                   answers={"p1": ("Des bus.",), "p2": ("Non merci.",)},
                                   screened={"Des bus.": True})
    rows = as_dicts(table(report_tables([data], words("fr")), "polls"))

    def of(poll_id: str) -> list[tuple[object, ...]]:
        return [(r["Type de sondage"], r["Réponse"], r["Voix"]) for r in rows
                if r["Sondage"] == poll_id]

    assert of("p_r") == [("Note de 1 à 5", f"{n}/5", int(n in (2, 5))) for n in range(1, 6)] + [
        ("Note de 1 à 5", "⌀ 3.5/5", 2)]
    # what the public saw: a hidden word and an answer never approved stay out
    assert of("p_w") == [("Nuage de mots", "eau", 2)]
    assert of("p_t") == [("Réponse libre", "Des bus.", 1)]


def test_the_json_archive_has_everything_but_who_voted_and_anonymous_askers() -> None:
    data = session_data()
    document = archive(PROGRAMME, [data], 1_600_766_000.0, event_zone(PROGRAMME))
    assert (document["schema"], document["version"]) == (SCHEMA, VERSION)
    assert document["generated_at"] == "2020-09-22T11:13:20+02:00"
    assert document["event"]["timezone"] == "Europe/Paris"
    [session] = document["sessions"]
    assert session["id"] == SESSION.id and session["title"]["fr"] == SESSION.title["fr"]
    state = session["state"]
    named, hidden = state["questions"]
    assert named["votes"] == 2 and named["reply"] == "Voir l'atelier de 14 h."
    assert named["origin"] == "room" and named["status"] == "answered"
    assert hidden["author_name"] is None and hidden["organisation"] is None
    [poll] = state["polls"]
    assert poll["ballot_count"] == 3 and poll["kind"] == "choice"
    assert poll["results"][0] == {"answer": "Oui", "count": 2, "share": 66.7}
    text = str(document)
    for private in ("voters", "ballots", "author_id", "client_key", "p1", "p3", "Secret Person"):
        assert f"'{private}'" not in text, private
    assert session["attendance"]["peak"] == {
        "participants": {"count": 55, "at": "2020-09-22T11:31:00+02:00"},
        "viewers": {"count": 30, "at": "2020-09-22T11:32:00+02:00"}}
    assert len(session["attendance"]["minutes"]) == 3
