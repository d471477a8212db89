"""Known and unknown keys, cached per process with bounds an attacker cannot push past.

- A known key is trusted for `ttl` (1 s) after the lookup that found it started, so a key revoked
  in any process stops working everywhere within that; a key used after half of it is looked up
  again in the background, so busy keys never wait for the database.
- An unknown key (forged keys pass the public checksum) is remembered for `negative_ttl`, and
  unknown keys may cost a lookup only while a per-process budget lasts (429 beyond it), with a
  few lookups at a time: a flood of made-up keys costs a bounded number of database queries.
- Both maps are least-recently-used with `max_entries` each: a flood of unknown keys never
  pushes known ones out, and nothing is cleared whole.
- Lookups run outside the request's context: they are the cache's work, not the request's.
"""

import asyncio
import contextvars
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sightline.problems import RateLimited

P = TypeVar("P")
Lookup = Callable[[bytes], Awaitable[P | None]]


class Budget:
    """A token bucket for lookups of keys not known yet; a lookup that finds its key gives
    its token back, so only unknown keys spend it."""

    def __init__(self, rate_per_second: float, burst: int):
        self.rate = rate_per_second
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self) -> bool:
        self.refill()
        return self.tokens >= 1

    def spend(self) -> None:
        self.refill()
        if self.tokens < 1:
            raise RateLimited("Too many unknown keys; retry shortly", 1)
        self.tokens -= 1

    def give_back(self) -> None:
        self.tokens = min(self.burst, self.tokens + 1)


class KeyCache(Generic[P]):
    def __init__(self, lookup: Lookup[P], *, ttl: float = 1.0, negative_ttl: float = 10.0,
                 max_entries: int = 10_000, unknown_per_second: float = 20.0,
                 unknown_burst: int = 50, concurrent_lookups: int = 4):
        self.lookup = lookup
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self.budget = Budget(unknown_per_second, unknown_burst)
        self.known: OrderedDict[bytes, tuple[float, P]] = OrderedDict()
        self.unknown: OrderedDict[bytes, float] = OrderedDict()
        self.loading: dict[bytes, asyncio.Task[P | None]] = {}
        self.slots = asyncio.Semaphore(concurrent_lookups)

    async def get(self, key_hash: bytes) -> P | None:
        now = time.monotonic()
        entry = self.known.get(key_hash)
        if entry is not None and now - entry[0] < self.ttl:
            self.known.move_to_end(key_hash)
            if now - entry[0] >= self.ttl / 2:
                self.start_load(key_hash, budgeted=False)
            return entry[1]
        expires = self.unknown.get(key_hash)
        if expires is not None and expires > now:
            return None
        if entry is None and key_hash not in self.loading and not self.budget.available():
            raise RateLimited("Too many unknown keys; retry shortly", 1)
        return await asyncio.shield(self.start_load(key_hash, budgeted=entry is None))

    def forget(self, key_hash: bytes) -> None:
        self.known.pop(key_hash, None)

    def discard_where(self, predicate: Callable[[bytes, P], bool]) -> None:
        """Forget the known keys `predicate(key_hash, found)` picks (a deleted project's)."""
        for key_hash in [k for k, (_, found) in self.known.items() if predicate(k, found)]:
            del self.known[key_hash]

    def start_load(self, key_hash: bytes, budgeted: bool) -> "asyncio.Task[P | None]":
        task = self.loading.get(key_hash)
        if task is None:
            task = asyncio.create_task(self.load(key_hash, budgeted),
                                       context=contextvars.Context())
            task.add_done_callback(retrieved)  # a failed background refresh is not an error
            self.loading[key_hash] = task
        return task

    async def load(self, key_hash: bytes, budgeted: bool) -> P | None:
        """Look the key up; a key never seen (or forgotten) only while the budget lasts, checked
        again once a lookup slot is free, since many may have queued for one."""
        try:
            async with self.slots:
                if budgeted:
                    self.budget.spend()  # given back when the key is found
                started = time.monotonic()
                found = await self.lookup(key_hash)
            if budgeted and found is not None:
                self.budget.give_back()
            if found is None:
                self.known.pop(key_hash, None)
                remember(self.unknown, key_hash, time.monotonic() + self.negative_ttl,
                         self.max_entries)
            else:
                self.unknown.pop(key_hash, None)
                remember(self.known, key_hash, (started, found), self.max_entries)
            return found
        finally:
            self.loading.pop(key_hash, None)


def retrieved(task: "asyncio.Task[object]") -> None:
    if not task.cancelled():
        task.exception()


def remember(entries: OrderedDict, key: bytes, value: object, max_entries: int) -> None:  # type: ignore[type-arg]
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > max_entries:
        entries.popitem(last=False)
