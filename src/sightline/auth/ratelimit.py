"""Per-key token buckets: a key may burst, then is held to a steady rate (429 with Retry-After).

In-process, per server worker: a cheap guard against a runaway client, not a billing quota.
"""

import math
import time

from sightline.problems import RateLimited


class TokenBuckets:
    def __init__(self, rate_per_second: float, burst: int, max_keys: int = 100_000):
        self.rate = rate_per_second
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[bytes, tuple[float, float]] = {}

    def take(self, key: bytes) -> None:
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
        if tokens < 1:
            retry_after = max(1, math.ceil((1 - tokens) / self.rate))
            raise RateLimited(f"Too many requests for this key; retry in {retry_after} s",
                              retry_after)
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
        self._buckets[key] = (tokens - 1, now)
