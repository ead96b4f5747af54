"""Token buckets: a burst, then refusals, then a refill over time."""

from __future__ import annotations

import pytest

from live.domain.ratelimit import TokenBucket


def test_burst_then_refusal_then_refill() -> None:
    bucket = TokenBucket(capacity=3, refill_per_second=1)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(100.5) is False  # half a token is not enough
    assert bucket.take(101.0) is True  # one second: one token
    assert bucket.take(101.0) is False
    assert [bucket.take(103.0) for _ in range(3)] == [True, True, False]


def test_a_new_bucket_starts_full_whatever_the_clock() -> None:
    bucket = TokenBucket(capacity=2, refill_per_second=0.5)
    assert bucket.take(1_600_765_200.0) and bucket.take(1_600_765_200.0)
    assert not bucket.take(1_600_765_200.0)


def test_refill_is_capped_at_capacity() -> None:
    bucket = TokenBucket(capacity=3, refill_per_second=10)
    for _ in range(3):
        assert bucket.take(0.0)
    assert not bucket.take(0.0)
    assert [bucket.take(3_600.0) for _ in range(4)] == [True, True, True, False]


def test_slow_refill() -> None:
    bucket = TokenBucket(capacity=1, refill_per_second=0.2)  # one every five seconds
    assert bucket.take(0.0)
    assert not bucket.take(4.0)
    assert bucket.take(5.0)
    assert not bucket.take(9.9)
    assert bucket.take(10.0)


def test_cost() -> None:
    bucket = TokenBucket(capacity=5, refill_per_second=1)
    assert bucket.take(0.0, cost=4)
    assert not bucket.take(0.0, cost=2)  # only one left, and a refusal spends nothing
    assert bucket.take(0.0, cost=1)
    assert not bucket.take(0.0, cost=1)
    assert not bucket.take(100.0, cost=6)  # more than the bucket ever holds


def test_a_clock_going_backwards_grants_nothing() -> None:
    bucket = TokenBucket(capacity=2, refill_per_second=1)
    assert bucket.take(10.0) and bucket.take(10.0)
    assert not bucket.take(5.0)
    assert not bucket.take(2.0)


@pytest.mark.parametrize(("rate", "allowed"), [(2, 3 + 9), (0, 3)])
def test_sustained_flood_gets_capacity_plus_refill(rate: float, allowed: int) -> None:
    bucket = TokenBucket(capacity=3, refill_per_second=rate)
    # a request every 0.25 s for 4.75 s: the burst, then what refills (9.5 tokens at 2/s)
    results = [bucket.take(i * 0.25) for i in range(20)]
    assert sum(results) == allowed
    assert all(results[:3])


def test_allows_looks_without_spending() -> None:
    bucket = TokenBucket(capacity=2, refill_per_second=1)
    assert bucket.allows(10.0)  # a new bucket is full, whatever the clock says
    assert bucket.allows(10.0, cost=2)  # exactly what is left is enough
    assert not bucket.allows(10.0, cost=2.5)
    assert bucket.take(10.0) and bucket.allows(10.0) and bucket.take(10.0)
    assert not bucket.allows(10.0)  # the default cost is one token
    assert not bucket.allows(10.5)
    assert bucket.allows(11.0)  # refilled by the clock passed in, and still not spent
    assert bucket.allows(11.0) and bucket.take(11.0)


def test_full_means_back_to_capacity() -> None:
    bucket = TokenBucket(capacity=2, refill_per_second=1)
    assert bucket.full(5.0)  # new: as good as forgotten
    assert bucket.take(5.0)
    assert not bucket.full(5.0) and not bucket.full(5.5)
    assert bucket.full(6.0)  # exactly full again
    assert bucket.full(60.0)
