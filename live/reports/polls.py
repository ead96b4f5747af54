"""A poll's results as rows, one function per poll kind.

A kind's function turns its poll into `Result` rows (an answer, its count, its share of the
ballots); the reports (tables, XLSX, CSV, JSON) only ever see those rows. A new kind is a new
function in `RESULTS`, named by the poll's `kind` (a poll without one is a multiple-choice poll);
a kind without a function is reported by its options and counts if it has them, else by its ballot
count alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from live.domain.state import CHOICE, RATING, RATING_MARKS, TEXT, WORDS, Poll


@dataclass(frozen=True, slots=True)
class Result:
    answer: str
    count: int
    share: float | None  # percent of the poll's ballots, one decimal; None where it means nothing

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "count": self.count, "share": self.share}


def kind_of(poll: Poll) -> str:
    return poll.kind or CHOICE


def share(count: int, ballots: int) -> float | None:
    return round(100 * count / ballots, 1) if ballots else None


def choice_results(poll: Poll) -> list[Result]:
    """Each option with the ballots that chose it (a multiple-choice ballot counts in each)."""
    ballots = len(poll.ballots)
    return [Result(option, count, share(count, ballots))
            for option, count in zip(poll.options, poll.counts(), strict=True)]


def rating_results(poll: Poll) -> list[Result]:
    """Each mark from 1 to 5 with the ballots that gave it, then the average as its own row
    (its count: the ballots it is the mean of)."""
    ballots = len(poll.ballots)
    rows = [Result(f"{mark}/{RATING_MARKS}", count, share(count, ballots))
            for mark, count in enumerate(poll.counts(), start=1)]
    average = poll.average()
    if average is not None:
        rows.append(Result(f"⌀ {average}/{RATING_MARKS}", ballots, None))
    return rows


def answer_results(poll: Poll) -> list[Result]:
    """Each distinct answer the public saw (a word not hidden, a text answer approved), the most
    given first, with the share of voters who gave it. Screened-out answers stay in the JSON
    archive's ballots, not in a table meant to be shown."""
    voters = len(poll.answers)
    counted = sorted(((t, n) for t, n in poll.answer_counts().items() if poll.shown(t)),
                     key=lambda a: -a[1])
    return [Result(text, count, share(count, voters)) for text, count in counted]


RESULTS: dict[str, Callable[[Poll], list[Result]]] = {
    CHOICE: choice_results,
    RATING: rating_results,
    WORDS: answer_results,
    TEXT: answer_results,
}


def results(poll: Poll) -> list[Result]:
    """The poll's results by its kind's function (see the module's docstring for other kinds)."""
    kind = kind_of(poll)
    if kind in RESULTS:
        return RESULTS[kind](poll)
    try:
        return choice_results(poll) if poll.options else []
    except (IndexError, TypeError):  # ballots of another shape than option indexes
        return []
