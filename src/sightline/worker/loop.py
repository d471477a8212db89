"""The worker loop: `sightline worker` processes, or a task inside the server in embedded mode."""

import asyncio
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from sightline.db import create_engine, make_sessionmaker
from sightline.reports.tasks import TASKS as REPORT_TASKS
from sightline.rollups.service import BUILD_TASK
from sightline.segments.duck import Duck, open_duck
from sightline.segments.tasks import build_rollups_and_segments
from sightline.settings import Settings, WorkerSettings
from sightline.worker.queue import TaskFunction, purge_finished, run_one

log = structlog.get_logger()


def tasks_for(duck: Duck | None) -> dict[str, TaskFunction]:
    return {**REPORT_TASKS, BUILD_TASK: build_rollups_and_segments(duck)}


TASKS = tasks_for(None)  # without segments (a process with no DuckDB)


async def work_forever(engine: AsyncEngine, wake: asyncio.Event, settings: WorkerSettings,
                       duck: Duck | None = None, poll_seconds: float = 1.0) -> None:
    sessionmaker = make_sessionmaker(engine)
    tasks = tasks_for(duck)
    next_purge = time.monotonic()
    while True:
        try:
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + settings.purge_every.total_seconds()
                if purged := await purge_finished(sessionmaker, settings):
                    log.info("worker.purged", jobs=purged)
            while await run_one(engine, sessionmaker, tasks, settings):
                pass
        except Exception:  # noqa: BLE001 - keep serving jobs after a database hiccup
            log.exception("worker.loop_error")
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass


async def run_worker(settings: Settings, database_url: str) -> None:
    engine = create_engine(database_url, settings)
    duck = open_duck(settings)
    log.info("worker.started")
    try:
        await work_forever(engine, asyncio.Event(), settings.worker, duck)
    finally:
        if duck is not None:
            duck.close()
        await engine.dispose()
