"""Guarded access to the cache backend, and the record of what changed (the freshness side).

Every backend call goes through `call`: a failure or timeout is logged as `cache.degraded`,
counted, fed to the circuit breaker and turned into the caller's default (a miss), never an
error. A change that could not be recorded (backend down) is remembered per project and sent
as soon as the backend answers again, before this process trusts any entry: every process then
sees the change, and only the entries it makes stale are recomputed (other tenants keep theirs).
Past LOST_PROJECTS projects with lost changes, the global epoch is bumped instead.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from redis.exceptions import RedisClusterException, RedisError

from sightline.cache import keys
from sightline.cache.backends import CacheBackend, Lookup
from sightline.cache.breaker import CircuitBreaker
from sightline.cache.client import CLIENT_ERRORS
from sightline.cache.refresh import FreshRuns
from sightline.ingest.service import TimeSpan
from sightline.ops.metrics import Metrics
from sightline.settings import CacheSettings

log = structlog.get_logger()
T = TypeVar("T")
BACKEND_ERRORS = (RedisError, RedisClusterException, OSError, TimeoutError, *CLIENT_ERRORS)
LOST_PROJECTS = 1000


class CacheStore:
    def __init__(self, backend: CacheBackend, settings: CacheSettings,
                 metrics: Metrics | None = None, clock: Callable[[], float] = time.time):
        self.backend = backend
        self.settings = settings
        self.prefix = settings.key_prefix
        self.metrics = metrics
        self.clock = clock
        self.breaker = CircuitBreaker(settings.breaker_threshold,
                                      settings.breaker_reset.total_seconds())
        self.incarnation = uuid.uuid4().hex
        self.lost: dict[str, set[str]] = {}  # per project, the change fields not yet recorded
        self.lost_everything = False  # too many projects: bump the global epoch instead
        self.recovery: asyncio.Task[None] | None = None
        self.flights: dict[str, asyncio.Future[Any]] = {}  # in-process single flight, by key
        self.refreshes: FreshRuns[Any] = FreshRuns()  # no-cache recomputations, by key
        # misses while the cache cannot be read: still one computation per process at a time
        self.unread_misses: FreshRuns[Any] = FreshRuns()
        self.seconds = 0.0  # total time spent waiting on the backend (for tests and timing)

    @property
    def lost_changes(self) -> bool:
        return bool(self.lost) or self.lost_everything

    @property
    def degraded(self) -> bool:
        return self.breaker.open or self.lost_changes

    async def call(self, operation: str, factory: Callable[[], Awaitable[T]], default: T) -> T:
        if not self.breaker.allow():
            self.count_error(operation)
            return default
        started = time.perf_counter()
        try:
            result = await factory()
        except BACKEND_ERRORS as exc:
            self.seconds += time.perf_counter() - started
            self.count_error(operation)
            if self.breaker.failure():
                log.warning("cache.degraded", backend=self.backend.name, operation=operation,
                            error=type(exc).__name__)
            return default
        self.seconds += time.perf_counter() - started
        if self.breaker.success():
            log.info("cache.recovered", backend=self.backend.name)
        return result

    def count_error(self, operation: str) -> None:
        if self.metrics is not None:
            self.metrics.cache_errors.labels(operation).inc()

    # Reading and writing entries

    async def recover(self) -> bool:
        """Record the changes lost while the backend was unreachable before anything cached is
        trusted again."""
        if self.lost_everything:
            epoch = await self.call(
                "epoch", lambda: self.backend.bump_epoch(keys.epoch_key(self.prefix)), None)
            if epoch is None:
                return False
            self.lost_everything = False
            self.lost.clear()
            log.info("cache.epoch_bumped", epoch=epoch)
        while self.lost:
            project_id = next(iter(self.lost))
            fields = self.lost.pop(project_id)
            if await self.send(project_id, sorted(fields)) is None:
                self.remember(project_id, fields)
                return False
            log.info("cache.change_recorded", project_id=project_id)
        return True

    async def lookup(self, project_id: str, entry: str, fields: list[str]) -> Lookup | None:
        if not await self.recover():
            return None
        versions = keys.versions_key(self.prefix, project_id)
        epoch = keys.epoch_key(self.prefix)
        return await self.call("lookup", lambda: self.backend.lookup(entry, versions, epoch, fields),
                               None)

    async def store(self, entry: str, blob: bytes, ttl_ms: int, token: str | None) -> None:
        await self.call("store", lambda: self.backend.store(entry, blob, ttl_ms,
                                                            keys.lock_key(entry), token), None)

    async def acquire(self, entry: str, token: str, ttl_ms: int) -> bool | None:
        """True: ours; False: someone else's; None: the backend is unavailable."""
        return await self.call("lock", lambda: self.backend.acquire(keys.lock_key(entry), token,
                                                                    ttl_ms), None)

    async def release(self, entry: str, token: str) -> None:
        await self.call("unlock", lambda: self.backend.release(keys.lock_key(entry), token), None)

    async def ping(self) -> bool:
        ok = await self.call("ping", self.backend.ping, False) is None
        return ok and await self.recover()

    # Recording changes (the freshness interface called by ingest, goals and the webhook)

    async def events_committed(self, project_id: str, touched: TimeSpan | None) -> None:
        """Events were committed; `touched` spans every instant whose derived data changed
        (None: nothing changed, e.g. a batch of duplicates)."""
        if touched is not None:
            await self.record(project_id, keys.change_fields(touched.start, touched.end))

    async def data_changed(self, project_id: str, start: datetime, end: datetime) -> None:
        await self.record(project_id, keys.change_fields(start, end))

    async def project_changed(self, project_id: str) -> None:
        """Something every result of the project may depend on changed (goals, an outside edit)."""
        await self.record(project_id, keys.everything_fields())

    async def forget_project(self, project_id: str) -> None:
        """The project was deleted: drop its entries, then record a change to everything (an
        entry stored by a computation still running is then never served)."""
        await self.call("drop", lambda: self.backend.drop(keys.project_prefix(self.prefix,
                                                                              project_id) + ":"), 0)
        await self.project_changed(project_id)

    async def record(self, project_id: str, fields: list[str]) -> None:
        if self.lost_changes and not await self.recover():  # keep the order of changes
            self.remember(project_id, set(fields))
            return
        if await self.send(project_id, fields) is None:
            log.warning("cache.change_lost", project_id=project_id)
            self.remember(project_id, set(fields))

    async def send(self, project_id: str, fields: list[str]) -> int | None:
        versions = keys.versions_key(self.prefix, project_id)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        return await self.call(
            "bump", lambda: self.backend.bump(versions, fields, self.incarnation, now), None)

    def remember(self, project_id: str, fields: set[str]) -> None:
        if project_id in self.lost or len(self.lost) < LOST_PROJECTS:
            self.lost.setdefault(project_id, set()).update(fields)
        else:
            self.lost_everything = True
        if self.recovery is None or self.recovery.done():
            self.recovery = asyncio.create_task(self.keep_recovering())

    async def record_position(self, project_id: str, position: int) -> None:
        """The primary's WAL position after a commit of the project that reads must reflect."""
        versions = keys.versions_key(self.prefix, project_id)
        await self.call("position", lambda: self.backend.advance_position(
            versions, position, self.incarnation), None)

    async def commit_position(self, project_id: str) -> int | None:
        """The newest recorded position (None: unknown, so a read must use the primary)."""
        if self.degraded:
            return None
        versions = keys.versions_key(self.prefix, project_id)
        return await self.call("position", lambda: self.backend.position(versions), None)

    async def keep_recovering(self) -> None:
        """Record the lost changes as soon as the backend is back, even if no request comes."""
        while not await self.recover():
            await asyncio.sleep(self.breaker.reset_after)

    async def close(self) -> None:
        if self.recovery is not None:
            self.recovery.cancel()
        await self.backend.close()
