"""Per-key token buckets: a key may burst, then is held to a steady rate (429 with Retry-After).

With Redis configured, one bucket per key is shared by every API process (one Lua script per
request, on the key's own hash tag, so it runs unchanged on Redis Cluster). When Redis is not
configured, down, or its circuit is open, each process falls back to its own in-process bucket:
a cheap guard against a runaway client, not a billing quota.
"""

import asyncio
import math
import time

import structlog

from sightline.cache.breaker import CircuitBreaker
from sightline.cache.client import close_redis, connect_redis, open_redis
from sightline.cache.store import BACKEND_ERRORS
from sightline.problems import RateLimited
from sightline.settings import CacheSettings

log = structlog.get_logger()

# A bucket is a hash of its tokens and when they were counted, by the Redis server's clock.
# A process asks for up to ARGV[3] tokens at once and gets what the bucket holds (maybe none).
TAKE = """
local rate, burst, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.max(0, math.min(wanted, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, string.format('%.6f', tokens)}
"""
CREDIT_SECONDS = 0.05  # a process takes up to this much of the rate at once (at most burst / 10)
CREDIT_TTL = 1.0  # tokens a process took but did not use are dropped after this long


def limited(tokens: float, rate: float, subject: str = "key") -> RateLimited:
    retry_after = max(1, math.ceil((1 - tokens) / rate))
    return RateLimited(f"Too many requests for this {subject}; retry in {retry_after} s",
                       retry_after)


class TokenBuckets:
    """In-process buckets (one server process)."""

    def __init__(self, rate_per_second: float, burst: int, max_keys: int = 100_000,
                 subject: str = "key"):
        self.subject = subject
        self.rate = rate_per_second
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[bytes, tuple[float, float]] = {}

    def take(self, key: bytes) -> None:
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
        if tokens < 1:
            raise limited(tokens, self.rate, self.subject)
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
        self._buckets[key] = (tokens - 1, now)


class RateLimiter:
    """Buckets in Redis shared by every process, the in-process `local` ones as fallback.

    A process takes tokens from the shared bucket a few at a time (one request in flight per key;
    concurrent requests wait for it) and spends them locally, so the global limit holds exactly
    while a busy key costs a few Redis calls per second, not one per request. Its own
    connections and circuit breaker: a busy or failing limiter never degrades the cache."""

    def __init__(self, local: TokenBuckets, redis_url: str | None = None,
                 settings: CacheSettings | None = None):
        self.local = local
        self.settings = settings or CacheSettings()
        self.client = open_redis(redis_url, self.settings) if redis_url else None
        self.script = self.client.register_script(TAKE) if self.client is not None else None
        self.breaker = CircuitBreaker(self.settings.breaker_threshold,
                                      self.settings.breaker_reset.total_seconds())
        self.chunk = max(1, min(local.burst // 10, math.ceil(local.rate * CREDIT_SECONDS)))
        self.credit: dict[bytes, tuple[int, float]] = {}  # key: (tokens, taken at)
        self.refills: dict[bytes, asyncio.Future[tuple[int, float] | None]] = {}

    async def take(self, key: bytes) -> None:
        while True:
            tokens, taken_at = self.credit.get(key, (0, 0.0))
            if tokens > 0 and time.monotonic() - taken_at < CREDIT_TTL:
                self.credit[key] = (tokens - 1, taken_at)
                return
            reply = await self.refill(key)
            if reply is None:  # no Redis: this process keeps its own count meanwhile
                self.local.take(key)
                return
            if reply[0] == 0:  # the shared bucket is empty
                raise limited(reply[1], self.local.rate)

    async def refill(self, key: bytes) -> tuple[int, float] | None:
        """Take tokens from the shared bucket into this process's credit: (granted, left in the
        bucket), or None when Redis is unavailable."""
        if (flight := self.refills.get(key)) is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        self.refills[key] = flight
        try:
            reply = await self.take_shared(key) if self.breaker.allow() else None
            if reply is not None:
                if len(self.credit) >= self.local.max_keys:
                    self.credit.clear()
                self.credit[key] = (reply[0], time.monotonic())
            flight.set_result(reply)
            return reply
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: waiters may be gone
            raise
        finally:
            del self.refills[key]

    async def take_shared(self, key: bytes) -> tuple[int, float] | None:
        if self.script is None:
            return None
        name = f"{self.settings.key_prefix}ratelimit:{{{key.hex()[:32]}}}"
        args = [repr(self.local.rate), self.local.burst, self.chunk]
        try:
            granted, left = await self.script(keys=[name], args=args)
        except BACKEND_ERRORS as exc:
            if self.breaker.failure():
                log.warning("ratelimit.degraded", error=type(exc).__name__)
            return None
        if self.breaker.success():
            log.info("ratelimit.recovered")
        return int(granted), float(left)

    async def connect(self) -> None:
        if self.client is not None:
            await connect_redis(self.client)

    async def close(self) -> None:
        if self.client is not None:
            await close_redis(self.client)
