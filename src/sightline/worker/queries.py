"""SQL of the durable job queue (PostgreSQL, FOR UPDATE SKIP LOCKED)."""

from typing import Any

from sqlalchemy import Select, Update, func, insert, select, text, update
from sqlalchemy.sql.dml import Insert

from sightline.models import Job

CLAIM_NEXT = text("""
UPDATE job SET status = 'running', attempts = attempts + 1
WHERE (project_id, id) = (
    SELECT project_id, id FROM job
    WHERE status = 'queued' AND run_at <= now()
    ORDER BY run_at, id
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING project_id, id, task, payload, attempts
""")


def insert_job(project_id: str, task: str, payload: dict[str, Any]) -> Insert:
    return (insert(Job).values(project_id=project_id, task=task, payload=payload, status="queued")
            .returning(Job.id))


def finish_job(project_id: str, job_id: int, result: dict[str, Any]) -> Update:
    return (update(Job).where(Job.project_id == project_id, Job.id == job_id)
            .values(status="done", result=result, finished_at=func.now(), error=None))


def retry_or_fail_job(project_id: str, job_id: int, error: str, retry: bool) -> Update:
    values: dict[str, Any] = {"error": error}
    if retry:
        values |= {"status": "queued", "run_at": func.now() + text("interval '5 seconds'")}
    else:
        values |= {"status": "failed", "finished_at": func.now()}
    return update(Job).where(Job.project_id == project_id, Job.id == job_id).values(**values)


def select_job(project_id: str, job_id: int) -> Select[tuple[Job]]:
    return select(Job).where(Job.project_id == project_id, Job.id == job_id)
