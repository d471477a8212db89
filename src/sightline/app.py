"""The FastAPI application factory and its lifespan (engines, cache, routers, handlers)."""

import asyncio
import gc
import sys
from functools import partial
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from sightline.auth.deps import check_credential
from sightline.auth.endpoints import router as keys_router
from sightline.auth.keycache import KeyCache
from sightline.auth.service import lookup_key
from sightline.bench.endpoints import router as bench_router
from sightline.gate import RequestGate
from sightline.cache.endpoints import MAX_BODY as WEBHOOK_MAX_BODY
from sightline.cache.endpoints import router as cache_router
from sightline.cache.freshness import open_cache
from sightline.cache.store import CacheStore
from sightline.dashboards.endpoints import router as dashboards_router
from sightline.auth.ratelimit import RateLimiter, TokenBuckets
from sightline.db import create_engine, make_sessionmaker
from sightline.embedded import ensure_embedded_database
from sightline.gates import ProjectGates
from sightline.graphql.schema import router as graphql_router
from sightline.ingest.endpoints import router as ingest_router
from sightline.logging import RequestIdMiddleware, configure_logging
from sightline.ops.docs import install_docs
from sightline.ops.endpoints import router as ops_router
from sightline.ops.metrics import (Metrics, MetricsMiddleware, install_query_counter,
                                   process_exited, sample_forever)
from sightline.problems import ProblemMiddleware, document_problems, install_problem_handlers
from sightline.projects.endpoints import instance_router, router as projects_router
from sightline.replicas.router import ReadRouter, Replica, replica_name
from sightline.reports.endpoints import router as reports_router
from sightline.segments.duck import open_duck
from sightline.stats.aggregate import MergedDays
from sightline.stats.endpoints import router as stats_router
from sightline.settings import Settings, get_settings
from sightline.state import AppState, state_of
from sightline.tracking.batcher import GroupCommit
from sightline.tracking.client import Countries
from sightline.tracking.endpoints import ensure_builtin_site, warm_up
from sightline.tracking.endpoints import router as tracking_router
from sightline.tracking.salts import Salts
from sightline.ttlcache import TtlCache
from sightline.web.endpoints import router as web_router
from sightline.worker.loop import work_forever


KEY_LOOKUPS = 2  # connections (and concurrent lookups) of the key cache


def database_url(settings: Settings) -> str:
    return settings.database_url or ensure_embedded_database(settings.data_dir)


def open_read_router(primary: AsyncEngine, settings: Settings, store: CacheStore,
                     metrics: Metrics) -> ReadRouter:
    replicas = []
    for url in settings.database_read_urls:
        engine = create_engine(url, settings, pool_size=settings.replicas.pool_size)
        install_query_counter(engine)
        replicas.append(Replica(replica_name(url), engine))
    return ReadRouter(primary, replicas, settings.replicas, store, metrics)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = state_of(app)
    settings = state.settings
    # CPU work runs in threads (ingest parsing, funnel search, bitmap merges); the event loop
    # gets the GIL back after at most 1 ms of it instead of Python's default 5 ms
    sys.setswitchinterval(0.001)
    # the embedded database starts and migrates synchronously (Alembic runs its own loop)
    url = await asyncio.to_thread(database_url, settings)
    engine = create_engine(url, settings)
    state.engine = engine
    state.sessionmaker = make_sessionmaker(engine)
    # key lookups have a small pool of their own: a busy main pool never delays a key check,
    # and a flood of made-up keys can take at most these connections
    key_engine = state.key_engine = create_engine(url, settings, pool_size=KEY_LOOKUPS,
                                                  max_overflow=0)
    state.key_cache = KeyCache(partial(lookup_key, make_sessionmaker(key_engine)),
                               unknown_per_second=settings.limits.unknown_keys_per_second,
                               unknown_burst=settings.limits.unknown_keys_burst,
                               concurrent_lookups=KEY_LOOKUPS)
    state.project_cache = TtlCache(settings.cache.key_ttl.total_seconds())
    # no lifetime: concurrent loads of one dashboard (a burst of share-link requests) share one
    # query, and a revoked share or a changed dashboard is seen by the next request
    state.dashboard_loads = TtlCache(0)
    install_query_counter(engine)
    state.cache = open_cache(settings, state.metrics)
    state.rate_limiter = RateLimiter(TokenBuckets(settings.rate_limit.requests_per_second,
                                                  settings.rate_limit.burst),
                                     settings.redis_url, settings.cache)
    await state.cache.backend.connect()
    await state.rate_limiter.connect()
    state.read_router = open_read_router(engine, settings, state.cache, state.metrics)
    monitor = asyncio.create_task(state.read_router.check_forever())
    sampler = asyncio.create_task(sample_forever(state.metrics))
    state.job_signal = asyncio.Event()
    state.duck = open_duck(settings)
    state.merged_days = MergedDays(settings.cache.merged_days_bytes)
    open_tracking(state)
    await asyncio.to_thread(warm_up)
    if settings.self_tracking:
        state.builtin_site = await ensure_builtin_site(state.sessionmaker)
    in_process = (asyncio.create_task(work_forever(engine, state.job_signal, settings.worker,
                                                   state.duck))
                  if settings.in_process_worker else None)
    # what start-up created lives as long as the process: keep it out of the collector's full
    # passes (a full collection holds the GIL, and with it the event loop, for its whole run)
    gc.freeze()
    try:
        yield
    finally:
        sampler.cancel()
        monitor.cancel()
        if in_process is not None:
            in_process.cancel()
        await state.read_router.close()
        await state.rate_limiter.close()
        await state.group_commit.close()
        state.countries.close()
        await state.cache.close()
        if state.duck is not None:
            state.duck.close()
        await engine.dispose()
        await key_engine.dispose()
        process_exited()


