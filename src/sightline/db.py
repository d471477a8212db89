"""Engines, sessions and the declarative Base."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from sightline.settings import Settings
from sightline.state import AppState, app_state

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, settings: Settings, **overrides: object) -> AsyncEngine:
    db = settings.database
    options: dict[str, object] = {
        "pool_size": db.pool_size,
        "max_overflow": db.max_overflow,
        "pool_timeout": db.pool_timeout,
        "pool_pre_ping": False,
        "connect_args": {
            "server_settings": {
                "statement_timeout": str(db.statement_timeout_ms),
                "application_name": "sightline",
                "jit": "off",
                # statements are prepared and cached per connection; after five runs PostgreSQL
                # may switch to one generic plan, which for the per-visitor LATERAL probes of
                # ingest scans whole projects (seconds per statement): always plan for the values
                "plan_cache_mode": "force_custom_plan",
            },
        },
    }
    options.update(overrides)
    return create_async_engine(url, **options)  # type: ignore[arg-type]


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


AfterCommit = Callable[["AppState"], Awaitable[None]]
HOOKS = "after_commit"


def after_commit(db: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the request's transaction has committed: cache stamps and worker
    wake-ups must not announce what a rollback would undo. Nothing runs when it rolls back, nor
    outside a request (tasks and the CLI own their transactions)."""
    hooks: list[AfterCommit] | None = db.info.get(HOOKS)
    if hooks is not None:
        hooks.append(hook)


@asynccontextmanager
async def unit_of_work(state: AppState) -> AsyncIterator[AsyncSession]:
    """One session, committed at the end (rolled back on any error), then the after-commit
    hooks registered on it, in order. Services flush, never commit."""
    async with state.sessionmaker() as session:
        session.info[HOOKS] = []
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        for hook in session.info.pop(HOOKS):
            await hook(state)


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work (browser beacons share one through group commit)."""
    async with unit_of_work(app_state(request)) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
