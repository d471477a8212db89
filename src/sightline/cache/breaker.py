"""A small circuit breaker: after a few consecutive failures the cache is skipped for a while,
then one probe at a time decides whether it is back."""

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, threshold: int, reset_after: float,
                 clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self.reset_after = reset_after
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def allow(self) -> bool:
        """May a call go to the backend now? In the open state, one probe after `reset_after`."""
        if self.opened_at is None:
            return True
        if self.probing or self.clock() - self.opened_at < self.reset_after:
            return False
        self.probing = True
        return True

    def success(self) -> bool:
        """Record a success; True when this closed an open breaker."""
        was_open = self.opened_at is not None
        self.failures, self.opened_at, self.probing = 0, None, False
        return was_open

    def failure(self) -> bool:
        """Record a failure; True when this opened the breaker."""
        self.failures += 1
        if self.opened_at is not None:
            self.opened_at, self.probing = self.clock(), False
            return False
        if self.failures >= self.threshold:
            self.opened_at = self.clock()
            return True
        return False
