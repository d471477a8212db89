"""Test fixtures: one migrated database per test worker, the real app, real Redis.

Every test works in projects of its own, and every table is keyed by project, so tests never
see each other's data; nothing is mocked and commits are real (durability is tested too).
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from sightline.app import create_app
from sightline.db import make_sessionmaker
from sightline.migrate import upgrade_to_head
from sightline.settings import CollectSettings, RateLimitSettings, Settings
from tests import services, tenancy


ADMIN_TOKEN = "sightline-test-instance-admin-token"
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:8]


def worker_database_name() -> str:
    """One database per test worker and run, so concurrent runs never drop each other's."""
    return f"sightline_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{RUN_ID}"


async def run_admin(admin_url: str, *statements: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    await engine.dispose()


def migrated_database(name: str) -> Iterator[str]:
    """Create the database `name`, migrate it to head, yield its URL, drop it."""
    admin_url = services.admin_database_url()
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(run_admin(admin_url, drop, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    yield url
    asyncio.run(run_admin(admin_url, drop))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    yield from migrated_database(worker_database_name())


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url, process = services.redis_url()
    yield url
    if process is not None:
        process.terminate()


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(environment="test", database_url=database_url, redis_url=redis_url,
                    data_dir=tmp_path_factory.mktemp("data"),
                    webhook_secret="whsec_" + "c2lnaHRsaW5lLXRlc3Qtc2VjcmV0LWtleQ==",
                    admin_token=ADMIN_TOKEN,
                    rate_limit=RateLimitSettings(requests_per_second=1e9, burst=10**9),
                    collect=CollectSettings(address_rate=1e9, address_burst=10**9,
                                            site_rate=1e9, site_burst=10**9))


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture(scope="session")
def engine(app: object) -> AsyncEngine:
    return app.state.engine  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as session:
        yield session



@pytest.fixture(scope="session", autouse=True)
def product_statements() -> Iterator[None]:
    """Record every data statement the product sends while this test process runs, and check
    at the end that each one constrains every tenant table by project (Citus readiness)."""
    recorded: set[str] = set()

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if tenancy.is_product_statement(statement):
            recorded.add(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield
    event.remove(Engine, "before_cursor_execute", record)
    if problems := tenancy.unscoped(recorded):
        pytest.fail("statements that do not constrain every table by project_id:\n"
                    + "\n\n".join(problems), pytrace=False)
