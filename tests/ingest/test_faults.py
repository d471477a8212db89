"""Faults under ingest, against real servers the tests start: a SIGTERM while batches are in
flight, a PostgreSQL (of the test's own) restarted. An acknowledged event is never lost."""

import asyncio
import os
import signal
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from sightline.cli import in_session
from sightline.migrate import upgrade_to_head
from sightline.projects.service import create_project
from tests import services
from tests.factories import auth, make_event, make_project

STORED_IDS = text("SELECT event_id FROM event WHERE project_id = :p")


def batch(prefix: str, size: int) -> list[dict[str, object]]:
    return [make_event(id=f"{prefix}-{i}", visitor_id=f"{prefix}-{i % 97}") for i in range(size)]


async def stored_ids(database_url: str, project_id: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return set((await conn.execute(STORED_IDS, {"p": project_id})).scalars())
    finally:
        await engine.dispose()


ACTIVE_INGEST = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     " AND state = 'active' AND application_name = 'sightline'")


async def storing(database_url: str, tasks: list[asyncio.Task], timeout: float = 60) -> None:
    """Wait until the server runs an ingest statement (or a batch was answered already)."""
    engine = create_async_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        async with engine.connect() as conn:
            while not (await conn.execute(ACTIVE_INGEST)).scalar():
                if any(task.done() for task in tasks):
                    return
                assert time.monotonic() < deadline, "no batch reached the database"
                await asyncio.sleep(0.01)
    finally:
        await engine.dispose()


async def post(http: httpx.AsyncClient, key: str, events: list[dict[str, object]]) -> int | None:
    """The status, or None when the request never reached a server (nothing acknowledged)."""
    try:
        return (await http.post("/api/v1/events", json=events, headers=auth(key))).status_code
    except httpx.TransportError:
        return None


async def test_sigterm_lets_batches_in_flight_finish(database_url, redis_url, db):
    project = await make_project(db)
    batches = {f"b{n}": batch(f"b{n}", 2000) for n in range(6)}
    with services.served(database_url, redis_url) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=120) as http:
            sending = {name: asyncio.create_task(post(http, project.keys.ingest, events))
                       for name, events in batches.items()}
            await storing(database_url, list(sending.values()))  # batches are being stored
            os.killpg(server.process.pid, signal.SIGTERM)
            statuses = {name: await task for name, task in sending.items()}
            server.process.wait(timeout=60)
    assert set(statuses.values()) <= {202, None}, statuses
    assert 202 in statuses.values(), statuses  # batches in flight finished
    acknowledged = {e["id"] for name, status in statuses.items() if status == 202
                    for e in batches[name]}
    assert acknowledged <= await stored_ids(database_url, project.id)


@pytest.fixture
def own_postgres():
    postgres = services.EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="sightline-pg-")))
    yield postgres
    postgres.close()


async def test_postgres_restarted_under_ingest_is_503_and_loses_nothing(own_postgres, redis_url,
                                                                        settings):
    url = own_postgres.url()
    await asyncio.to_thread(upgrade_to_head, url)
    project = await in_session(url, settings, lambda db: create_project(db, "Restart", "UTC"))
    statuses: dict[str, int | None] = {}
    with services.served(url, redis_url) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            async def send(until: float) -> None:
                n = len(statuses)
                while time.monotonic() < until:
                    name = f"r{n}"
                    statuses[name] = await post(http, project.keys.ingest, batch(name, 50))
                    n += 1

            await send(time.monotonic() + 1)
            await asyncio.to_thread(own_postgres.stop)
            await send(time.monotonic() + 1)
            await asyncio.to_thread(own_postgres.start)
            await send(time.monotonic() + 3)
            assert statuses[max(statuses, key=lambda name: int(name[1:]))] == 202
    counts = {status: list(statuses.values()).count(status) for status in set(statuses.values())}
    assert set(counts) <= {202, 503}, counts  # never a 500, never a dropped connection
    assert counts.get(503) and counts.get(202), counts
    acknowledged = {f"{name}-{i}" for name, status in statuses.items() if status == 202
                    for i in range(50)}
    assert acknowledged <= await stored_ids(url, project.id)
