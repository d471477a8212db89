"""A tiny cached route over a real SQL query, apps built around it, and a Redis server of our
own that tests may stop, pause and restart."""

import os
import signal
import subprocess
import time as clock
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import event, text
from starlette.responses import Response

from sightline.app import create_app
from sightline.auth.deps import ReadKey
from sightline.cache.service import respond
from sightline.settings import CacheSettings, Settings
from tests import services

MARK = "/* cache-test-count */"
COUNT_EVENTS = text(MARK + " SELECT count(*), pg_sleep(:delay) FROM event"
                    " WHERE project_id = :project_id AND ts >= :start AND ts < :end")


def counting_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/v1/projects/{project_id}/test-cache/count")
    async def count(project_id: str, request: Request, key: ReadKey, date_from: date,
                    date_to: date, kind: str = "stats.test", delay: float = 0.0) -> Response:
        start = datetime.combine(date_from, time(), UTC)
        end = datetime.combine(date_to + timedelta(days=1), time(), UTC)

        async def compute() -> dict[str, Any]:
            async with request.app.state.sessionmaker() as session:
                row = (await session.execute(COUNT_EVENTS, {
                    "project_id": key.project_id, "start": start, "end": end, "delay": delay,
                })).one()
            return {"results": {"events": row[0]},
                    "meta": {"date_from": str(date_from), "date_to": str(date_to)}}

        query = {"date_from": str(date_from), "date_to": str(date_to)}
        return await respond(request, key.project_id, kind, query,
                             (start, end - timedelta(microseconds=1)), compute)

    return router


class QueryCounter:
    """Counts the test route's SQL statements as the database driver sends them."""

    def __init__(self, app: FastAPI):
        self.count = 0
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", self.seen)

    def seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if MARK in statement:
            self.count += 1


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    app.include_router(counting_router())
    async with app.router.lifespan_context(app):
        app.state.queries = QueryCounter(app)
        yield app


def cache_settings(settings: Settings, redis_url: str | None, **cache: Any) -> Settings:
    options = {"key_prefix": f"t{uuid.uuid4().hex[:8]}:", **cache}
    return settings.model_copy(update={
        "redis_url": redis_url,
        "cache": CacheSettings(**{**settings.cache.model_dump(), **options}),
    })


@pytest.fixture(scope="session")
async def capp(settings: Settings, redis_url: str) -> AsyncIterator[FastAPI]:
    """The app on the shared Redis server, with the counting route. These tests are about single
    flight and freshness, not timeouts (test_faults.py): a busy CI machine must not trip the
    breaker here, nor make a burst of 1,000 in-process requests wait longer than the pool
    allows for one of the 64 connections (then those requests compute without the cache)."""
    async with running_app(cache_settings(settings, redis_url, socket_timeout=1.0,
                                          pool_timeout=10.0)) as app:
        yield app


class RedisProcess:
    """A real redis-server on a fixed free port, so that it can come back on the same address."""

    def __init__(self) -> None:
        self.port = services.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [services.redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = clock.monotonic() + 5
        while not services.listening("127.0.0.1", self.port):
            assert clock.monotonic() < deadline, "redis-server did not start"
            clock.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    if server.process is not None:
        server.resume()
    server.stop()
