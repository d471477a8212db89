"""Reports: a stats query computed in the background by a worker, fetched when done."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sightline.problems import NotFound
from sightline.projects import service as projects
from sightline.reports.schemas import ReportCreate, ReportOut
from sightline.reports.tasks import EXPORT_TASK
from sightline.stats import service as stats
from sightline.stats.params import parse_query
from sightline.worker import queue


FAILED = "The report could not be computed; operators can look it up by its id"


async def request_report(db: AsyncSession, project_id: str, body: ReportCreate,
                         pending_limit: int) -> ReportOut:
    """Queue a report; a project has at most `pending_limit` queued or running (else 429)."""
    project = await projects.get_project(db, project_id)
    report, items = stats.query_object_items(body.query)
    parse_query(report, items, project.timezone, datetime.now(UTC))  # 400 now, not in the worker
    job_id = await queue.enqueue_within_quota(db, project_id, EXPORT_TASK, {"query": body.query},
                                              pending_limit)
    return ReportOut(id=job_id, status="queued", query=body.query)


async def get_report(db: AsyncSession, project_id: str, report_id: int) -> ReportOut:
    job = await queue.load_job(db, project_id, report_id)
    if job is None or job.task != EXPORT_TASK:
        raise NotFound(f"Report {report_id} not found")
    return ReportOut(id=job.id, status=job.status, query=job.payload["query"], result=job.result,
                     error=FAILED if job.status == "failed" else None)
