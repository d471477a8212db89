"""The scale-out stack, started once for the cluster tests (`pytest -m cluster`): a PostgreSQL
primary and streaming replica, a Redis Cluster, two API servers (the first with two worker
processes) and two job workers, all reading the same settings."""

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from sightline.migrate import upgrade_to_head
from sightline.projects.schemas import ProjectCreated
from sightline.projects.service import create_project
from sightline.settings import Settings
from sightline.db import create_engine, make_sessionmaker
from tests.cluster.servers import Postgres, Process, RedisCluster, free_ports, wait_for

RATE_PER_SECOND, BURST = 1, 200
WEBHOOK_SECRET = "whsec_" + "c2lnaHRsaW5lLXRlc3Qtc2VjcmV0LWtleQ=="


@dataclass
class Stack:
    primary: Postgres
    replica: Postgres
    redis: RedisCluster
    apis: list[str]  # base URLs
    servers: list[Process]
    workers: list[Process]
    logs: Path

    @property
    def database_url(self) -> str:
        return self.primary.url("sightline")


def environment(primary: Postgres, replica: Postgres, redis: RedisCluster) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SIGHTLINE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "SIGHTLINE_ENVIRONMENT": "production",
        "SIGHTLINE_DATABASE_URL": primary.url("sightline"),
        "SIGHTLINE_DATABASE_READ_URLS": replica.url("sightline"),
        "SIGHTLINE_REDIS_URL": redis.url,
        "SIGHTLINE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SIGHTLINE_LOG_JSON": "true",
        "SIGHTLINE_DATABASE__POOL_SIZE": "4",
        "SIGHTLINE_REPLICAS__POOL_SIZE": "4",
        "SIGHTLINE_REPLICAS__MAX_LAG": "PT3S",
        "SIGHTLINE_RATE_LIMIT__REQUESTS_PER_SECOND": str(RATE_PER_SECOND),
        "SIGHTLINE_RATE_LIMIT__BURST": str(BURST),
        "SIGHTLINE_CACHE__SOCKET_TIMEOUT": "0.5",
    })
    return env


async def create_database(primary: Postgres) -> None:
    engine = create_async_engine(primary.url(), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("CREATE DATABASE sightline"))
    await engine.dispose()


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    logs = Path(tempfile.mkdtemp(prefix="sightline-cluster-logs-"))
    started: list[object] = []
    try:
        primary = Postgres.primary()
        started.append(primary)
        asyncio.run(create_database(primary))
        upgrade_to_head(primary.url("sightline"))
        replica = primary.replica()
        started.append(replica)
        redis = RedisCluster.start()
        started.append(redis)
        env = environment(primary, replica, redis)
        ports = free_ports(2)
        servers = [Process(["serve", "--port", str(ports[0]), "--workers", "2"], env,
                           logs / "api-1.log"),
                   Process(["serve", "--port", str(ports[1]), "--workers", "1"], env,
                           logs / "api-2.log")]
        workers = [Process(["worker"], env, logs / f"worker-{n}.log") for n in (1, 2)]
        for process in (*servers, *workers):
            process.start()
            started.append(process)
        apis = [f"http://127.0.0.1:{port}" for port in ports]
        for base in apis:
            wait_for(lambda base=base: ready(base), f"the API at {base}", seconds=90)
        assert all(worker.alive() for worker in workers)
        yield Stack(primary, replica, redis, apis, servers, workers, logs)
    finally:
        for thing in reversed(started):
            if isinstance(thing, Process):
                thing.stop()
            elif isinstance(thing, RedisCluster):
                thing.stop()
            elif isinstance(thing, Postgres):
                thing.remove()
        if not os.environ.get("SIGHTLINE_TEST_KEEP_LOGS"):
            shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
async def make_cluster_project(stack: Stack) -> AsyncIterator[object]:
    """Projects created on the primary, as `sightline project create` does."""
    engine = create_engine(stack.database_url, Settings(database_url=stack.database_url))

    async def make(name: str = "Scale") -> ProjectCreated:
        async with make_sessionmaker(engine)() as db:
            created = await create_project(db, name, "UTC")
            await db.commit()
            return created

    yield make
    await engine.dispose()


@pytest.fixture
async def clients(stack: Stack) -> AsyncIterator[list[httpx.AsyncClient]]:
    opened = [httpx.AsyncClient(base_url=base, timeout=30) for base in stack.apis]
    yield opened
    for client in opened:
        await client.aclose()
