"""A durable queue in PostgreSQL: jobs survive restarts; a crashed job is retried."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sightline.worker import queries

log = structlog.get_logger()
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ClaimedJob:
    project_id: str
    id: int
    task: str
    payload: dict[str, Any]
    attempts: int


TaskFunction = Callable[[AsyncEngine, AsyncSession, ClaimedJob], Awaitable[dict[str, Any]]]


async def enqueue(db: AsyncSession, project_id: str, task: str, payload: dict[str, Any]) -> int:
    return int((await db.execute(queries.insert_job(project_id, task, payload))).scalar_one())


async def claim(sessionmaker: async_sessionmaker[AsyncSession]) -> ClaimedJob | None:
    async with sessionmaker() as db:
        row = (await db.execute(queries.CLAIM_NEXT)).first()
        await db.commit()
    return ClaimedJob(*row) if row else None


async def run_one(engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                  tasks: dict[str, TaskFunction]) -> bool:
    """Claim and run one job; False when the queue is empty."""
    job = await claim(sessionmaker)
    if job is None:
        return False
    bound = log.bind(task=job.task, task_id=job.id, project_id=job.project_id)
    async with sessionmaker() as db:
        try:
            result = await tasks[job.task](engine, db, job)
            await db.execute(queries.finish_job(job.project_id, job.id, result))
            bound.info("job.done")
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the worker
            await db.rollback()
            retry = job.attempts < MAX_ATTEMPTS
            await db.execute(queries.retry_or_fail_job(job.project_id, job.id, str(exc), retry))
            bound.warning("job.failed", error=str(exc), retry=retry)
        await db.commit()
    return True
