"""The studio's jitter buffer: in-order frames as aiortc's, and a gap skipped after a short wait."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from live.media.jitter import MAX_GAP_WAIT, GapSkippingJitterBuffer


def packets(frames: int, per_frame: int = 3) -> list[RtpPacket]:
    out = []
    for f in range(frames):
        for i in range(per_frame):
            p = RtpPacket(payload_type=96, sequence_number=f * per_frame + i, timestamp=f * 3000)
            p._data = bytes([f, i])  # type: ignore[attr-defined]  # what depayloading leaves
            out.append(p)
    return out


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_lost_packet_costs_a_short_wait_not_a_freeze() -> None:
    gaps: list[int] = []
    clock = Clock()
    buffer = GapSkippingJitterBuffer(lambda: gaps.append(1), clock)
    frames = []
    resumed_at = None
    for p in packets(40):
        clock.now += 0.01  # about 100 packets a second
        if p.sequence_number == 31:  # the middle of frame 10, lost for good
            continue
        _, frame = buffer.add(p)
        if frame is not None:
            frames.append(frame.timestamp // 3000)
            if frames[-1] == 11:
                resumed_at = clock.now
    # Frames 0-9 came out in order; frame 10 (cut) never; then the stream went on after the wait.
    assert frames[:10] == list(range(10))
    assert 10 not in frames
    assert frames[10:] == list(range(11, 39))  # nothing after the cut frame is lost
    assert gaps == [1] and buffer.gaps_skipped == 1
    lost_at = 0.01 * 32  # when the packet after the lost one came
    assert resumed_at is not None and resumed_at - lost_at <= MAX_GAP_WAIT + 0.02


def test_a_late_retransmission_fills_the_gap_in_time() -> None:
    clock = Clock()
    buffer = GapSkippingJitterBuffer(lambda: None, clock)
    late = None
    frames = []
    for p in packets(20):
        clock.now += 0.01
        if p.sequence_number == 10:
            late = p
            continue
        if p.sequence_number == 16 and late is not None:  # the NACKed copy, 60 ms later
            frames += [f.timestamp // 3000 for f in [buffer.add(late)[1]] if f]
        _, frame = buffer.add(p)
        if frame is not None:
            frames.append(frame.timestamp // 3000)
    assert frames == list(range(19)) and buffer.gaps_skipped == 0


def test_a_frame_whose_first_packets_are_lost_is_dropped_whole() -> None:
    clock = Clock()
    buffer = GapSkippingJitterBuffer(lambda: None, clock)
    frames = []
    for p in packets(30):
        clock.now += 0.01
        if p.sequence_number in (9, 10, 11, 12):  # all of frame 3, the start of frame 4
            continue
        _, frame = buffer.add(p)
        if frame is not None:
            frames.append((frame.timestamp // 3000, len(frame.data)))
    # Frame 4 would come out without its first packet: it is dropped, never forwarded cut. Frame 2
    # goes too: without the packet after it, the buffer cannot tell it was whole.
    assert [f for f, _ in frames] == [0, 1, *range(5, 29)]
    assert all(size == 6 for _, size in frames)
