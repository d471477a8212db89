"""Cache stamps after commit: a service that changes data registers what changed on its session,
and the cache learns it once the transaction is committed (sightline.db.after_commit), never
before (a reader could cache the old numbers as new) nor after a rollback. With read replicas,
the primary's WAL position is recorded first, so that a read following the stamp waits for a
replica that has the change (sightline.replicas.router)."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from sightline.db import after_commit
from sightline.replicas.router import record_position
from sightline.state import AppState

if TYPE_CHECKING:
    from sightline.ingest.service import TimeSpan


def events_committed(db: AsyncSession, project_id: str, touched: "TimeSpan | None") -> None:
    """Events were stored; `touched` spans every instant whose derived data changed (None:
    nothing changed, e.g. a batch of duplicates)."""
    async def stamp(state: AppState) -> None:
        if touched is not None:
            await record_position(state, project_id)
        await state.cache.events_committed(project_id, touched)

    after_commit(db, stamp)


def data_changed(db: AsyncSession, project_id: str, start: datetime, end: datetime) -> None:
    async def stamp(state: AppState) -> None:
        await record_position(state, project_id)
        await state.cache.data_changed(project_id, start, end)

    after_commit(db, stamp)


def project_changed(db: AsyncSession, project_id: str) -> None:
    """Something every result of the project may depend on changed (goals, an outside edit)."""
    async def stamp(state: AppState) -> None:
        await record_position(state, project_id)
        await state.cache.project_changed(project_id)

    after_commit(db, stamp)


def project_edited(db: AsyncSession, project_id: str) -> None:
    """The project's name or zone changed: its cached row and every cached result go."""
    async def stamp(state: AppState) -> None:
        state.project_cache.discard_where(lambda pid, _: pid == project_id)
        await state.cache.project_changed(project_id)

    after_commit(db, stamp)


def project_deleted(db: AsyncSession, project_id: str) -> None:
    """The project and its keys are gone: forget them in this process, drop its entries."""
    async def stamp(state: AppState) -> None:
        state.project_cache.discard_where(lambda pid, _: pid == project_id)
        state.key_cache.discard_where(lambda _, principal: principal.project_id == project_id)
        await state.cache.forget_project(project_id)

    after_commit(db, stamp)
