"""How much one participant, and one network address, may do.

A public participant link lets anyone take as many participant identities as they like (a fresh
one per connection without its `participant`), so what one person could otherwise multiply has a
budget per network address too: questions, new identities, ballots per poll and upvotes per
question. A venue's Wi-Fi may put a few hundred people behind one address, so the address budgets
are generous; registered participants (personal links) are one identity each whatever their
address, so their votes count against no address. Loopback peers are exempt: they are this machine
(a local proxy that does not forward the client address, the tests).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from live.config import Settings
from live.domain import Actor
from live.domain import events as e
from live.domain.commands import AskQuestion, Command, PostCaption
from live.store.base import Quota

ASK_BURST, ASK_PER_SECOND = 5, 1 / 12  # questions per participant: 5 at once, then 5 a minute
# Per network address: generous, since a venue's Wi-Fi puts many people behind one address.
CLIENT_ASK_BURST, CLIENT_ASK_PER_SECOND = 30, 1.0
# How long the store remembers the address a participant last connected from: a ban made within
# that time holds it (`AddressLimits.ban_hold`). Refreshed on every connection.
ADDRESS_MEMORY = 12 * 3600.0
IPV6_GROUP = 64  # one IPv6 subscriber usually gets a whole /64: its addresses are one
# Captions per session, whichever process or connection they come through: finished lines, a
# line every few seconds per language at a captioner's pace (a speech-to-text service's final
# results alike), and per language the partial results such a service sends while it listens.
CAPTION_BURST, CAPTIONS_PER_SECOND = 20, 4.0
PARTIAL_BURST, PARTIALS_PER_SECOND = 10, 4.0


@dataclass(frozen=True, slots=True)
class AddressLimits:
    """The per-address budgets (settings: README, "One person, one vote")."""

    identity_burst: int = 60  # new participant identities one address may take at once
    identities_per_minute: float = 20.0  # then this many a minute
    ballots: int = 200  # ballots of one poll from one address (0: no limit)
    upvotes: int = 200  # upvotes of one question from one address (0: no limit)
    ban_hold: float = 3600.0  # seconds a ban refuses new identities from the banned one's address

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressLimits:
        return cls(settings.identity_burst, settings.identities_per_minute,
                   settings.address_ballots, settings.address_upvotes, settings.ban_hold)


def address_group(address: str) -> str:
    """The unit an address budget is kept for: an IPv4 address, or an IPv6 /64 (one subscriber
    picks any address in it); an IPv4-mapped IPv6 address is its IPv4 one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_GROUP), strict=False))
    return str(ip)


def is_loopback(address: str) -> bool:
    """Loopback peers are this machine (a local proxy without forwarded headers, the tests):
    limiting them per address would throttle everyone at once."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=8192)  # every vote asks: parsing an IPv6 address and its /64 costs ~20 us
def limited_address(client: str | None) -> str | None:
    """The address group a client's budgets are kept for, None if it has none (loopback)."""
    if client is None or is_loopback(client):
        return None
    return address_group(client)


def question_limits(actor: Actor, client: str | None) -> list[tuple[str, float, float]]:
    """A participant's question budget and, off loopback, their network address's."""
    limits: list[tuple[str, float, float]] = [
        (f"ask:p:{actor.participant_id}", ASK_BURST, ASK_PER_SECOND)]
    group = limited_address(client)
    if group is not None:
        limits.append((f"ask:ip:{group}", CLIENT_ASK_BURST, CLIENT_ASK_PER_SECOND))
    return limits


def caption_limits(command: PostCaption) -> list[tuple[str, float, float]]:
    """A session's caption budget: partial results apart, so that a chatty speech-to-text
    service cannot spend what its final lines need."""
    if command.final:
        return [("caption", CAPTION_BURST, CAPTIONS_PER_SECOND)]
    return [(f"caption-partial:{command.language}", PARTIAL_BURST, PARTIALS_PER_SECOND)]


def command_limits(command: Command, actor: Actor, client: str | None
                   ) -> list[tuple[str, float, float]] | None:
    """The store's token buckets a guarded command takes from (None: it is not limited)."""
    if isinstance(command, AskQuestion):
        return question_limits(actor, client)
    if isinstance(command, PostCaption):
        return caption_limits(command)
    return None


def vote_quota(event: e.Event, actor: Actor, client: str | None,
               limits: AddressLimits) -> Quota | None:
    """A vote's share of its poll's or question's per-address budget (None: no budget).

    Distinct voters are counted, not ballots: changing one's ballot costs nothing more. A withdrawn
    upvote gives its share back, wherever it was counted.
    """
    voter = actor.participant_id
    if voter is None or actor.registered:
        return None
    if isinstance(event, e.UpvoteWithdrawn):
        return Quota(voter)
    limit = limits.ballots if isinstance(event, e.BallotCast) else limits.upvotes
    group = limited_address(client)
    if group is None or limit <= 0:
        return None
    return Quota(voter, group, limit)
