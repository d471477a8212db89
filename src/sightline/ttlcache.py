"""A small in-process cache with expiry, for hot lookups (API keys, projects).

Concurrent misses of one key share one load, so a burst after a restart costs one query.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Task[V]] = {}

    def get(self, key: K) -> tuple[bool, V | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:  # loads are shared while in flight, nothing is kept
            return
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:  # drop the oldest, never the whole cache
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def discard_where(self, predicate: Callable[[K, V], bool]) -> None:
        for key in [k for k, (_, v) in self._entries.items() if predicate(k, v)]:
            del self._entries[key]

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        found, value = self.get(key)
        if found:
            return value  # type: ignore[return-value]
        task = self._loading.get(key)
        if task is None:
            task = asyncio.create_task(self._load(key, load))
            self._loading[key] = task
        return await asyncio.shield(task)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await load()
            self.put(key, value)
            return value
        finally:
            self._loading.pop(key, None)
