"""Read replicas with read-your-writes.

Stats, dashboard data and GraphQL read from streaming replicas (SIGHTLINE_DATABASE_READ_URLS);
everything else uses the primary. After a write that a read must reflect (an ingested batch, a
goal, an invalidation), the primary's WAL position is recorded for the project in the cache,
before the change is announced. A read takes the next replica in rotation if it has replayed past
the project's recorded position, waits up to `read_wait` for it to get there, and otherwise reads
the primary; so does a read whose position is unknown (never recorded, cache unavailable).

A monitor samples the primary's position and every replica's replayed position: a replica that
does not answer, or has not replayed what the primary had written `max_lag` ago, leaves rotation
until it catches up. /readyz and /metrics report each replica's state and lag.
"""

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field

import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from sightline.cache.store import CacheStore
from sightline.ops.metrics import Metrics
from sightline.replicas.queries import CURRENT_POSITION, REPLAYED_POSITION
from sightline.settings import ReplicaSettings
from sightline.state import AppState, app_state

log = structlog.get_logger()
POLL = 0.005


@dataclass(slots=True)
class Replica:
    name: str
    engine: AsyncEngine
    replayed: int = -1  # the last position seen replayed
    lag_seconds: float = float("inf")
    state: str = "unknown"  # ok, lagging or unavailable

    @property
    def in_rotation(self) -> bool:
        return self.state == "ok"


@dataclass(slots=True)
class History:
    """The primary's recent positions with the time each was first seen."""

    samples: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, now: float, position: int, keep: float) -> None:
        if not self.samples or self.samples[-1][1] < position:
            self.samples.append((now, position))
        while len(self.samples) > 1 and self.samples[1][0] < now - keep:
            self.samples.popleft()

    def lag(self, now: float, replayed: int) -> float:
        """Seconds since the primary first had a position the replica has not replayed."""
        behind = next((seen for seen, position in self.samples if position > replayed), None)
        return 0.0 if behind is None else now - behind


def replica_name(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"


class ReadRouter:
    def __init__(self, primary: AsyncEngine, replicas: list[Replica], settings: ReplicaSettings,
                 store: CacheStore, metrics: Metrics | None = None):
        self.primary = primary
        self.replicas = replicas
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.history = History()
        self.turn = itertools.count()

    async def engine_for(self, project_id: str) -> AsyncEngine:
        """The engine a read of `project_id` that must reflect its acknowledged writes uses."""
        candidates = [r for r in self.replicas if r.in_rotation]
        if not candidates:
            return self.counted(self.primary, "primary", "no_replica")
        target = await self.store.commit_position(project_id)
        if target is None:
            return self.counted(self.primary, "primary", "position_unknown")
        replica = candidates[next(self.turn) % len(candidates)]
        if await self.caught_up(replica, target):
            return self.counted(replica.engine, "replica", "caught_up")
        return self.counted(self.primary, "primary", "replica_behind")

    async def record_position(self, project_id: str) -> None:
        try:
            async with self.primary.connect() as conn:
                position = int((await conn.execute(CURRENT_POSITION)).scalar_one())
        except Exception as exc:  # noqa: BLE001 - committed already; reads may use the primary
            log.warning("replica.position_lost", project_id=project_id, error=type(exc).__name__)
            return
        await self.store.record_position(project_id, position)

    async def caught_up(self, replica: Replica, target: int) -> bool:
        deadline = time.monotonic() + self.settings.read_wait.total_seconds()
        while replica.replayed < target:
            if time.monotonic() > deadline:
                return False
            try:
                replica.replayed = max(replica.replayed, await self.replayed(replica))
            except Exception:  # noqa: BLE001 - a failing replica is simply not used
                return False
            if replica.replayed < target:
                await asyncio.sleep(POLL)
        return True

    def counted(self, engine: AsyncEngine, target: str, reason: str) -> AsyncEngine:
        if self.metrics is not None:
            self.metrics.reads.labels(target, reason).inc()
        return engine

    async def replayed(self, replica: Replica) -> int:
        async with replica.engine.connect() as conn:
            position = (await conn.execute(REPLAYED_POSITION)).scalar()
        if position is None:
            raise RuntimeError(f"{replica.name} is not a replica")
        return int(position)

    async def check(self) -> None:
        """Sample the primary, then every replica; put each in or out of rotation."""
        timeout = self.settings.check_timeout.total_seconds()
        try:
            async with asyncio.timeout(timeout), self.primary.connect() as conn:
                position = int((await conn.execute(CURRENT_POSITION)).scalar_one())
            self.history.add(time.monotonic(), position, 2 * self.settings.max_lag.total_seconds())
        except Exception:  # noqa: BLE001 - without the primary, lag cannot be judged
            pass
        for replica in self.replicas:
            await self.check_replica(replica, timeout)

    async def check_replica(self, replica: Replica, timeout: float) -> None:
        before = replica.state
        try:
            async with asyncio.timeout(timeout):
                replica.replayed = await self.replayed(replica)
            replica.lag_seconds = self.history.lag(time.monotonic(), replica.replayed)
            lagging = replica.lag_seconds > self.settings.max_lag.total_seconds()
            replica.state = "lagging" if lagging else "ok"
        except Exception:  # noqa: BLE001 - any failure takes the replica out of rotation
            replica.state, replica.lag_seconds = "unavailable", float("inf")
        if replica.state != before:
            log.warning("replica.state", replica=replica.name, state=replica.state,
                        lag_seconds=round(replica.lag_seconds, 3))
        if self.metrics is not None:
            self.metrics.replica_in_rotation.labels(replica.name).set(float(replica.in_rotation))
            self.metrics.replica_lag.labels(replica.name).set(
                min(replica.lag_seconds, 1e9))

    async def check_forever(self) -> None:
        while self.replicas:
            await self.check()
            await asyncio.sleep(self.settings.check_every.total_seconds())

    def states(self) -> dict[str, str]:
        return {replica.name: replica.state for replica in self.replicas}

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.engine.dispose()


async def read_engine(request: Request, project_id: str) -> AsyncEngine:
    """The engine for a stats read of `project_id` (the primary when no replica is configured)."""
    state = app_state(request)
    if not state.read_router.replicas:
        return state.engine
    return await state.read_router.engine_for(project_id)


async def record_position(state: AppState, project_id: str) -> None:
    """After a commit that reads must reflect, before the change is announced: the primary's
    position for the project (only when replicas are configured)."""
    if state.read_router.replicas:
        await state.read_router.record_position(project_id)
