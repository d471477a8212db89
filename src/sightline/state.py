"""Typed access to the application's shared objects.

`create_app` and its lifespan build them once per process and keep them on `app.state`; code
reads them through `state_of(app)` or the `Shared` dependency, never through untyped
`app.state.<name>` lookups.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, Protocol, cast

from fastapi import Depends
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from sightline.auth.deps import Principal
    from sightline.auth.keycache import KeyCache
    from sightline.auth.ratelimit import RateLimiter, TokenBuckets
    from sightline.cache.store import CacheStore
    from sightline.gates import ProjectGates
    from sightline.ops.metrics import Metrics
    from sightline.projects.schemas import ProjectOut
    from sightline.replicas.router import ReadRouter
    from sightline.segments.duck import Duck
    from sightline.stats.aggregate import MergedDays
    from sightline.settings import Settings
    from sightline.tracking.batcher import GroupCommit
    from sightline.tracking.client import Countries
    from sightline.tracking.salts import Salts
    from sightline.ttlcache import TtlCache


class AppState(Protocol):
    settings: Settings
    metrics: Metrics
    address_limiter: TokenBuckets  # browser beacons per client address
    site_limiter: TokenBuckets  # browser beacons per site
    builtin_site: str | None  # the site id the dashboard page tracks itself with
    # set by the lifespan
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    key_engine: AsyncEngine  # the key cache's own small pool
    key_cache: KeyCache[Principal]
    project_cache: TtlCache[str, ProjectOut]
    dashboard_loads: TtlCache[tuple[str, ...], Any]  # in-flight dashboard and share lookups
    cache: CacheStore
    rate_limiter: RateLimiter
    read_router: ReadRouter  # stats reads: a replica that has the project's writes, or the primary
    job_signal: asyncio.Event  # wakes the in-process worker
    ingest_gates: ProjectGates  # one ingest transaction per project and process
    dashboard_gates: ProjectGates  # one dashboard computation per project and process
    ad_hoc_gates: ProjectGates  # one row-scanning stats computation per project and process
    duck: Duck | None  # DuckDB over the segments (None: columnar family off)
    merged_days: MergedDays  # built rollup days merged per value, in this process
    sites: TtlCache[str, ProjectOut | None]  # project by site id (None: unknown)
    salts: Salts
    countries: Countries
    group_commit: GroupCommit


def state_of(app: Starlette) -> AppState:
    return cast("AppState", app.state)


def app_state(connection: HTTPConnection) -> AppState:
    return state_of(connection.app)


Shared = Annotated[AppState, Depends(app_state)]
