"""The studio's jitter buffer: in-order frames as aiortc's, and a gap skipped after a short wait."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from live.media.jitter import MAX_GAP_WAIT, GapSkippingJitterBuffer, ImmediateAudioBuffer


def packets(frames: int, per_frame: int = 3, marker: bool = False,
            first: int = 0) -> list[RtpPacket]:
    out = []
    for f in range(frames):
        for i in range(per_frame):
            p = RtpPacket(payload_type=96, sequence_number=(first + f * per_frame + i) % 65536,
                          timestamp=f * 3000, marker=int(marker and i == per_frame - 1))
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


def released(buffer: GapSkippingJitterBuffer | ImmediateAudioBuffer,
             sent: list[RtpPacket]) -> list[tuple[int, int]]:
    """(frame, index of the packet whose arrival released it) for each frame out."""
    out = []
    for index, p in enumerate(sent):
        _, frame = buffer.add(p)
        if frame is not None:
            out.append((frame.timestamp // 3000, index))
    return out


def test_a_frame_leaves_with_its_marker_packet_and_only_once() -> None:
    buffer = GapSkippingJitterBuffer(lambda: None)
    out = released(buffer, packets(6, marker=True))
    # The very first frame leaves when the next starts (where a frame starts is not known yet);
    # from then on each leaves with its own last packet, not the next frame's first one.
    assert out == [(0, 3), (1, 5), (2, 8), (3, 11), (4, 14), (5, 17)]


def test_a_frame_with_reordered_packets_leaves_when_its_last_missing_one_arrives() -> None:
    buffer = GapSkippingJitterBuffer(lambda: None)
    sent = packets(4, marker=True)
    sent[6], sent[8] = sent[8], sent[6]  # frame 2: its marker packet comes first
    out = released(buffer, sent)
    assert out == [(0, 3), (1, 5), (2, 8), (3, 11)]
    sent = packets(4, marker=True, first=100)
    sent[7], sent[8] = sent[8], sent[7]  # the marker before the packet in the middle
    assert released(GapSkippingJitterBuffer(lambda: None), sent) == [(0, 3), (1, 5), (2, 8),
                                                                     (3, 11)]


def test_a_frame_with_a_missing_packet_waits_then_is_skipped() -> None:
    clock = Clock()
    gaps: list[int] = []
    buffer = GapSkippingJitterBuffer(lambda: gaps.append(1), clock)
    out = []
    for p in packets(40, marker=True):
        clock.now += 0.01
        if p.sequence_number == 10:  # the middle of frame 3, never retransmitted
            continue
        _, frame = buffer.add(p)
        if frame is not None:
            out.append(frame.timestamp // 3000)
    # Frame 3 never leaves, incomplete; the rest goes on after the wait, none twice.
    assert out == [0, 1, 2, *range(4, 40)] and gaps == [1]


def test_frames_leave_on_their_marker_across_the_sequence_number_wrap() -> None:
    buffer = GapSkippingJitterBuffer(lambda: None)
    sent = packets(8, marker=True, first=65530)
    out = released(buffer, sent)
    assert out == [(0, 3), *((f, 3 * f + 2) for f in range(1, 8))]
    assert [p.sequence_number for p in sent[6:9]] == [0, 1, 2]  # frame 2 straddles the wrap


def test_audio_packets_leave_as_they_arrive_and_late_ones_are_dropped() -> None:
    buffer = ImmediateAudioBuffer()
    sent = packets(6, per_frame=1, first=65533)
    sent[2], sent[3] = sent[3], sent[2]
    out = released(buffer, sent)
    # The packet overtaken (frame 2) would reach viewers after frame 3, under a newer number.
    assert out == [(0, 0), (1, 1), (3, 2), (4, 4), (5, 5)] and buffer.late_dropped == 1
    restarted = packets(2, per_frame=1, first=5000)  # a studio's new sequence, far behind
    assert released(buffer, restarted) == [(0, 0), (1, 1)]


def test_a_duplicate_of_a_packet_gone_out_is_no_gap() -> None:
    """A retransmitted copy arriving after its frame left (the buffer empty behind it) must not be
    taken for a gap: that would send every viewer back to waiting for a keyframe."""
    gaps: list[int] = []
    clock = Clock()
    buffer = GapSkippingJitterBuffer(lambda: gaps.append(1), clock)
    sent = packets(3, marker=True)
    released = [f for p in sent if (f := buffer.add(p)[1]) is not None]
    assert len(released) == 3
    for _ in range(2):  # twice, further apart than the gap wait, with nothing new in between
        clock.now += MAX_GAP_WAIT + 0.1
        assert buffer.add(sent[4]) == (False, None)
    assert gaps == [] and buffer.gaps_skipped == 0
    frames = [buffer.add(p)[1] for p in packets(4, marker=True)[-3:]]  # frame 3 follows on
    assert [f.timestamp for f in frames if f is not None] == [9000]
