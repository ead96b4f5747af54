"""A viewer's video packets matched with the publisher's, for bench/relay.py: frames delivered,
gaps, keyframes, and the delay the relay adds to each packet.

tribune does not forward RTP packets: it reassembles the studio's frames and each viewer's aiortc
sender packetises them again, with its own SSRC, sequence numbers and a random timestamp origin
(live/media/broadcast.py keeps the studio's timestamp spacing). What crosses the relay unchanged
is each frame's cut into packets: both ends use aiortc's VP8 packetiser on the same bytes, so a
frame has the same number of packets with the same payload sizes (VP8 descriptor included: aiortc
always writes the 2-byte picture id). So a viewer's frames are matched with the publisher's by
their RTP timestamp less a per-viewer offset, found by a vote: for every publisher frame, each
viewer frame with the same packet count and payload bytes arriving within `MATCH_WITHIN` s of its
sending votes for its own offset (only the true one gets most frames; a shifted one needs two
frames of the same sizes a multiple of 33 ms apart). Within a matched frame, packets pair by their
rank in sequence-number order; the delay is the viewer's arrival less the publisher's send time,
both on the machine's wall clock (time.time(), CLOCK_REALTIME). A viewer frame that lacks a packet
is not delivered and gives no delays.
"""

from __future__ import annotations

import array
import bisect
import collections
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
STAMPS = 2**32
# s: a viewer frame arriving later than this after its sending is not matched. A relay saturated
# on this machine was seconds behind (its socket's queue 1.4 MB), and none matched within 2 s; the
# clip's sizes repeat every 10 s (bench/encoded_video.py), which must stay out of reach.
MATCH_WITHIN = 8.0
MIN_VOTES = 3  # frames agreeing on the offset before it is trusted


@dataclass
class PacketLog:
    """One viewer's video RTP packets as they arrived (before any jitter buffer)."""

    times: array.array[float] = field(default_factory=lambda: array.array("d"))
    stamps: array.array[int] = field(default_factory=lambda: array.array("L"))
    sizes: array.array[int] = field(default_factory=lambda: array.array("L"))
    sequences: array.array[int] = field(default_factory=lambda: array.array("L"))

    def add(self, now: float, stamp: int, size: int, sequence: int) -> None:
        self.times.append(now)
        self.stamps.append(stamp)
        self.sizes.append(size)
        self.sequences.append(sequence)

    def trim(self, before: float) -> None:
        # packets are logged in arrival order by one thread, but kernel times of packets read
        # together may be out of order by a few us: cut at the first one after `before`
        cut = next((i for i, t in enumerate(self.times) if t >= before), len(self.times))
        del self.times[:cut], self.stamps[:cut], self.sizes[:cut], self.sequences[:cut]


def in_order(sequence: int, near: int) -> int:
    """A sort key for the 16-bit sequence numbers of one frame's packets (wrapping), `near` one."""
    return (sequence - near + 1000) % 65536


@dataclass
class Frame:
    stamp: int
    times: list[float] = field(default_factory=list)
    packets: list[tuple[int, int, float]] = field(default_factory=list)  # (sequence, size, arrival)

    def signature(self) -> tuple[int, int]:
        return len({p[0] for p in self.packets}), sum(p[1] for p in self.distinct())

    def distinct(self) -> list[tuple[int, int, float]]:
        """The frame's packets, each sequence number once, in sequence order."""
        seen: dict[int, tuple[int, int, float]] = {}
        for p in self.packets:
            seen.setdefault(p[0], p)  # a duplicate's first arrival
        return sorted(seen.values(), key=lambda p: in_order(p[0], self.packets[0][0]))


def viewer_frames(log: PacketLog, since: float) -> list[Frame]:
    """The log's packets from `since` on, grouped by RTP timestamp, in order of first arrival."""
    frames: dict[int, Frame] = {}
    for i in range(len(log.times)):
        if log.times[i] < since:
            continue
        frame = frames.get(log.stamps[i])
        if frame is None:
            frame = frames[log.stamps[i]] = Frame(log.stamps[i])
        frame.packets.append((log.sequences[i], log.sizes[i], log.times[i]))
    return list(frames.values())


