"""Worker task: rebuild the stale rollup days of one project."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from sightline.projects import service as projects
from sightline.rollups import service
from sightline.worker.queue import ClaimedJob

BUILD_TASK = "rollups.build"


async def build_rollups(engine: AsyncEngine, db: AsyncSession, job: ClaimedJob) -> dict[str, Any]:
    project = await projects.get_project(db, job.project_id)
    days = await service.build_stale_days(db, job.project_id, project.timezone)
    return {"days": [day.isoformat() for day in days]}
