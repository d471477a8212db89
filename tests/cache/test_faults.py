"""Redis stopped, paused or slow: requests still succeed from the database, wait on Redis only
a few milliseconds (short timeouts, circuit breaker), the cache comes back by itself, and a
change recorded while Redis was unreachable is never hidden by an entry from before.

Real redis-server processes, stopped with SIGKILL, paused with SIGSTOP or CLIENT PAUSE."""

import asyncio
import math
import re
import statistics
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from httpx import ASGITransport, AsyncClient

from tests import services
from tests.cache.conftest import cache_settings, running_app
from tests.factories import auth, make_event, make_project, send_events

MARCH = {"date_from": "2024-03-01", "date_to": "2024-03-31"}


@pytest.fixture
async def fault_settings(settings, own_redis):
    return cache_settings(settings, own_redis.url, breaker_reset=timedelta(milliseconds=200))


@pytest.fixture
async def fapp(fault_settings) -> AsyncIterator[object]:
    async with running_app(fault_settings) as app:
        yield app


def client_of(app) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


async def get(client, project):
    response = await client.get(f"/api/v1/projects/{project.id}/test-cache/count", params=MARCH,
                                headers=auth(project.keys.read))
    assert response.status_code == 200, response.text
    return response


def cache_ms(response) -> float:
    return float(re.search(r"cache;dur=([\d.]+)", response.headers["server-timing"]).group(1))


async def until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def serves_hits(client, project) -> bool:
    await get(client, project)
    return (await get(client, project)).headers["x-cache"] == "HIT"


async def degraded_requests(client, project, n: int = 40) -> list[float]:
    waits = []
    for _ in range(n):
        response = await get(client, project)
        assert response.headers["x-cache"] == "MISS"
        assert response.json()["results"] == {"events": 1}
        waits.append(cache_ms(response))
    return waits


async def test_stopped_redis_serves_from_the_database_and_comes_back(fapp, own_redis, db):
    project = await make_project(db)
    async with client_of(fapp) as client:
        await send_events(client, project, [make_event()])
        assert await serves_hits(client, project)
        own_redis.stop()

        waits = await degraded_requests(client, project)
        assert statistics.median(waits) < 2 and statistics.mean(waits) < 10, waits
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "degraded", "checks": {
            "database": "ok", "cache": "degraded", "cache_backend": "redis"}}
        metrics = (await client.get("/metrics")).text
        assert "sightline_cache_degraded 1.0" in metrics
        assert re.search(r'sightline_cache_errors_total\{operation="lookup"\} [1-9]', metrics)

        own_redis.start()
        await until(lambda: serves_hits(client, project))
        assert (await client.get("/readyz")).json()["checks"]["cache"] == "ok"
        assert "sightline_cache_degraded 0.0" in (await client.get("/metrics")).text


async def test_paused_redis_costs_at_most_a_timeout_before_the_breaker_opens(fapp, own_redis, db):
    project = await make_project(db)
    async with client_of(fapp) as client:
        await send_events(client, project, [make_event()])
        assert await serves_hits(client, project)
        own_redis.pause()
        started = time.monotonic()
        try:
            waits = await degraded_requests(client, project)
        finally:
            own_redis.resume()
        cache = fapp.state.settings.cache
        timeout_ms = cache.socket_timeout * 1000
        # the failures that open the breaker, then at most one probe per reset period
        probes = math.ceil((time.monotonic() - started) / cache.breaker_reset.total_seconds())
        assert max(waits) < timeout_ms * 2 + 20, waits
        assert statistics.median(waits) < 2, waits
        assert sum(w > timeout_ms / 2 for w in waits) <= cache.breaker_threshold + probes, waits
        await until(lambda: serves_hits(client, project))


