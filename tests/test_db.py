"""The request's unit of work: the session dependency commits, then runs the after-commit hooks
the request registered; after a rollback, or outside a request, no hook runs."""

from types import SimpleNamespace

import pytest
from sqlalchemy import text

from sightline.db import after_commit, make_sessionmaker, session_dependency
from tests.factories import make_project

SELECT_NAME = text("SELECT name FROM project WHERE id = :id")
RENAME = text("UPDATE project SET name = :name WHERE id = :id")


def request_for(engine):  # type: ignore[no-untyped-def]
    state = SimpleNamespace(sessionmaker=make_sessionmaker(engine))
    return SimpleNamespace(app=SimpleNamespace(state=state))


async def test_hooks_run_after_the_commit_in_order(db, engine):
    project = await make_project(db)
    seen: list[str] = []

    async def hook(state) -> None:  # type: ignore[no-untyped-def]
        async with engine.connect() as other:  # another connection sees the committed change
            seen.append((await other.execute(SELECT_NAME, {"id": project.id})).scalar_one())

    async def second(state) -> None:  # type: ignore[no-untyped-def]
        seen.append("second")

    dependency = session_dependency(request_for(engine))  # type: ignore[arg-type]
    session = await anext(dependency)
    await session.execute(RENAME, {"id": project.id, "name": "Renamed"})
    after_commit(session, hook)
    after_commit(session, second)
    assert seen == []
    with pytest.raises(StopAsyncIteration):
        await anext(dependency)
    assert seen == ["Renamed", "second"]


async def test_no_hook_runs_after_a_rollback(db, engine):
    project = await make_project(db)
    ran: list[bool] = []

    async def hook(state) -> None:  # type: ignore[no-untyped-def]
        ran.append(True)

    dependency = session_dependency(request_for(engine))  # type: ignore[arg-type]
    session = await anext(dependency)
    await session.execute(RENAME, {"id": project.id, "name": "Lost"})
    after_commit(session, hook)
    with pytest.raises(RuntimeError):
        await dependency.athrow(RuntimeError("the endpoint failed"))
    assert ran == []
    assert (await db.execute(SELECT_NAME, {"id": project.id})).scalar_one() == "Test"


async def test_outside_a_request_registering_a_hook_does_nothing(db):
    async def hook(state) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError("no request, no hook")

    after_commit(db, hook)
    await db.commit()
