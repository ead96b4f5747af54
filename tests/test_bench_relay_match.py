"""The relay bench matches a viewer's packets with the publisher's although the relay re-packs
every frame with its own sequence numbers and timestamp origin (bench/relay_match.py): by frame
sizes, a per-viewer timestamp offset, and each packet's rank in its frame."""

from __future__ import annotations

import random

import pytest

from bench.relay_match import STAMPS, PacketLog, longest_gap, match

FRAME_TICKS = 3000


Published = list[tuple[int, bool, list[tuple[int, int, float]]]]


def published_frames(count: int, start: float, seed: int = 1) -> Published:
    """[RTP timestamp, keyframe, [(sequence, payload bytes, send time), ...]], 30 fps, the
    first frame a keyframe of 50 packets, then 2-5 packets of random sizes."""
    rng = random.Random(seed)
    frames: Published = []
    sequence = 65500  # wraps within the first frames
    for k in range(count):
        sent = start + k / 30
        n = 50 if k == 0 else rng.randint(2, 5)
        packets = []
        for i in range(n):
            packets.append((sequence % 65536, 1100 if i < n - 1 else rng.randint(50, 1100),
                            sent + i * 1e-5))
            sequence += 1
        frames.append(((123456 + k * FRAME_TICKS) % STAMPS, k == 0, packets))
    return frames


def relayed(frames: Published, offset: int, delay: float, first_sequence: int,
            drop: frozenset[int] = frozenset()) -> PacketLog:
    """What a viewer logs of `frames` relayed `delay` s later, renumbered; frames in `drop` lose
    their second packet."""
    log = PacketLog()
    sequence = first_sequence
    for k, (stamp, _, packets) in enumerate(frames):
        for i, (_, size, sent) in enumerate(packets):
            if not (k in drop and i == 1):
                log.add(sent + delay, (stamp + offset) % STAMPS, size, sequence % 65536)
            sequence += 1
    return log


def test_each_packet_is_paired_with_its_sending_whatever_the_relay_renumbered() -> None:
    frames = published_frames(90, 1000.0)
    log = relayed(frames, offset=2**31 + 17, delay=0.034, first_sequence=40000)
    got = match(log, frames, 1000.0, 1003.0, 0.1)
    assert got["matched"] and got["delivered"] == 90 and got["incomplete"] == 0
    assert got["keyframes"] == 1 and len(got["key_delays"]) == 50
    assert len(got["delays"]) == sum(len(f[2]) for f in frames)
    assert all(d == pytest.approx(0.034, abs=1e-4) for d in got["delays"])


def test_a_frame_missing_a_packet_is_not_delivered_and_gives_no_delays() -> None:
    frames = published_frames(60, 50.0)
    log = relayed(frames, offset=5, delay=0.002, first_sequence=7, drop=frozenset({10, 20}))
    got = match(log, frames, 50.0, 52.0, 0.1)
    assert got["matched"] and got["delivered"] == 58 and got["incomplete"] == 2
    gap = longest_gap(got["arrivals"], 50.0, 52.0)
    assert gap == pytest.approx(2 / 30, abs=2e-3)


def test_a_stream_that_is_not_the_publishers_is_counted_by_timestamp() -> None:
    frames = published_frames(30, 10.0)
    other = published_frames(30, 10.0, seed=99)  # re-encoded: other sizes
    log = relayed(other, offset=0, delay=0.05, first_sequence=1)
    got = match(log, frames, 10.0, 11.0, 0.0)
    assert not got["matched"] and got["delivered"] == 30 and got["keyframes"] is None
    assert len(got["delays"]) == 0
