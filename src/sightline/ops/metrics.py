"""Prometheus metrics: request latency per route template, cache outcomes, database queries per
request (counted by a SQLAlchemy cursor listener into a per-request context variable).

Each app has its own registry (tests build several apps in one process). With several worker
processes (`sightline serve --workers N`), the server points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before the workers start: every process writes its samples there, and /metrics, in
whichever process answers, adds them up (gauges: the highest value among live processes).
"""

import asyncio
import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
QUERY_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100)


@dataclass(slots=True)
class RequestStats:
    """Database work done on behalf of one request."""

    queries: int = 0
    db_seconds: float = 0.0


REQUEST_STATS: ContextVar[RequestStats | None] = ContextVar("sightline_request_stats", default=None)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "sightline_http_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.db_queries = Histogram(
            "sightline_db_queries_per_request", "Database statements executed per request",
            ["route"], buckets=QUERY_BUCKETS, registry=self.registry)
        self.cache_results = Counter(
            "sightline_cache_results", "Cached responses by outcome (hit, miss, stale, bypass)",
            ["kind", "result"], registry=self.registry)
        self.cache_errors = Counter(
            "sightline_cache_errors", "Cache backend operations that failed or were skipped",
            ["operation"], registry=self.registry)
        self.cache_degraded = Gauge(
            "sightline_cache_degraded", "1 while the cache backend is unreachable (circuit open)",
            registry=self.registry, multiprocess_mode="livemax")
        self.cache_backend = Gauge(
            "sightline_cache_backend_info", "The cache backend in use", ["backend"],
            registry=self.registry, multiprocess_mode="livemax")
        self.replica_in_rotation = Gauge(
            "sightline_replica_in_rotation", "1 while a read replica serves reads", ["replica"],
            registry=self.registry, multiprocess_mode="livemin")
        self.replica_lag = Gauge(
            "sightline_replica_lag_seconds", "How far a read replica's replay is behind",
            ["replica"], registry=self.registry, multiprocess_mode="livemax")
        self.reads = Counter(
            "sightline_database_reads", "Stats reads by the server that answered them and why",
            ["target", "reason"], registry=self.registry)
        self.samplers: list[Callable[[], None]] = []

    def watch_cache(self, backend: str, degraded: Callable[[], bool]) -> None:
        self.cache_backend.labels(backend=backend).set(1)
        self.samplers.append(lambda: self.cache_degraded.set(float(degraded())))

    def sample(self) -> None:
        """Set the gauges that describe this process's state (before a scrape, and every
        second, so that other processes' scrapes see it too)."""
        for sampler in self.samplers:
            sampler()

    def exposition(self) -> bytes:
        self.sample()
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


async def sample_forever(metrics: Metrics, every: float = 1.0) -> None:
    while True:
        metrics.sample()
        await asyncio.sleep(every)


def process_exited() -> None:
    """Drop this process's live gauges from the shared directory (its counters stay counted)."""
    if multiprocess_dir() is not None:
        mark_process_dead(os.getpid())


def install_query_counter(engine: AsyncEngine) -> None:
    """Count statements and their time into the current request's RequestStats."""

    def before(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any,
               executemany: bool) -> None:
        conn.info.setdefault("sightline_query_start", []).append(time.perf_counter())
        stats = REQUEST_STATS.get()
        if stats is not None:
            stats.queries += 1

    def after(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any,
              executemany: bool) -> None:
        starts = conn.info.get("sightline_query_start")
        stats = REQUEST_STATS.get()
        if starts:
            started = starts.pop()
            if stats is not None:
                stats.db_seconds += time.perf_counter() - started

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)


class MetricsMiddleware:
    """Times every HTTP request and labels it with its route template, never the raw path."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics: Metrics | None = getattr(scope["app"].state, "metrics", None)
        stats = RequestStats()
        token = REQUEST_STATS.set(stats)
        status = 500
        started = time.perf_counter()

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            REQUEST_STATS.reset(token)
            if metrics is not None:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                metrics.request_seconds.labels(scope["method"], route, str(status)).observe(
                    time.perf_counter() - started)
                metrics.db_queries.labels(route).observe(stats.queries)
