"""The per-address budgets' pure parts: which addresses share one, which votes take from it."""

from __future__ import annotations

import pytest

from live.domain import Actor, Role
from live.domain import events as e
from live.limits import AddressLimits, address_group, question_limits, vote_quota
from live.store import Quota

OPEN = Actor(Role.PARTICIPANT, "u_1")
REGISTERED = Actor(Role.PARTICIPANT, "r_1", registered=True)
LIMITS = AddressLimits(ballots=7, upvotes=9)
BALLOT = e.BallotCast("p1", "u_1", (0,))
UPVOTE = e.QuestionUpvoted("q1", "u_1")
WITHDRAWN = e.UpvoteWithdrawn("q1", "u_1")


@pytest.mark.parametrize(("address", "group"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:0:0:0:9", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:198.51.100.4", "198.51.100.4"),
    ("not-an-address", "not-an-address"),
])
def test_an_ipv6_subscriber_s_64_is_one_address(address: str, group: str) -> None:
    assert address_group(address) == group


def test_ballots_and_upvotes_take_from_their_address_s_budget() -> None:
    assert vote_quota(BALLOT, OPEN, "203.0.113.7", LIMITS) == Quota("u_1", "203.0.113.7", 7)
    assert vote_quota(UPVOTE, OPEN, "2001:db8::5", LIMITS) == Quota("u_1", "2001:db8::/64", 9)
    # a withdrawal gives the share back, wherever the upvote was counted
    assert vote_quota(WITHDRAWN, OPEN, "198.51.100.1", LIMITS) == Quota("u_1")
    assert vote_quota(WITHDRAWN, OPEN, None, LIMITS) == Quota("u_1")


@pytest.mark.parametrize("client", [None, "127.0.0.1", "::1"])
def test_loopback_and_unknown_clients_have_no_budget(client: str | None) -> None:
    assert vote_quota(BALLOT, OPEN, client, LIMITS) is None


def test_registrants_votes_count_against_no_address() -> None:
    for event in (BALLOT, UPVOTE, WITHDRAWN):
        assert vote_quota(event, REGISTERED, "203.0.113.7", LIMITS) is None


def test_a_zero_limit_is_no_limit() -> None:
    assert vote_quota(BALLOT, OPEN, "203.0.113.7", AddressLimits(ballots=0)) is None
    assert vote_quota(UPVOTE, OPEN, "203.0.113.7", AddressLimits(upvotes=0)) is None


def test_question_limits_group_ipv6_addresses_too() -> None:
    keys = [key for key, _, _ in question_limits(OPEN, "2001:db8:1:2::77")]
    assert keys == ["ask:p:u_1", "ask:ip:2001:db8:1:2::/64"]
