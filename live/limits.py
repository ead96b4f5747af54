"""How many questions a participant, and a network address, may ask (a public link lets anyone
take as many participant identities as they like, so an address has its own budget too)."""

from __future__ import annotations

import ipaddress

from live.domain import Actor

ASK_BURST, ASK_PER_SECOND = 5, 1 / 12  # questions per participant: 5 at once, then 5 a minute
# Per network address: generous, since a venue's Wi-Fi puts many people behind one address.
CLIENT_ASK_BURST, CLIENT_ASK_PER_SECOND = 30, 1.0


def question_limits(actor: Actor, client: str | None) -> list[tuple[str, float, float]]:
    """A participant's question budget and, off loopback, their network address's."""
    limits: list[tuple[str, float, float]] = [
        (f"ask:p:{actor.participant_id}", ASK_BURST, ASK_PER_SECOND)]
    if client is not None and not is_loopback(client):
        limits.append((f"ask:ip:{client}", CLIENT_ASK_BURST, CLIENT_ASK_PER_SECOND))
    return limits


def is_loopback(address: str) -> bool:
    """Loopback peers are this machine (a local proxy without forwarded headers, the tests):
    limiting them per address would throttle everyone at once."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
