"""A durable, leased, fair job queue in PostgreSQL.

A worker claims a job with a lease and renews it while the job runs; a job whose worker died
is claimed again once its lease expires (tasks upsert, so doing one twice is harmless, and only
the current lease holder records an outcome). A failing job is retried with a growing delay, at
most `max_attempts` times, then ends as `failed` with its error kept for operators. Projects take
turns, so one project's backlog cannot starve the others. Finished jobs are purged after their
retention.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sightline.db import after_commit
from sightline.models import Job
from sightline.problems import RateLimited
from sightline.settings import WorkerSettings
from sightline.state import AppState
from sightline.worker import queries

log = structlog.get_logger()
PURGE_BATCH = 10_000


@dataclass(frozen=True)
class ClaimedJob:
    project_id: str
    id: int
    task: str
    payload: dict[str, Any]
    attempts: int
    token: str = ""


TaskFunction = Callable[[AsyncEngine, AsyncSession, ClaimedJob], Awaitable[dict[str, Any]]]


async def wake_worker(state: AppState) -> None:
    state.job_signal.set()


async def enqueue(db: AsyncSession, project_id: str, task: str, payload: dict[str, Any]) -> int:
    """Queue a job; a worker in this process is woken once the request has committed."""
    job_id = int((await db.execute(queries.insert_job(project_id, task, payload))).scalar_one())
    after_commit(db, wake_worker)
    return job_id


async def enqueue_within_quota(db: AsyncSession, project_id: str, task: str,
                               payload: dict[str, Any], pending_limit: int) -> int:
    """Queue a job unless the project already has `pending_limit` of this task pending (429)."""
    pending = (await db.execute(queries.COUNT_PENDING,
                                {"project_id": project_id, "task": task})).scalar_one()
    if pending >= pending_limit:
        raise RateLimited(f"At most {pending_limit} pending jobs of this kind per project; "
                          "retry when one is done", retry_after=5)
    return await enqueue(db, project_id, task, payload)


async def enqueue_pending(db: AsyncSession, project_id: str, task: str, payload: dict[str, Any],
                          delay: timedelta) -> None:
    """Queue a job to run after `delay`, unless one of `task` is already queued for the project
    (a burst of requests shares one job)."""
    await db.execute(queries.insert_pending_job(project_id, task, payload, delay))
    after_commit(db, wake_worker)


async def hurry(db: AsyncSession, project_id: str, task: str) -> None:
    """Make the project's queued job of `task` due now."""
    await db.execute(queries.HURRY_PENDING, {"project_id": project_id, "task": task})


async def load_job(db: AsyncSession, project_id: str, job_id: int) -> Job | None:
    return (await db.execute(queries.select_job(project_id, job_id))).scalar_one_or_none()


async def claim(sessionmaker: async_sessionmaker[AsyncSession],
                settings: WorkerSettings) -> ClaimedJob | None:
    token = uuid.uuid4().hex
    async with sessionmaker() as db:
        await db.execute(queries.FAIL_ABANDONED, {"max_attempts": settings.max_attempts})
        row = (await db.execute(queries.CLAIM_NEXT,
                                {"token": token, "lease": settings.lease})).first()
        await db.commit()
    return ClaimedJob(*row, token=token) if row else None


async def renew_lease(sessionmaker: async_sessionmaker[AsyncSession], job: ClaimedJob,
                      settings: WorkerSettings) -> None:
    """Renew the lease until cancelled; return when it was lost (another worker has the job)."""
    params = {"project_id": job.project_id, "id": job.id, "token": job.token,
              "lease": settings.lease}
    while True:
        await asyncio.sleep(settings.heartbeat.total_seconds())
        try:
            async with sessionmaker() as db:
                renewed = (await db.execute(queries.RENEW_LEASE, params)).rowcount  # type: ignore[attr-defined]
                await db.commit()
        except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease has slack
            log.warning("job.renew_failed", task_id=job.id, exc_info=True)
            continue
        if renewed == 0:
            return


async def record(db: AsyncSession, statement: Any, job: ClaimedJob, **values: Any) -> bool:
    """Record an outcome if this worker still holds the lease."""
    params = {"project_id": job.project_id, "id": job.id, "token": job.token, **values}
    recorded = (await db.execute(statement, params)).rowcount  # type: ignore[attr-defined]
    await db.commit()
    return bool(recorded)


async def execute(engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                  tasks: dict[str, TaskFunction], job: ClaimedJob,
                  settings: WorkerSettings) -> None:
    bound = log.bind(task=job.task, task_id=job.id, project_id=job.project_id,
                     attempt=job.attempts)
    async with sessionmaker() as db:
        work = asyncio.ensure_future(tasks[job.task](engine, db, job))
        lease = asyncio.ensure_future(renew_lease(sessionmaker, job, settings))
        lease.add_done_callback(lambda _: work.cancel())
        try:
            result = await work
        except asyncio.CancelledError:
            if not lease.done() or lease.cancelled():
                raise
            await db.rollback()
            bound.warning("job.lease_lost")
            return
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the worker
            await db.rollback()
            await record_failure(db, job, settings, exc, bound)
            return
        finally:
            lease.cancel()
        if await record(db, queries.FINISH_JOB, job, result=orjson.dumps(result).decode()):
            bound.info("job.done")
        else:
            bound.warning("job.lease_lost")


async def record_failure(db: AsyncSession, job: ClaimedJob, settings: WorkerSettings,
                         exc: Exception, bound: Any) -> None:
    error = f"{type(exc).__name__}: {exc}"
    retry = job.attempts < settings.max_attempts
    if retry:
        delay = settings.retry_delay * 2 ** (job.attempts - 1)
        await record(db, queries.RETRY_JOB, job, error=error, delay=delay)
    else:
        await record(db, queries.FAIL_JOB, job, error=error)
    bound.warning("job.failed", error=error, retry=retry)


async def run_one(engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                  tasks: dict[str, TaskFunction],
                  settings: WorkerSettings | None = None) -> bool:
    """Claim and run one job; False when no job is runnable."""
    settings = settings or WorkerSettings()
    job = await claim(sessionmaker, settings)
    if job is None:
        return False
    await execute(engine, sessionmaker, tasks, job, settings)
    return True


async def purge_finished(sessionmaker: async_sessionmaker[AsyncSession],
                         settings: WorkerSettings) -> int:
    """Delete finished jobs past their retention; returns how many."""
    params = {"done_retention": settings.done_retention,
              "failed_retention": settings.failed_retention, "batch": PURGE_BATCH}
    purged = 0
    async with sessionmaker() as db:
        while True:
            deleted = (await db.execute(queries.PURGE_FINISHED, params)).rowcount  # type: ignore[attr-defined]
            await db.commit()
            purged += deleted
            if deleted < PURGE_BATCH:
                return purged