def find_offset(frames: list[Frame], published: Sequence[Sequence[Any]]) -> tuple[int | None, int]:
    """The viewer's RTP timestamp less the publisher's, by the vote described above; and its votes."""
    by_signature: dict[tuple[int, int], list[tuple[int, float]]] = collections.defaultdict(list)
    for frame in frames:
        by_signature[frame.signature()].append((frame.stamp, min(p[2] for p in frame.packets)))
    votes: collections.Counter[int] = collections.Counter()
    for stamp, _, packets in published:
        sent = packets[0][2]
        signature = (len(packets), sum(p[1] for p in packets))
        for viewer_stamp, arrived in by_signature.get(signature, ()):
            if sent <= arrived + 0.001 and arrived - sent <= MATCH_WITHIN:
                votes[(viewer_stamp - stamp) % STAMPS] += 1
    if not votes:
        return None, 0
    offset, count = votes.most_common(1)[0]
    return (offset, count) if count >= MIN_VOTES else (None, count)


def by_timestamp(frames: list[Frame], count: int, since: float, step: int = 3000) -> Json:
    """For a stream that is not the publisher's packets (the baseline re-encodes): of `count`
    consecutive frames (`step` apart) from the first to arrive after `since`, how many distinct
    ones came, whole or not; a frame's arrival is its last packet's. Keyframes are not known."""
    after = [f for f in frames if min(p[2] for p in f.packets) >= since]
    arrivals = sorted(max(p[2] for p in f.packets) for f in frames)
    first = after[0].stamp if after else 0
    came = {f.stamp for f in after if (f.stamp - first) % STAMPS < count * step}
    return {"delivered": len(came), "keyframes": None, "arrivals": arrivals}


def match(log: PacketLog, published: Sequence[Sequence[Any]], t0: float, t1: float, delay: float) -> Json:
    """What one viewer got of the publisher's frames `published` (those first sent in [t0, t1],
    [RTP timestamp, keyframe, [(sequence, payload bytes, send time), ...]]): counts, and every
    packet's delay (s) over the frames it got whole, keyframes' apart too. Unmatched (`matched`
    False): counted `by_timestamp` from t0 + `delay`, no delays."""
    out: Json = {"delivered": 0, "incomplete": 0, "keyframes": 0, "packets": 0, "offset_votes": 0,
                 "matched": False, "delays": array.array("f"), "key_delays": array.array("f"),
                 "arrivals": []}
    if not published:
        return out
    frames = viewer_frames(log, published[0][2][0][2] - 0.5)
    offset, out["offset_votes"] = find_offset(frames, published)
    if offset is None:
        out.update(by_timestamp(frames, len(published), t0 + delay))
        return out
    out["matched"] = True
    by_stamp = {f.stamp: f for f in frames}
    for stamp, keyframe, packets in published:
        frame = by_stamp.get((stamp + offset) % STAMPS)
        if frame is None:
            continue
        got = frame.distinct()
        if len(got) != len(packets):
            out["incomplete"] += 1
            continue
        out["delivered"] += 1
        out["keyframes"] += keyframe
        out["packets"] += len(got)
        out["arrivals"].append(max(p[2] for p in got))  # when the frame was whole
        mine = sorted(packets, key=lambda p: in_order(p[0], packets[0][0]))
        delays = [arrived[2] - sent[2] for arrived, sent in zip(got, mine, strict=True)]
        out["delays"].extend(delays)
        if keyframe:
            out["key_delays"].extend(delays)
    out["arrivals"].sort()
    return out


def longest_gap(arrivals: list[float], t0: float, t1: float) -> float:
    """The longest time in [t0, t1] without a whole frame arriving."""
    inside = arrivals[bisect.bisect_left(arrivals, t0):bisect.bisect_right(arrivals, t1)]
    return max(b - a for a, b in itertools.pairwise([t0, *inside, t1]))


def packets_between(log: PacketLog, t0: float, t1: float) -> int:
    return sum(1 for t in log.times if t0 <= t <= t1)
