"""Scale-out on real engines: reads follow writes across API processes through a streaming
replica, the rate limit holds across processes, metrics add up across workers, and neither a
Redis master failover, a lagging replica nor a stopped replica costs freshness or errors."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.cluster.conftest import BURST, RATE_PER_SECOND, Stack
from tests.factories import auth

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("cluster")]
DAY = datetime(2025, 1, 15, 12, tzinfo=UTC)
RANGE = {"date_from": "2025-01-15", "date_to": "2025-01-15"}
PAGES = "/api/v1/projects/{project_id}/stats/pages"


def batch(first: int, n: int) -> list[dict[str, object]]:
    return [{"id": f"e{i}", "name": "pageview", "visitor_id": f"v{i % 7}", "path": f"/p{i % 3}",
             "timestamp": (DAY + timedelta(seconds=i)).isoformat()} for i in range(first, first + n)]


async def ingest(client: httpx.AsyncClient, project, first: int, n: int) -> None:
    response = await client.post("/api/v1/events", json=batch(first, n),
                                 headers=auth(project.keys.ingest))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": n, "duplicates": 0}


async def pageviews(client: httpx.AsyncClient, project, **headers: str) -> int:
    response = await client.get(f"/api/v1/projects/{project.id}/stats/overview", params=RANGE,
                                headers={**auth(project.keys.read), **headers})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["pageviews"]["value"])


async def samples(client: httpx.AsyncClient, name: str) -> list[tuple[dict[str, str], float]]:
    exposition = (await client.get("/metrics")).text
    return [(s.labels, s.value) for family in text_string_to_metric_families(exposition)
            for s in family.samples if s.name == name]


async def reads(client: httpx.AsyncClient, target: str) -> float:
    return sum(v for labels, v in await samples(client, "sightline_database_reads_total")
               if labels["target"] == target)


async def replica_state(client: httpx.AsyncClient) -> str:
    checks = (await client.get("/readyz")).json()["checks"]
    return next(iter(checks["replicas"].values()))  # type: ignore[no-any-return]


async def test_every_read_reflects_the_batches_acknowledged_before_it(
        stack: Stack, clients, make_cluster_project):
    """Each batch goes to one API process; both processes read right after the 202."""
    project = await make_cluster_project()
    replica_reads = sum([await reads(client, "replica") for client in clients])
    sent = 0
    for round_ in range(12):
        await ingest(clients[round_ % 2], project, sent, 25)
        sent += 25
        assert [await pageviews(client, project) for client in clients] == [sent, sent]
    assert sum([await reads(client, "replica") for client in clients]) > replica_reads


async def test_metrics_add_up_across_the_worker_processes(stack: Stack, clients,
                                                          make_cluster_project):
    """The first API server runs two worker processes: every scrape, whichever process
    answers it, counts the requests both served."""
    project = await make_cluster_project()
    api = clients[0]

    async def served() -> float:
        return sum(v for labels, v in
                   await samples(api, "sightline_http_request_duration_seconds_count")
                   if labels["route"] == PAGES)

    before = await served()
    url = PAGES.format(project_id=project.id)
    responses = await asyncio.gather(*(api.get(url, params=RANGE, headers=auth(project.keys.read))
                                       for _ in range(30)))
    assert {r.status_code for r in responses} == {200}
    assert [await served() - before for _ in range(6)] == [30] * 6
    rotation = await samples(api, "sightline_replica_in_rotation")
    assert [value for _, value in rotation] == [1.0]


async def test_the_rate_limit_holds_across_api_processes(stack: Stack, clients,
                                                         make_cluster_project):
    """400 requests with one key, spread over three processes: about the burst pass, not the
    burst per process (which would let all of them through)."""
    project = await make_cluster_project()
    url = f"/api/v1/projects/{project.id}/goals"
    started = time.monotonic()
    responses = await asyncio.gather(*(clients[n % 2].get(url, headers=auth(project.keys.read))
                                       for n in range(400)))
    elapsed = time.monotonic() - started
    passed = sum(r.status_code == 200 for r in responses)
    limited = [r for r in responses if r.status_code == 429]
    assert passed + len(limited) == 400
    assert passed < 400, "every request passed: the limit is per process, not global"
    assert BURST - 10 <= passed <= BURST + RATE_PER_SECOND * elapsed + 10, (passed, elapsed)
    assert limited and all(int(r.headers["retry-after"]) >= 1 for r in limited)
    assert {r.headers["content-type"] for r in limited} == {"application/problem+json"}


async def test_a_redis_master_failover_under_load_loses_no_freshness(
        stack: Stack, clients, make_cluster_project):
    project, busy = await make_cluster_project(), await make_cluster_project()
    master = stack.redis.master_of("{" + project.id + "}")
    statuses: list[int] = []
    stop = asyncio.Event()

    async def load(client: httpx.AsyncClient) -> None:  # other traffic meanwhile
        url = PAGES.format(project_id=busy.id)
        while not stop.is_set():
            response = await client.get(url, params=RANGE, headers=auth(busy.keys.read))
            statuses.append(response.status_code)
            await asyncio.sleep(0.02)

    loaders = [asyncio.create_task(load(client)) for client in clients]
    sent, round_, killed_at, healed_at = 0, 0, None, None
    try:
        while healed_at is None or time.monotonic() < healed_at + 2:
            await ingest(clients[round_ % 2], project, sent, 10)
            sent += 10
            assert [await pageviews(client, project) for client in clients] == [sent, sent]
            round_ += 1
            if round_ == 3:
                master.kill()
                killed_at = time.monotonic()
            if killed_at and healed_at is None and stack.redis.healthy():
                healed_at = time.monotonic()
            assert time.monotonic() - (killed_at or time.monotonic()) < 60, "no failover"
    finally:
        stop.set()
        await asyncio.gather(*loaders)
    assert statuses and set(statuses) <= {200, 429}

    async def cached_again() -> bool:
        await pageviews(clients[0], project)
        response = await clients[0].get(f"/api/v1/projects/{project.id}/stats/overview",
                                        params=RANGE, headers=auth(project.keys.read))
        return response.headers["x-cache"] == "HIT"

    deadline = time.monotonic() + 30
    while not await cached_again():
        assert time.monotonic() < deadline, "the cache did not come back after the failover"
        await asyncio.sleep(0.5)
    assert await pageviews(clients[1], project) == sent


async def test_a_lagging_replica_leaves_rotation_and_reads_stay_fresh(
        stack: Stack, clients, make_cluster_project):
    project = await make_cluster_project()
    replica = create_async_engine(stack.replica.url("sightline"), isolation_level="AUTOCOMMIT")
    try:
        async with replica.connect() as conn:
            await conn.execute(text("SELECT pg_wal_replay_pause()"))
        sent = 0
        for round_ in range(4):
            await ingest(clients[round_ % 2], project, sent, 10)
            sent += 10
            assert [await pageviews(client, project, **{"Cache-Control": "no-cache"})
                     for client in clients] == [sent, sent]
        for client in clients:
            deadline = time.monotonic() + 30
            while await replica_state(client) != "lagging":
                await ingest(client, project, sent, 1)  # the primary moves on
                sent += 1
                assert time.monotonic() < deadline
                await asyncio.sleep(0.3)
        assert await pageviews(clients[0], project) == sent
    finally:
        async with replica.connect() as conn:
            await conn.execute(text("SELECT pg_wal_replay_resume()"))
        await replica.dispose()
    for client in clients:
        deadline = time.monotonic() + 30
        while await replica_state(client) != "ok":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.3)


async def test_a_stopped_replica_moves_reads_to_the_primary(stack: Stack, clients,
                                                            make_cluster_project):
    project = await make_cluster_project()
    before = sum([await reads(client, "primary") for client in clients])
    stack.replica.stop()
    sent = 0
    for round_ in range(6):
        await ingest(clients[round_ % 2], project, sent, 10)
        sent += 10
        assert [await pageviews(client, project) for client in clients] == [sent, sent]
    for client in clients:
        deadline = time.monotonic() + 30
        while await replica_state(client) != "unavailable":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.3)
        rotation = await samples(client, "sightline_replica_in_rotation")
        assert [value for _, value in rotation] == [0.0]
    assert sum([await reads(client, "primary") for client in clients]) > before