async def test_slow_redis_is_skipped_then_used_again(fapp, own_redis, db):
    project = await make_project(db)
    async with client_of(fapp) as client:
        await send_events(client, project, [make_event()])
        assert await serves_hits(client, project)
        subprocess.run([services.redis_binary().replace("redis-server", "redis-cli"),
                        "-p", str(own_redis.port), "CLIENT", "PAUSE", "1000"], check=True,
                       capture_output=True)
        started = time.monotonic()
        waits = await degraded_requests(client, project, n=20)
        assert time.monotonic() - started < 1.0  # all answered while Redis was still paused
        assert statistics.median(waits) < 2, waits
        await until(lambda: serves_hits(client, project))


async def test_a_change_lost_while_redis_was_paused_is_not_hidden_afterwards(
        settings, own_redis, db):
    """Redis keeps its data through a pause, so the old entry survives while its version bump
    was never sent (circuit open): the epoch bumped on recovery must make it invalid
    everywhere, also in an instance that saw no outage."""
    shared = cache_settings(settings, own_redis.url, breaker_reset=timedelta(seconds=1))
    project = await make_project(db)
    async with running_app(shared) as fapp, running_app(shared) as other, \
            client_of(fapp) as client, client_of(other) as other_client:
        await send_events(client, project, [make_event()])
        assert await serves_hits(client, project)
        assert await serves_hits(other_client, project)

        own_redis.pause()
        try:
            while not fapp.state.cache.breaker.open:
                await get(client, project)
            await send_events(client, project, [make_event(timestamp="2024-03-11T10:00:00+00:00")])
            assert fapp.state.cache.lost_changes
            assert (await get(client, project)).json()["results"] == {"events": 2}
        finally:
            own_redis.resume()

        async def recovered() -> bool:
            return not fapp.state.cache.lost_changes

        await until(recovered)  # by itself, without a request to this instance
        seen_by_other = await get(other_client, project)
        assert seen_by_other.json()["results"] == {"events": 2}
        assert seen_by_other.headers["x-cache"] in ("MISS", "HIT")
        assert (await get(client, project)).json()["results"] == {"events": 2}
        assert await serves_hits(client, project)


async def test_a_blip_during_ingest_keeps_the_other_tenants_entries(settings, own_redis, db):
    """The lost change is recorded for its project when Redis is back: that project's entry is
    recomputed in every instance, another project's stays a hit."""
    shared = cache_settings(settings, own_redis.url, breaker_reset=timedelta(seconds=1))
    changed, untouched = await make_project(db), await make_project(db)
    async with running_app(shared) as fapp, running_app(shared) as other, \
            client_of(fapp) as client, client_of(other) as other_client:
        for project in (changed, untouched):
            await send_events(client, project, [make_event()])
            assert await serves_hits(other_client, project)

        own_redis.pause()
        try:
            while not fapp.state.cache.breaker.open:
                await get(client, changed)
            await send_events(client, changed,
                              [make_event(timestamp="2024-03-11T10:00:00+00:00")])
            assert fapp.state.cache.lost_changes
        finally:
            own_redis.resume()

        async def recovered() -> bool:
            return not fapp.state.cache.lost_changes

        await until(recovered)
        fresh = await get(other_client, changed)
        assert (fresh.json()["results"], fresh.headers["x-cache"]) == ({"events": 2}, "MISS")
        kept = await get(other_client, untouched)
        assert (kept.json()["results"], kept.headers["x-cache"]) == ({"events": 1}, "HIT")


async def test_concurrent_misses_share_one_computation_while_redis_is_down(fapp, own_redis, db):
    """With nothing to read the cache from, identical requests that arrived before a
    computation started share it (exact: it began after they arrived)."""
    project = await make_project(db)
    async with client_of(fapp) as client:
        await send_events(client, project, [make_event()])
        own_redis.stop()
        before = fapp.state.queries.count
        responses = await asyncio.gather(*(get(client, project) for _ in range(200)))
        assert fapp.state.queries.count - before == 1
        assert {r.json()["results"]["events"] for r in responses} == {1}
        await send_events(client, project, [make_event()])  # acknowledged: the next one sees it
        assert (await get(client, project)).json()["results"] == {"events": 2}
        own_redis.start()
