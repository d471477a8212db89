"""Background report tasks: computed by workers over the stats service, with no SQL of their own."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from sightline.projects import service as projects
from sightline.stats import service as stats
from sightline.stats.params import parse_query
from sightline.worker.queue import ClaimedJob

EXPORT_TASK = "reports.export"


async def export_report(engine: AsyncEngine, db: AsyncSession, job: ClaimedJob) -> dict[str, Any]:
    project = await projects.get_project(db, job.project_id)
    now = datetime.now(UTC)
    report, items = stats.query_object_items(job.payload["query"])
    query = parse_query(report, items, project.timezone, now)
    data = await stats.compute(engine, project, query, now)
    return {**data, "computed_at": now.isoformat()}


TASKS = {EXPORT_TASK: export_report}
