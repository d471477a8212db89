"""Group commit: beacons of one project that arrive together are stored in one transaction.

The first beacon of a project starts a drain task, which waits a tiny window, then stores and
commits everything that is waiting; beacons arriving meanwhile form the next batch. Every
waiter is answered only after its batch is committed and its after-commit hooks (cache stamps,
worker wake-up) have run: 202 means stored and visible, as for /events.
"""

import asyncio
import contextvars
from datetime import UTC, datetime, timedelta

import structlog

from sightline.db import unit_of_work
from sightline.ingest import service as ingest
from sightline.ingest.normalize import to_stored
from sightline.ingest.schemas import EventIn
from sightline.problems import ServiceUnavailable
from sightline.projects.schemas import ProjectOut
from sightline.state import AppState

log = structlog.get_logger()

Waiter = tuple[EventIn, asyncio.Future[None]]


class GroupCommit:
    def __init__(self, state: AppState, window: timedelta, max_events: int):
        self.state = state
        self.window = window.total_seconds()
        self.max_events = max_events
        self.waiting: dict[str, list[Waiter]] = {}
        self.draining: dict[str, asyncio.Task[None]] = {}

    async def store(self, project: ProjectOut, event: EventIn) -> None:
        """Return once the event is committed (raise when its batch could not be)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(project.id, []).append((event, done))
        if project.id not in self.draining:
            # a context of its own: the batch belongs to no single request (logs, metrics)
            self.draining[project.id] = asyncio.create_task(self.drain(project),
                                                            context=contextvars.Context())
        await asyncio.shield(done)  # a client that hangs up does not cancel its batch

    async def drain(self, project: ProjectOut) -> None:
        try:
            await asyncio.sleep(self.window)
            while batch := self.take(project.id):
                await self.commit(project, batch)
        finally:
            del self.draining[project.id]

    def take(self, project_id: str) -> list[Waiter]:
        waiting = self.waiting.pop(project_id, [])
        if len(waiting) > self.max_events:
            self.waiting[project_id] = waiting[self.max_events:]
        return waiting[:self.max_events]

    async def commit(self, project: ProjectOut, batch: list[Waiter]) -> None:
        session_timeout = self.state.settings.ingest.session_timeout
        try:
            now = datetime.now(UTC)  # each beacon carries its arrival time already
            stored = ingest.Batch([to_stored(event, now) for event, _ in batch], len(batch))
            async with unit_of_work(self.state) as db:
                await ingest.store_events(db, project, stored, session_timeout)
        except Exception as exc:  # noqa: BLE001 - every waiter gets a 503, the server goes on
            log.warning("collect.batch_failed", project_id=project.id, events=len(batch),
                        error=type(exc).__name__)
            for _, done in batch:
                if not done.done():
                    done.set_exception(ServiceUnavailable("The event could not be stored"))
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def close(self) -> None:
        """Let the batches under way finish (server shutdown)."""
        await asyncio.gather(*self.draining.values(), return_exceptions=True)
