"""Whole workers: one killed in the middle of a job, one project's years-long backfill."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from sightline.worker.loop import TASKS, work_forever
from sightline.worker.queue import run_one
from tests.factories import make_event, make_project, send_events
from tests.worker.conftest import FAST

BUILD_JOB = text("SELECT id, status, attempts FROM job "
                 "WHERE project_id = :p AND task = 'rollups.build'")
WAITING_ON_LOCKS = text("SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'")
STALE_DAYS = text("SELECT count(*) FROM rollup_state "
                  "WHERE project_id = :p AND built_version <> version")


def start_worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SIGHTLINE_DATABASE_URL": database_url,
           "SIGHTLINE_WORKER__LEASE": "PT2S", "SIGHTLINE_WORKER__HEARTBEAT": "PT0.5S"}
    return subprocess.Popen([str(Path(sys.executable).parent / "sightline"), "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def eventually(check: Any, timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(every)


async def test_a_job_of_a_killed_worker_is_done_later_once(queue_app, queue_client, queue_db,
                                                           queue_database_url):
    project = await make_project(queue_db)
    await send_events(queue_client, project, [make_event(visitor_id=f"v{i}") for i in range(5)])
    params = {"p": project.id}
    async with queue_app.state.engine.connect() as blocker:
        # the build stops where it records the day as built, its rows written but not committed
        await blocker.execute(text("SELECT 1 FROM rollup_state WHERE project_id = :p FOR UPDATE"),
                              params)
        worker = start_worker(queue_database_url)
        try:
            async def blocked() -> bool:
                async with queue_app.state.engine.connect() as conn:
                    return bool((await conn.execute(WAITING_ON_LOCKS)).scalar())
            assert await eventually(blocked, timeout=60)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        await blocker.rollback()
    job = (await queue_db.execute(BUILD_JOB, params)).one()
    assert (job.status, job.attempts) == ("running", 1)
    assert (await queue_db.execute(STALE_DAYS, params)).scalar() == 1  # nothing was committed
    await queue_db.rollback()

    async def done() -> bool:
        await run_one(queue_app.state.engine, queue_app.state.sessionmaker, TASKS, FAST)
        async with queue_app.state.sessionmaker() as db:
            return (await db.execute(BUILD_JOB, params)).one().status == "done"
    assert await eventually(done, timeout=30)

    async with queue_app.state.sessionmaker() as db:
        job = (await db.execute(BUILD_JOB, params)).one()
        assert (job.status, job.attempts) == ("done", 2)
        assert (await db.execute(STALE_DAYS, params)).scalar() == 0
        totals = (await db.execute(text(
            "SELECT events FROM rollup_day WHERE project_id = :p AND dimension = ''"),
            params)).scalars().all()
        assert totals == [5]


async def test_a_backfill_of_twenty_years_does_not_hold_up_other_projects(
        queue_app, queue_client, queue_db):
    big, small = await make_project(queue_db, "Backfill"), await make_project(queue_db, "Small")
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=i) for i in range(1, 20 * 365)]
    await send_events(queue_client, big, [
        make_event(visitor_id=f"v{i % 500}", timestamp=day.isoformat())
        for i, day in enumerate(days)])
    await send_events(queue_client, small, [
        make_event(visitor_id="a", timestamp=(today - timedelta(days=1)).isoformat())])
    started = time.monotonic()
    worker = asyncio.create_task(
        work_forever(queue_app.state.engine, asyncio.Event(), FAST, poll_seconds=0.2))
    try:
        async def small_built() -> bool:
            async with queue_app.state.sessionmaker() as db:
                return (await db.execute(STALE_DAYS, {"p": small.id})).scalar() == 0
        assert await eventually(small_built, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        worker.cancel()
    async with queue_app.state.sessionmaker() as db:
        still_stale = (await db.execute(STALE_DAYS, {"p": big.id})).scalar()
    assert still_stale > 0  # the backfill was still being built meanwhile
    assert elapsed < 60
