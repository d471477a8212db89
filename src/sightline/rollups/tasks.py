"""Worker task: rebuild the stale rollup days of one project, committing day by day."""

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from sightline.projects import service as projects
from sightline.rollups import service
from sightline.worker.queue import ClaimedJob

# A build job rebuilds at most this many days (newest first), then queues the rest as a new job,
# so a backfill over years is done in bounded steps between other projects' jobs.
DAYS_PER_BUILD = 31
BUILD_TIME_BUDGET = timedelta(seconds=5)


async def build_stale_days(db: AsyncSession, project_id: str, timezone: str,
                           now: datetime | None = None,
                           limit: int | None = DAYS_PER_BUILD) -> list[date]:
    """Build the newest stale days, up to `limit` (None: all) or the time budget, and queue a
    build for the rest. Today waits when it was built less than a minute ago. Each day is its
    own transaction, so a long build holds no lock on the others."""
    zone = ZoneInfo(timezone)
    now = now or datetime.now(UTC)
    deadline = time.monotonic() + BUILD_TIME_BUDGET.total_seconds()
    built: list[date] = []
    later: timedelta | None = None
    for day, built_at in await service.stale_days(db, project_id):
        wait = service.hot_day_wait(zone, day, built_at, now)
        if wait is not None:
            later = wait
            continue
        if limit is not None and (len(built) >= limit or time.monotonic() > deadline):
            later = timedelta(0)
            break
        await service.build_day(db, project_id, day, zone)
        built.append(day)
        await db.commit()
    if later is not None:
        await service.build_later(db, project_id, later)
        await db.commit()
    return built


async def rebuild(db: AsyncSession, project_id: str, timezone: str, start: datetime,
                  end: datetime) -> list[date]:
    """Mark the days of [start, end] stale and build them now (after a bulk load)."""
    await service.mark_stale(db, project_id, timezone, start, end)
    await db.commit()
    await service.analyze_tables(db)
    return await build_stale_days(db, project_id, timezone, limit=None)


async def build_rollups(engine: AsyncEngine, db: AsyncSession, job: ClaimedJob) -> dict[str, Any]:
    project = await projects.get_project(db, job.project_id)
    days = await build_stale_days(db, job.project_id, project.timezone)
    return {"days": [day.isoformat() for day in days]}
