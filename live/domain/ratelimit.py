"""Token buckets: a pure rate limiter, the caller passes the clock."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float = field(default=-1.0)
    updated: float = 0.0

    def _refill(self, now: float) -> None:
        if self.tokens < 0:
            self.tokens, self.updated = self.capacity, now
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
        self.updated = now

    def allows(self, now: float, cost: float = 1.0) -> bool:
        """Whether `take` would succeed now, without spending anything."""
        self._refill(now)
        return self.tokens >= cost

    def full(self, now: float) -> bool:
        """Back to capacity: forgetting this bucket changes nothing."""
        self._refill(now)
        return self.tokens >= self.capacity

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if there are enough; say whether it was allowed."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False
