"""Many identical requests on a cold key run the database query once: within a process (one
future) and across processes (a Redis lock), with no database connection held while waiting."""

import asyncio
from collections import Counter

from httpx import ASGITransport, AsyncClient

from tests.cache.conftest import cache_settings, running_app
from tests.factories import auth, make_event, make_project, send_events

SLOW = {"date_from": "2024-03-01", "date_to": "2024-03-31", "delay": "0.3"}


def client_of(app) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


async def burst(client: AsyncClient, project, n: int) -> list:
    url = f"/api/v1/projects/{project.id}/test-cache/count"
    return await asyncio.gather(*(client.get(url, params=SLOW, headers=auth(project.keys.read))
                                  for _ in range(n)))


async def test_hundred_concurrent_misses_query_once(capp, db):
    project = await make_project(db)
    async with client_of(capp) as client:
        await send_events(client, project, [make_event()])
        before = capp.state.queries.count
        responses = await burst(client, project, 100)
    assert capp.state.queries.count - before == 1
    assert {r.status_code for r in responses} == {200}
    assert {r.content for r in responses} == {responses[0].content}
    assert responses[0].json()["results"] == {"events": 1}


async def test_thousand_concurrent_misses_query_once_and_do_not_exhaust_the_pool(capp, db):
    project = await make_project(db)
    pool = capp.state.engine.pool
    async with client_of(capp) as client:
        await send_events(client, project, [make_event()])
        before = capp.state.queries.count
        responses = await burst(client, project, 1000)
    assert capp.state.queries.count - before == 1
    assert Counter(r.status_code for r in responses) == {200: 1000}
    assert pool.checkedout() == 0


async def test_concurrent_misses_across_processes_query_once(settings, redis_url, capp, db):
    """Three app instances (as three worker processes would be: each its own in-process state)
    share one Redis; 3 x 100 concurrent identical requests run the query once in all."""
    shared = cache_settings(settings, redis_url, socket_timeout=1.0)
    project = await make_project(db)
    async with (running_app(shared) as one, running_app(shared) as two,
                running_app(shared) as three):
        apps = (one, two, three)
        clients = [client_of(app) for app in apps]
        await send_events(clients[0], project, [make_event()])
        responses = [r for batch in await asyncio.gather(*(burst(c, project, 100) for c in clients))
                     for r in batch]
        for client in clients:
            await client.aclose()
        assert sum(app.state.queries.count for app in apps) == 1
    assert Counter(r.status_code for r in responses) == {200: 300}
    assert {r.json()["results"]["events"] for r in responses} == {1}
    assert {r.headers["x-cache"] for r in responses} <= {"MISS", "HIT"}


async def test_a_change_during_a_shared_computation_is_not_hidden(capp, db):
    """A request arriving after an ingest's 202 must not get a result computed before it."""
    project = await make_project(db)
    async with client_of(capp) as client:
        early = asyncio.create_task(burst(client, project, 5))
        await asyncio.sleep(0.1)  # the early computation is running (pg_sleep 0.3)
        await send_events(client, project, [make_event()])
        late = await burst(client, project, 5)
        await early
    assert {r.json()["results"]["events"] for r in late} == {1}
