"""Worker task: after a project's rollups are built, bring its segments up to date, one month
per job (a job that built one queues the next build, so other projects take turns)."""

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from sightline.projects import service as projects
from sightline.rollups import service as rollups
from sightline.rollups.tasks import build_rollups
from sightline.segments import service
from sightline.segments.duck import Duck
from sightline.worker.queue import ClaimedJob, TaskFunction

MONTHS_PER_BUILD = 1


def build_rollups_and_segments(duck: Duck | None) -> TaskFunction:
    async def build(engine: AsyncEngine, db: AsyncSession, job: ClaimedJob) -> dict[str, Any]:
        result = await build_rollups(engine, db, job)
        if duck is not None:
            project = await projects.get_project(db, job.project_id)
            months = await service.build_stale(engine, duck, job.project_id, project.timezone,
                                               limit=MONTHS_PER_BUILD)
            if months:
                await rollups.build_later(db, job.project_id, timedelta(0))
                await db.commit()
            result["segments"] = months
        return result
    return build
