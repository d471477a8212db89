"""`respond` through a real route: HIT/MISS/STALE/BYPASS, validators, freshness, tenancy."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from httpx import ASGITransport, AsyncClient

from sightline.cache import keys
from tests.factories import auth, make_event, make_project, send_events

MARCH = {"date_from": "2024-03-01", "date_to": "2024-03-31"}
FEBRUARY = {"date_from": "2024-02-01", "date_to": "2024-02-29"}


@pytest.fixture
async def http(capp) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=capp), base_url="http://test") as client:
        yield client


async def get(http, project, params=None, **headers):
    return await http.get(f"/api/v1/projects/{project.id}/test-cache/count",
                          params=params or MARCH, headers={**auth(project.keys.read), **headers})


async def test_miss_then_hit_serves_the_same_bytes_without_the_database(capp, http, db):
    project = await make_project(db)
    await send_events(http, project, [make_event()])
    before = capp.state.queries.count
    first = await get(http, project)
    second = await get(http, project)
    assert first.status_code == second.status_code == 200
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert second.content == first.content
    assert capp.state.queries.count - before == 1
    assert first.json()["results"] == {"events": 1}
    meta = first.json()["meta"]
    assert meta["date_from"] == "2024-03-01"
    assert datetime.fromisoformat(meta["computed_at"]) <= datetime.now(UTC)
    assert meta["watermark"] is not None and meta["data_version"] >= 1
    for response in (first, second):
        assert response.headers["etag"].startswith('W/"')
        assert response.headers["cache-control"] == "private, no-cache"
        assert int(response.headers["age"]) >= 0
        assert "cache;dur=" in response.headers["server-timing"]
        assert "db;dur=" in response.headers["server-timing"]


async def test_matching_if_none_match_gets_304_without_body(http, db):
    project = await make_project(db)
    etag = (await get(http, project)).headers["etag"]
    cached = await get(http, project, **{"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag and cached.headers["x-cache"] == "HIT"
    other = await get(http, project, **{"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200


async def test_no_cache_recomputes_and_refreshes(capp, http, db):
    project = await make_project(db)
    await get(http, project)
    await send_events(http, project, [make_event()])  # (MISS anyway; bypass must still compute)
    before = capp.state.queries.count
    bypass = await get(http, project, **{"Cache-Control": "no-cache"})
    assert bypass.headers["x-cache"] == "BYPASS"
    assert bypass.json()["results"] == {"events": 1}
    after = await get(http, project)
    assert after.headers["x-cache"] == "HIT" and after.content == bypass.content
    assert capp.state.queries.count - before == 1


async def test_new_events_invalidate_only_the_ranges_they_touch(http, db):
    project = await make_project(db)
    await send_events(http, project, [make_event()])  # 10 March
    assert (await get(http, project)).json()["results"] == {"events": 1}
    assert (await get(http, project, FEBRUARY)).headers["x-cache"] == "MISS"
    assert (await get(http, project)).headers["x-cache"] == "HIT"

    await send_events(http, project, [make_event(timestamp="2024-03-20T08:00:00+00:00")])
    march = await get(http, project)
    assert march.headers["x-cache"] == "MISS" and march.json()["results"] == {"events": 2}
    assert (await get(http, project, FEBRUARY)).headers["x-cache"] == "HIT"

    await send_events(http, project, [make_event(timestamp="2024-02-29T23:59:59+00:00")])
    assert (await get(http, project, FEBRUARY)).json()["results"] == {"events": 1}
    assert (await get(http, project)).headers["x-cache"] == "HIT"


async def test_duplicate_batch_changes_nothing(http, db):
    project = await make_project(db)
    await send_events(http, project, [make_event(id="same")])
    await get(http, project)
    await send_events(http, project, [make_event(id="same")])
    assert (await get(http, project)).headers["x-cache"] == "HIT"


async def test_two_projects_never_share_a_result(http, db):
    one, two = await make_project(db), await make_project(db)
    await send_events(http, one, [make_event(), make_event()])
    first = await get(http, one)
    second = await get(http, two)
    assert second.headers["x-cache"] == "MISS"
    assert first.json()["results"] == {"events": 2} and second.json()["results"] == {"events": 0}
    assert first.headers["etag"] != second.headers["etag"]
    key_one = keys.entry_key("", one.id, "stats.test", MARCH)
    assert key_one.startswith(f"stats:v1:{{{one.id}}}:")
    assert key_one != keys.entry_key("", two.id, "stats.test", MARCH)
    other_key = await http.get(f"/api/v1/projects/{one.id}/test-cache/count", params=MARCH,
                               headers=auth(two.keys.read))
    assert other_key.status_code == 404


async def test_goal_changes_invalidate_the_project(http, db):
    project = await make_project(db)
    await get(http, project)
    created = await http.post(f"/api/v1/projects/{project.id}/goals", headers=auth(project.keys.admin),
                              json={"name": "Signup", "event": "signup"})
    assert created.status_code == 201
    assert (await get(http, project)).headers["x-cache"] == "MISS"
    assert (await get(http, project)).headers["x-cache"] == "HIT"
    deleted = await http.delete(f"/api/v1/projects/{project.id}/goals/{created.json()['id']}",
                                headers=auth(project.keys.admin))
    assert deleted.status_code == 204
    assert (await get(http, project)).headers["x-cache"] == "MISS"


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_expired_entry_is_stale_while_one_request_refreshes(capp, http, db, monkeypatch):
    import asyncio
    import time

    clock = Clock(time.time())
    monkeypatch.setattr(capp.state.cache, "clock", clock)
    project = await make_project(db)
    first = await get(http, project)
    clock.now += capp.state.settings.cache.ttl.total_seconds() + 1
    before = capp.state.queries.count
    slow = {**MARCH, "delay": "0.3"}  # the refresh takes a while; the others must not wait
    # (the delay is a query parameter of the test route, not part of its cache key)
    results = await asyncio.gather(*(get(http, project, slow) for _ in range(20)))
    states = sorted(r.headers["x-cache"] for r in results)
    assert states == ["MISS"] + ["STALE"] * 19
    assert capp.state.queries.count - before == 1
    stale = next(r for r in results if r.headers["x-cache"] == "STALE")
    assert stale.content == first.content
    assert int(stale.headers["age"]) >= capp.state.settings.cache.ttl.total_seconds()
    assert (await get(http, project)).headers["x-cache"] == "HIT"

    clock.now += 10_000  # far past the grace period: never served
    assert (await get(http, project)).headers["x-cache"] == "MISS"


async def test_realtime_lives_five_seconds_at_most(capp, http, db, monkeypatch):
    import time

    clock = Clock(time.time())
    monkeypatch.setattr(capp.state.cache, "clock", clock)
    project = await make_project(db)
    params = {**MARCH, "kind": "stats.realtime"}
    assert (await get(http, project, params)).headers["x-cache"] == "MISS"
    clock.now += 4.5
    assert (await get(http, project, params)).headers["x-cache"] == "HIT"
    clock.now += 1
    assert (await get(http, project, params)).headers["x-cache"] == "MISS"  # not STALE


async def test_metrics_count_cache_outcomes_per_route_template(http, db):
    project = await make_project(db)
    await get(http, project)
    await get(http, project)
    text = (await http.get("/metrics")).text
    assert 'sightline_cache_results_total{kind="stats.test",result="hit"}' in text
    assert 'sightline_cache_results_total{kind="stats.test",result="miss"}' in text
    assert 'route="/api/v1/projects/{project_id}/test-cache/count"' in text
    assert project.id not in text
    assert "sightline_db_queries_per_request_bucket" in text
    assert "sightline_cache_degraded 0.0" in text
    ready = (await http.get("/readyz")).json()
    assert ready["checks"]["cache"] == "ok" and ready["status"] == "ready"
