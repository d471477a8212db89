"""One contract for both backends (Redis and in-process memory), plus keys and the breaker."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient

from sightline.cache import keys
from sightline.cache.backends import CacheBackend, MemoryBackend, RedisBackend
from sightline.cache.breaker import CircuitBreaker
from sightline.settings import CacheSettings
from tests.cache.conftest import cache_settings, running_app
from tests.factories import auth, make_event, make_project, send_events


@pytest.fixture(params=["redis", "memory"])
async def backend(request, redis_url) -> AsyncIterator[CacheBackend]:
    chosen: CacheBackend = (RedisBackend(redis_url, CacheSettings()) if request.param == "redis"
                            else MemoryBackend())
    yield chosen
    await chosen.close()


def names() -> tuple[str, str, str, str]:
    base = f"contract{uuid.uuid4().hex[:8]}:"
    entry = keys.entry_key(base, "p_1", "stats.pages", {"a": 1})
    return entry, keys.lock_key(entry), keys.versions_key(base, "p_1"), keys.epoch_key(base)


async def test_lookup_of_nothing(backend):
    entry, _, versions, epoch = names()
    look = await backend.lookup(entry, versions, epoch, ["all", "d:2024-03-01"])
    assert (look.blob, look.seq, look.incarnation, look.ingested_at) == (None, 0, "", None)
    assert look.newest_change == 0 and look.epoch == 0


async def test_bumps_version_the_fields_they_name(backend):
    entry, _, versions, epoch = names()
    assert await backend.bump(versions, ["any", "d:2024-03-01"], "inc1", "2024-03-01T10:00") == 1
    assert await backend.bump(versions, ["any", "d:2024-03-02"], "inc2", "2024-03-01T09:00") == 2
    look = await backend.lookup(entry, versions, epoch, ["d:2024-03-01", "d:2024-03-02", "all"])
    assert look.newest_change == 2 and look.seq == 2
    look = await backend.lookup(entry, versions, epoch, ["d:2024-03-01", "all"])
    assert look.newest_change == 1
    assert look.incarnation == "inc1"  # set once, by the first change
    assert look.ingested_at == "2024-03-01T10:00"  # the watermark never goes back


async def test_store_lock_and_release(backend):
    entry, lock, versions, epoch = names()
    assert await backend.acquire(lock, "me", 10_000)
    assert not await backend.acquire(lock, "you", 10_000)
    await backend.store(entry, b"head\nbody", 10_000, lock, "you")  # not the holder: lock stays
    assert not await backend.acquire(lock, "you", 10_000)
    await backend.store(entry, b"head\nbody", 10_000, lock, "me")
    assert (await backend.lookup(entry, versions, epoch, [])).blob == b"head\nbody"
    assert await backend.acquire(lock, "you", 10_000)
    await backend.release(lock, "me")
    assert not await backend.acquire(lock, "me", 10_000)
    await backend.release(lock, "you")
    assert await backend.acquire(lock, "me", 10_000)


async def test_epoch(backend):
    entry, _, versions, epoch = names()
    assert await backend.bump_epoch(epoch) == 1
    assert (await backend.lookup(entry, versions, epoch, [])).epoch == 1
    await backend.ping()


def test_span_fields_use_days_then_months_then_everything():
    day = datetime(2024, 3, 10, tzinfo=UTC)
    assert keys.span_fields((day, day + timedelta(hours=30))) == ["all", "d:2024-03-10",
                                                                   "d:2024-03-11"]
    year = keys.span_fields((day, day + timedelta(days=365)))
    assert year[0] == "all" and year[1] == "m:2024-03" and year[-1] == "m:2025-03"
    assert keys.span_fields(None) == ["any"]
    assert keys.span_fields((day - timedelta(days=200 * 365), day)) == ["any"]
    change = keys.change_fields(day, day + timedelta(days=40))
    assert "d:2024-04-19" in change and "m:2024-04" in change and "any" in change


def test_entry_round_trip_and_garbage():
    header = keys.Header(3, "inc", 1, 10.0, 20.0, 'W/"x"')
    assert keys.decode_entry(keys.encode_entry(header, b'{"a":"\\n"}')) == (header, b'{"a":"\\n"}')
    assert keys.decode_entry(b"no header") is None
    assert keys.decode_entry(b"[1,2]\n{}") is None


def test_breaker_opens_after_threshold_and_probes_once():
    now = [0.0]
    breaker = CircuitBreaker(3, 1.0, clock=lambda: now[0])
    assert not breaker.failure() and not breaker.failure() and breaker.failure()
    assert not breaker.allow()
    now[0] = 1.5
    assert breaker.allow() and not breaker.allow()  # one probe at a time
    breaker.failure()
    assert not breaker.allow()
    now[0] = 3.0
    assert breaker.allow() and breaker.success() and breaker.allow()


async def test_memory_backend_has_the_same_semantics_end_to_end(settings, db):
    async with running_app(cache_settings(settings, None)) as app:
        assert app.state.cache.backend.name == "memory"
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            project = await make_project(db)
            await send_events(http, project, [make_event()])
            url = f"/api/v1/projects/{project.id}/test-cache/count"
            march = {"date_from": "2024-03-01", "date_to": "2024-03-31"}
            feb = {"date_from": "2024-02-01", "date_to": "2024-02-29"}
            headers = auth(project.keys.read)
            states = [(await http.get(url, params=p, headers=headers)).headers["x-cache"]
                      for p in (march, march, feb, feb)]
            assert states == ["MISS", "HIT", "MISS", "HIT"]
            await send_events(http, project, [make_event(timestamp="2024-03-02T00:00:00+00:00")])
            after = await http.get(url, params=march, headers=headers)
            assert after.headers["x-cache"] == "MISS" and after.json()["results"] == {"events": 2}
            assert (await http.get(url, params=feb, headers=headers)).headers["x-cache"] == "HIT"
            ready = (await http.get("/readyz")).json()
            assert ready["checks"] == {"database": "ok", "cache": "ok", "cache_backend": "memory"}


async def test_redis_lookup_survives_a_flushed_script_cache(redis_url):
    """A restarted Redis has forgotten the lookup script: the lookup loads it again."""
    from redis.asyncio import Redis

    backend = RedisBackend(redis_url, CacheSettings(socket_timeout=1.0))
    entry, _, versions, epoch = names()
    try:
        await backend.bump(versions, ["d:2024-03-01"], "inc1", "2024-03-01T10:00")
        client = Redis.from_url(redis_url)
        await client.script_flush()
        await client.aclose()
        look = await backend.lookup(entry, versions, epoch, ["d:2024-03-01"])
        assert look.newest_change == 1
    finally:
        await backend.close()
