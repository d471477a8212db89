"""A database of the queue tests' own: its job table holds only the jobs a test queues, so a
test can run a whole worker (or kill one) without taking up other tests' jobs."""

from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from sightline.app import create_app
from sightline.settings import Settings, WorkerSettings
from tests.conftest import migrated_database, worker_database_name

FAST = WorkerSettings(lease="PT2S", heartbeat="PT0.5S", retry_delay="PT0S")


@pytest.fixture(scope="session")
def queue_database_url() -> Iterator[str]:
    yield from migrated_database(worker_database_name() + "_queue")


@pytest.fixture
async def queue_app(settings: Settings, queue_database_url: str) -> AsyncIterator[object]:
    """The app over the queue database; every job is deleted before and after the test."""
    app = create_app(settings.model_copy(update={"database_url": queue_database_url,
                                                 "worker": FAST}))
    async with app.router.lifespan_context(app):
        await clear_jobs(app)
        yield app
        await clear_jobs(app)


async def clear_jobs(app: object) -> None:
    async with app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        await connection.execute(text("DELETE FROM job"))


@pytest.fixture
async def queue_client(queue_app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=queue_app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def queue_db(queue_app: object) -> AsyncIterator[object]:
    async with queue_app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session
