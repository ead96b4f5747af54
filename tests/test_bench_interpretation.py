"""The interpretation bench's own arithmetic (bench/interpretation_report.py): a burst is matched to
its own arrival by RTP timestamp, even when the delay is longer than the gap between bursts, and a
listener's share of its channel's packets is counted exactly."""

from __future__ import annotations

import random

from bench.interpretation_peers import SAMPLES, STAMPS, PacketLog
from bench.interpretation_report import burst_starts, match_bursts


def bursts(count: int, seed: int = 7) -> list[tuple[float, int]]:
    """(send time, timestamp) of each burst's first frame, 400-600 ms apart as ClickTrack's."""
    rng, frame, out = random.Random(seed), 50, []
    for _ in range(count):
        out.append((1000.0 + frame * 0.02, frame * SAMPLES))
        frame += 2 + rng.randint(20, 30)
    return out


def heard(sent: list[tuple[float, int]], delay: float, offset: int,
          skip: frozenset[int] = frozenset()) -> list[tuple[float, int]]:
    """The loud packets a listener logs: 4 per burst (2 frames and the encoder's tail), with the
    listener's own timestamp origin, arriving `delay` after each frame left the track."""
    return [(at + delay + k * 0.02, (pts + offset + k * SAMPLES) % STAMPS)
            for i, (at, pts) in enumerate(sent) if i not in skip for k in range(4)]


def test_each_burst_is_matched_to_its_own_arrival_when_the_delay_exceeds_the_gap() -> None:
    sent = bursts(40)
    # 700 ms: longer than any gap, so the next burst's sending comes before this one's arrival;
    # the offset wraps the 32-bit timestamps halfway through.
    result = match_bursts(sent, heard(sent, 0.7, STAMPS - 20 * 24000))
    assert len(result["delays_ms"]) == 40
    assert all(abs(d - 700) < 1e-6 for d in result["delays_ms"])


def test_a_lost_burst_counts_as_lost_not_as_another_burst() -> None:
    sent = bursts(30)
    result = match_bursts(sent, heard(sent, 0.12, 123_456_789, skip=frozenset({4, 17})))
    assert result["sent"] == 30 and len(result["delays_ms"]) == 28
    assert all(abs(d - 120) < 1e-6 for d in result["delays_ms"])


def test_bursts_are_split_where_the_loud_packets_stop() -> None:
    sent = bursts(5)
    starts = burst_starts(heard(sent, 0.1, 0))
    assert [stamp for _, stamp in starts] == [pts for _, pts in sent]


def test_a_listener_missing_one_packet_of_its_channel_has_all_but_one() -> None:
    log = PacketLog("audio")
    origin = STAMPS - 30 * SAMPLES  # wraps at packet 30, within the first window
    for k in range(100):
        if k != 42:
            log.add(10.0 + k * 0.02, (origin + k * SAMPLES) % STAMPS, 3)
    # 50 packets made in the window; the listener's first in it is packet 20
    assert log.delivered(10.39, 11.39, 50, SAMPLES) == {"in_span": 49, "arrived": 49}
    assert log.delivered(11.5, 12.5, 20, SAMPLES)["in_span"] == 20
