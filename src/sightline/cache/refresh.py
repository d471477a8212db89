"""Recomputations that `Cache-Control: no-cache` asks for, shared without serving anything old.

A no-cache request must get a result computed after it arrived. Identical requests that arrive
while such a computation runs cannot use that one (it may predate a change they must see), but
they can all use the next: it starts when the running one ends, after every one of them
arrived. A burst of identical no-cache requests costs two computations instead of one each, and
the requests that wait hold nothing (no pooled connection, no place in a project's gate).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Latest(Generic[T]):
    """One key's runs: taken in turn; the last finished run, and when it started."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    started: float = float("-inf")
    outcome: T | BaseException | None = None
    users: int = 0


class FreshRuns(Generic[T]):
    def __init__(self) -> None:
        self.keys: dict[str, Latest[T]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[T]],
                  arrived: float | None = None) -> T:
        """The outcome of a run of `compute` that started no earlier than this call (or than
        `arrived`, a time.monotonic() reading taken when the request arrived)."""
        arrived = time.monotonic() if arrived is None else arrived
        latest = self.keys.setdefault(key, Latest())
        latest.users += 1
        try:
            async with latest.turn:
                if latest.started < arrived or latest.outcome is None:
                    latest.started, latest.outcome = time.monotonic(), None
                    try:
                        latest.outcome = await compute()
                    except Exception as error:  # those waiting share it, as they would a result
                        latest.outcome = error
                if isinstance(latest.outcome, BaseException):
                    raise latest.outcome
                return latest.outcome
        finally:
            latest.users -= 1
            if latest.users == 0:
                del self.keys[key]
