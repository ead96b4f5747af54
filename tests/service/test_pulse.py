"""How often participants get tallies: once a second, slower as the room on a process grows."""

from __future__ import annotations

from typing import Any

from live.hub import Hub
from live.pulse import FAST_TICK, participant_ticks
from live.views import Audience


class Connection:
    audience = Audience.PARTICIPANT
    booth = None

    def __init__(self, n: int) -> None:
        self.participant_id = f"p{n}"

    def deliver(self, text: str) -> None:
        pass

    def deliver_latest(self, slot: str, text: str) -> None:
        pass


def hub_with(participants: int) -> Hub:
    hub = Hub("s", {}, room=None, epoch="e", seq=0, version=0, snapshot_seq=0)  # type: ignore[arg-type]
    for n in range(participants):
        conn: Any = Connection(n)
        hub.add(conn)
    return hub


def test_participants_get_a_tally_a_second_plus_one_per_2000_connected() -> None:
    seconds = {n: participant_ticks(hub_with(n)) * FAST_TICK for n in (0, 1999, 2000, 5000)}
    assert seconds == {0: 1.0, 1999: 1.0, 2000: 2.0, 5000: 3.0}