def open_tracking(state: AppState) -> None:
    """Browser ingest: site lookups, daily salts, the country database and group commit."""
    settings = state.settings
    state.sites = TtlCache(settings.cache.key_ttl.total_seconds())
    state.salts = Salts(state.sessionmaker)
    state.countries = Countries(settings.collect.geoip_database)
    state.group_commit = GroupCommit(state, settings.collect.batch_window,
                                     settings.collect.batch_max_events)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json)
    app = FastAPI(
        title="Sightline", version="0.1.0", lifespan=lifespan,
        description="Self-hosted analytics backend: ingest events, serve dashboard numbers fast.",
        # FastAPI's OpenTelemetry hooks check providers and the environment on every request;
        # operators get Prometheus metrics from /metrics instead.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None, redoc_url=None,  # served from local assets by install_docs
    )
    state = state_of(app)
    state.settings = settings
    state.address_limiter = TokenBuckets(settings.collect.address_rate,
                                         settings.collect.address_burst, subject="address")
    state.site_limiter = TokenBuckets(settings.collect.site_rate, settings.collect.site_burst,
                                      subject="site")
    state.builtin_site = None
    state.metrics = Metrics()
    state.ingest_gates = ProjectGates("ingest", settings.limits.ingest)
    state.dashboard_gates = ProjectGates("dashboard", settings.limits.dashboards)
    state.ad_hoc_gates = ProjectGates("ad-hoc stats", settings.limits.ad_hoc)
    install_problem_handlers(app)
    document_problems(app)
    # outermost last: request id, metrics, the error boundary, then the body gate
    app.add_middleware(
        RequestGate, default_limit=settings.limits.body_bytes,
        limits={"/api/v1/events": settings.ingest.max_body_bytes,
                "/api/v1/hooks/invalidate": WEBHOOK_MAX_BODY,
                "/api/v1/collect": settings.collect.max_body_bytes},
        keyed_prefixes=("/api/v1/", "/graphql"),
        keyless_prefixes=("/api/v1/hooks/", "/api/v1/collect", "/api/v1/shared/"),
        authenticate=check_credential)
    app.add_middleware(ProblemMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    for router in (ops_router, ingest_router, instance_router, tracking_router, projects_router,
                   stats_router,
                   cache_router, reports_router, keys_router):
        app.include_router(router)
    app.include_router(dashboards_router)
    app.include_router(web_router)  # GET / (the dashboard page) and /static
    app.include_router(graphql_router)
    if settings.bench_routes:
        app.include_router(bench_router)
    install_docs(app)
    return app
