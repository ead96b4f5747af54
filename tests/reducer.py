"""A client's view of the state, kept with docs/protocol.md's generic rule.

state.js also keeps, per item, the sequence number its counts come from; these tests apply each
tally right after the events it follows, where that makes no difference.

Used by the end-to-end tests to check what clients end up seeing, and by the projection test: an old
view plus the projected events must equal a fresh view.
"""

from __future__ import annotations

import copy
from typing import Any

View = dict[str, Any]


def _upsert(items: list[View], item: View) -> None:
    for i, existing in enumerate(items):
        if existing["id"] == item["id"]:
            items[i] = item
            return
    items.append(item)


def apply_event(view: View, msg: View) -> View:
    view = copy.deepcopy(view)
    if "question" in msg:
        if msg["question"] is None:
            view["questions"] = [q for q in view["questions"] if q["id"] != msg["question_id"]]
        else:
            _upsert(view["questions"], msg["question"])
    for q in msg.get("questions", []):
        _upsert(view["questions"], q)
    if "poll" in msg:
        if msg["poll"] is None:
            view["polls"] = [p for p in view["polls"] if p["id"] != msg["poll_id"]]
        else:
            _upsert(view["polls"], msg["poll"])
    for part in ("stage", "settings", "banned", "me"):
        if part in msg:
            view[part] = msg[part]
    return view


def apply_tally(view: View, msg: View) -> View:
    view = copy.deepcopy(view)
    for q in view["questions"]:
        if q["id"] in msg["questions"]:
            q["votes"] = msg["questions"][q["id"]]
        elif msg["scope"] == "all" or q["status"] in ("approved", "answered"):
            q["votes"] = 0  # covered by the tally but absent: no votes
    for p in view["polls"]:
        if p["id"] in msg["polls"]:
            p["ballots"] = msg["polls"][p["id"]]["ballots"]
            p["counts"] = msg["polls"][p["id"]]["counts"]
    return view
