"""Every refusal's exact code and message, command by command.

The code is what clients act on; the message is what the pages show and log, and what an API
client reads when a command is refused, so a message that says "None is empty" or names the wrong
field is a bug a user sees. The other domain tests check codes; this one pins the words.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from live.domain import Actor, Role
from live.domain import commands as c
from live.domain import questions as questions_module
from live.domain.state import (
    BOOTH_NAME_CHARS,
    CAPTION_CHARS,
    CLIENT_KEY_CHARS,
    NAME_CHARS,
    ORGANISATION_CHARS,
    POLL_OPTION_CHARS,
    POLL_QUESTION_CHARS,
    QUESTION_CHARS,
)
from tests.domain.harness import CAPTIONER, MOD, P1, P2, Harness

LANGUAGES = ("fr", "en", "es")  # the floor, then the booths
EN = Actor(Role.INTERPRETER, language="en")
KEY = "k" * (CLIENT_KEY_CHARS + 1)

Setup = Callable[[Harness], tuple[c.Command, Actor]]


def approved(h: Harness) -> str:
    question_id = h.ask()
    h.send(c.ApproveQuestion(question_id), MOD)
    return question_id


def draft(h: Harness) -> str:
    return h.poll(open_=False)


def closed(h: Harness) -> str:
    poll_id = h.poll()
    h.send(c.ClosePoll(poll_id), MOD)
    return poll_id


def banned_author(h: Harness) -> tuple[c.Command, Actor]:
    h.send(c.BanParticipant(h.ask()), MOD)
    return c.AskQuestion("Encore moi ?"), P1


def closed_question_voter(h: Harness) -> tuple[c.Command, Actor]:
    question_id = approved(h)
    h.send(c.UpvoteQuestion(question_id), P2)
    h.send(c.ArchiveQuestion(question_id), MOD)
    return c.WithdrawUpvote(question_id), P2


def archived_on_stage(h: Harness) -> tuple[c.Command, Actor]:
    question_id = h.ask()
    h.send(c.ArchiveQuestion(question_id), MOD)
    return c.PutOnStage(question_id), MOD


ROOM: list[tuple[str, Setup, str, str]] = [
    ("role", lambda h: (c.ApproveQuestion("q_1"), P1),
     "forbidden", "your role may not ApproveQuestion"),
    ("banned", banned_author, "banned", "you have been banned from this session"),
    ("no question", lambda h: (c.UpvoteQuestion("q_9"), P1), "not_found", "no such question"),
    ("upvote pending", lambda h: (c.UpvoteQuestion(h.ask()), P2),
     "conflict", "only approved questions take votes"),
    ("withdraw closed", closed_question_voter,
     "conflict", "the question is closed: its votes are final"),
    ("stage archived", archived_on_stage, "conflict", "a question archived cannot go on stage"),
    ("clear what", lambda h: (c.ClearStage("everything"), MOD),
     "invalid", "target must be question, poll or all"),
    ("ask empty", lambda h: (c.AskQuestion(" \u200b "), P1), "invalid", "question is empty"),
    ("ask long", lambda h: (c.AskQuestion("q" * (QUESTION_CHARS + 1)), P1),
     "invalid", f"question is longer than {QUESTION_CHARS} characters"),
    ("ask control", lambda h: (c.AskQuestion("bip\x07"), P1),
     "invalid", "question contains control characters"),
    ("ask name", lambda h: (c.AskQuestion("Q ?", name="n" * (NAME_CHARS + 1)), P1),
     "invalid", f"name is longer than {NAME_CHARS} characters"),
    ("ask organisation",
     lambda h: (c.AskQuestion("Q ?", name="Marie", organisation="o" * (ORGANISATION_CHARS + 1)),
                P1),
     "invalid", f"organisation is longer than {ORGANISATION_CHARS} characters"),
    ("ask key", lambda h: (c.AskQuestion("Q ?", client_key=KEY), P1),
     "invalid", f"client_key is longer than {CLIENT_KEY_CHARS} characters"),
    ("edit empty", lambda h: (c.EditQuestion(h.ask(), "  "), MOD), "invalid", "question is empty"),
    ("approve with empty text", lambda h: (c.ApproveQuestion(h.ask(), "\n"), MOD),
     "invalid", "question is empty"),
]

POLLS: list[tuple[str, Setup, str, str]] = [
    ("no poll", lambda h: (c.OpenPoll("p_9"), MOD), "not_found", "no such poll"),
    ("no poll to vote in", lambda h: (c.CastBallot("p_9", [0]), P1), "not_found", "no such poll"),
    ("question empty", lambda h: (c.CreatePoll("", ["Oui", "Non"]), MOD),
     "invalid", "poll question is empty"),
    ("question long", lambda h: (c.CreatePoll("q" * (POLL_QUESTION_CHARS + 1), ["a", "b"]), MOD),
     "invalid", f"poll question is longer than {POLL_QUESTION_CHARS} characters"),
    ("one option", lambda h: (c.CreatePoll("Q ?", ["Oui"]), MOD),
     "invalid", "a poll has 2 to 10 options"),
    ("option empty", lambda h: (c.CreatePoll("Q ?", ["Oui", " "]), MOD),
     "invalid", "option is empty"),
    ("option long", lambda h: (c.CreatePoll("Q ?", ["Oui", "o" * (POLL_OPTION_CHARS + 1)]), MOD),
     "invalid", f"option is longer than {POLL_OPTION_CHARS} characters"),
    ("options same", lambda h: (c.CreatePoll("Q ?", ["Oui", " Oui"]), MOD),
     "invalid", "options must differ"),
    ("poll key", lambda h: (c.CreatePoll("Q ?", ["a", "b"], client_key=KEY), MOD),
     "invalid", f"client_key is longer than {CLIENT_KEY_CHARS} characters"),
    ("close draft", lambda h: (c.ClosePoll(draft(h)), MOD), "conflict", "the poll is not open"),
    ("stage draft", lambda h: (c.PutPollOnStage(draft(h)), MOD),
     "conflict", "open the poll before showing it on stage"),
    ("reveal draft", lambda h: (c.RevealResults(draft(h)), MOD),
     "conflict", "open the poll before revealing its results"),
    ("vote closed", lambda h: (c.CastBallot(closed(h), [0]), P1),
     "conflict", "the poll is not open"),
    ("vote nothing", lambda h: (c.CastBallot(h.poll(), []), P1),
     "invalid", "choose at least one option, each once"),
    ("vote twice", lambda h: (c.CastBallot(h.poll(multiple=True), [1, 1]), P1),
     "invalid", "choose at least one option, each once"),
    ("vote two", lambda h: (c.CastBallot(h.poll(), [0, 1]), P1),
     "invalid", "this poll takes exactly one choice"),
    ("vote beyond", lambda h: (c.CastBallot(h.poll(), [3]), P1), "invalid", "no such option"),
]

CAPTIONS_AND_BOOTH: list[tuple[str, Setup, str, str]] = [
    ("caption language", lambda h: (c.PostCaption("de", "Guten Tag"), CAPTIONER),
     "invalid", "language must be one of this session's: fr, en, es"),
    ("caption empty", lambda h: (c.PostCaption("fr", "\u200b"), CAPTIONER),
     "invalid", "caption is empty"),
    ("caption long", lambda h: (c.PostCaption("fr", "c" * (CAPTION_CHARS + 1)), CAPTIONER),
     "invalid", f"caption is longer than {CAPTION_CHARS} characters"),
    ("caption key", lambda h: (c.PostCaption("fr", "Bonjour", client_key=KEY), CAPTIONER),
     "invalid", f"client_key is longer than {CLIENT_KEY_CHARS} characters"),
    ("no booth", lambda h: (c.SendBoothMessage("Je prends"), Actor(Role.INTERPRETER)),
     "forbidden", "your link names no booth"),
    ("other booth", lambda h: (c.SendBoothMessage("Je prends"),
                               Actor(Role.INTERPRETER, language="de")),
     "forbidden", "this session has no booth in 'de'"),
    ("floor booth", lambda h: (c.SendBoothMessage("Je prends"),
                               Actor(Role.INTERPRETER, language="fr")),
     "forbidden", "this session has no booth in 'fr'"),
    ("booth empty", lambda h: (c.SendBoothMessage(" \n "), EN), "invalid", "message is empty"),
    ("booth name", lambda h: (c.SendBoothMessage("ok", name="n" * (BOOTH_NAME_CHARS + 1)), EN),
     "invalid", f"name is longer than {BOOTH_NAME_CHARS} characters"),
    ("booth device", lambda h: (c.SendBoothMessage("ok", device=KEY), EN),
     "invalid", f"device is longer than {CLIENT_KEY_CHARS} characters"),
    ("booth key", lambda h: (c.SendBoothMessage("ok", client_key=KEY), EN),
     "invalid", f"client_key is longer than {CLIENT_KEY_CHARS} characters"),
]


def params(cases: list[tuple[str, Setup, str, str]]) -> list[object]:
    return [pytest.param(setup, code, message, id=name) for name, setup, code, message in cases]


@pytest.mark.parametrize(("setup", "code", "message"), params(ROOM + POLLS + CAPTIONS_AND_BOOTH))
def test_refusal_code_and_message(setup: Setup, code: str, message: str) -> None:
    h = Harness()
    h.room.languages = LANGUAGES
    command, actor = setup(h)
    assert h.refusal(command, actor) == (code, message)


def test_a_session_without_questions_says_so() -> None:
    h = Harness(interactive=False)
    assert h.refusal(c.AskQuestion("Q ?"), P1) == (
        "not_interactive", "this session has no questions or polls")


def test_the_moderators_queue_holds_pending_questions_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(questions_module, "MAX_PENDING", 3)
    h = Harness()
    approved(h)  # approved questions wait for no one: they do not fill the queue
    h.send(c.DismissQuestion(h.ask()), MOD)
    h.ask(P1)
    h.ask(P2)
    h.ask(P1)  # the third pending question: the queue is now full, not over
    assert h.refusal(c.AskQuestion("Une de plus ?"), P2) == (
        "rate_limited", "the moderators' queue is full: try again later")
    # A moderator's decision makes room again.
    h.send(c.ApproveQuestion("q_4"), MOD)
    h.ask(P2)
    # Without premoderation nothing waits: no queue to fill.
    h.send(c.SetPremoderation(False), MOD)
    h.ask(P2)
