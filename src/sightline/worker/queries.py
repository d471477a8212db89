"""SQL of the durable job queue (PostgreSQL, leases claimed with FOR UPDATE SKIP LOCKED)."""

from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Integer, Interval, Select, String, exists, func, insert, literal, select, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.dml import Insert

from sightline.models import Job

# A runnable job is queued and due, or running under a lease that expired (its worker died).
# Fairness: the project served least recently goes first (its oldest runnable job), so projects
# take turns however long one's backlog is; a project runs one job of a task at a time.
CLAIM_NEXT = text("""
WITH candidate AS (
    SELECT j.project_id, j.id, j.run_at, t.last_claimed_at
    FROM job j
    LEFT JOIN job_turn t ON t.project_id = j.project_id
    WHERE ((j.status = 'queued' AND j.run_at <= now())
           OR (j.status = 'running' AND j.lease_expires_at <= now()))
      AND NOT EXISTS (SELECT 1 FROM job r
                      WHERE r.project_id = j.project_id AND r.task = j.task
                        AND r.status = 'running' AND r.lease_expires_at > now())
), picked AS (
    SELECT job.project_id, job.id FROM job
    JOIN candidate c ON c.project_id = job.project_id AND c.id = job.id
    ORDER BY c.last_claimed_at NULLS FIRST, c.run_at, c.id
    LIMIT 1
    FOR UPDATE OF job SKIP LOCKED
), claimed AS (
    UPDATE job SET status = 'running', attempts = job.attempts + 1, lease_token = :token,
                   lease_expires_at = now() + CAST(:lease AS interval)
    FROM picked
    WHERE job.project_id = picked.project_id AND job.id = picked.id
      AND (job.status = 'queued' OR job.lease_expires_at <= now())
    RETURNING job.project_id, job.id, job.task, job.payload, job.attempts
), turn AS (
    INSERT INTO job_turn (project_id, last_claimed_at)
    SELECT project_id, clock_timestamp() FROM claimed
    ON CONFLICT (project_id) DO UPDATE SET last_claimed_at = excluded.last_claimed_at
)
SELECT * FROM claimed
""")

# A job whose worker died on its last attempt is not taken up again.
FAIL_ABANDONED = text("""
UPDATE job SET status = 'failed', finished_at = now(), lease_token = NULL,
               error = concat_ws(E'\\n', error, 'the worker stopped renewing its lease')
WHERE status = 'running' AND lease_expires_at <= now() AND attempts >= :max_attempts
""")

RENEW_LEASE = text("""
UPDATE job SET lease_expires_at = now() + CAST(:lease AS interval)
WHERE project_id = :project_id AND id = :id AND status = 'running' AND lease_token = :token
""")

# Every outcome is recorded only by the holder of the current lease.
FINISH_JOB = text("""
UPDATE job SET status = 'done', result = CAST(:result AS jsonb), finished_at = now(),
               error = NULL, lease_token = NULL
WHERE project_id = :project_id AND id = :id AND status = 'running' AND lease_token = :token
""")

RETRY_JOB = text("""
UPDATE job SET status = 'queued', error = :error, lease_token = NULL,
               run_at = now() + CAST(:delay AS interval)
WHERE project_id = :project_id AND id = :id AND status = 'running' AND lease_token = :token
""")

FAIL_JOB = text("""
UPDATE job SET status = 'failed', error = :error, finished_at = now(), lease_token = NULL
WHERE project_id = :project_id AND id = :id AND status = 'running' AND lease_token = :token
""")

PURGE_FINISHED = text("""
DELETE FROM job WHERE (project_id, id) IN (
    SELECT project_id, id FROM job
    WHERE (status = 'done' AND finished_at < now() - CAST(:done_retention AS interval))
       OR (status = 'failed' AND finished_at < now() - CAST(:failed_retention AS interval))
    LIMIT :batch
)
""")

COUNT_PENDING = text("""
SELECT count(*) FROM job
WHERE project_id = :project_id AND task = :task AND status IN ('queued', 'running')
""")


def insert_job(project_id: str, task: str, payload: dict[str, Any]) -> Insert:
    return (insert(Job).values(project_id=project_id, task=task, payload=payload, status="queued")
            .returning(Job.id))


def insert_pending_job(project_id: str, task: str, payload: dict[str, Any],
                       delay: timedelta) -> Insert:
    """A job to run after `delay`, unless the project already has one of `task` queued."""
    pending = select(Job.id).where(Job.project_id == project_id, Job.task == task,
                                   Job.status == "queued")
    row = select(literal(project_id, String), literal(task, String),
                 literal(payload, JSONB), literal("queued", String), literal(0, Integer),
                 func.now() + literal(delay, Interval)).where(~exists(pending))
    return insert(Job).from_select(
        ["project_id", "task", "payload", "status", "attempts", "run_at"], row)


# More work remains after a bounded run: the pending job of the task (if any) is due now.
HURRY_PENDING = text("""
UPDATE job SET run_at = now()
WHERE project_id = :project_id AND task = :task AND status = 'queued' AND run_at > now()
""")


def select_job(project_id: str, job_id: int) -> Select[tuple[Job]]:
    return select(Job).where(Job.project_id == project_id, Job.id == job_id)
