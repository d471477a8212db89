"""The worker loop: `sightline worker` processes, or a task inside the server in embedded mode."""

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from sightline.db import create_engine, make_sessionmaker
from sightline.reports.tasks import TASKS as REPORT_TASKS
from sightline.rollups.tasks import BUILD_TASK, build_rollups
from sightline.settings import Settings
from sightline.worker.queue import run_one

log = structlog.get_logger()
TASKS = {**REPORT_TASKS, BUILD_TASK: build_rollups}


async def work_forever(engine: AsyncEngine, wake: asyncio.Event, poll_seconds: float = 1.0) -> None:
    sessionmaker = make_sessionmaker(engine)
    while True:
        try:
            while await run_one(engine, sessionmaker, TASKS):
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
    log.info("worker.started")
    try:
        await work_forever(engine, asyncio.Event())
    finally:
        await engine.dispose()
