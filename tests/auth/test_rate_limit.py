"""A key that exceeds its rate gets 429 problem+json with Retry-After; other keys are unaffected.
With Redis the bucket is shared by every process; without it each process keeps its own."""

import uuid

from sightline.auth.ratelimit import RateLimiter, TokenBuckets
from sightline.problems import RateLimited
from sightline.settings import CacheSettings
from tests import services
from tests.factories import auth, make_project


async def test_a_burst_over_the_limit_is_429_with_retry_after(app, client, db):
    project, other = await make_project(db), await make_project(db)
    saved = app.state.rate_limiter
    app.state.rate_limiter = RateLimiter(TokenBuckets(rate_per_second=0.5, burst=3))
    try:
        url = f"/api/v1/projects/{project.id}/goals"
        statuses = [(await client.get(url, headers=auth(project.keys.read))).status_code
                    for _ in range(4)]
        limited = await client.get(url, headers=auth(project.keys.read))
        other_url = f"/api/v1/projects/{other.id}/goals"
        unaffected = await client.get(other_url, headers=auth(other.keys.read))
    finally:
        app.state.rate_limiter = saved
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    assert unaffected.status_code == 200


async def takes(limiter: RateLimiter, key: bytes, n: int) -> list[bool]:
    allowed = []
    for _ in range(n):
        try:
            await limiter.take(key)
            allowed.append(True)
        except RateLimited:
            allowed.append(False)
    return allowed


def limiter(redis_url: str | None, burst: int, prefix: str) -> RateLimiter:
    return RateLimiter(TokenBuckets(0.01, burst), redis_url, CacheSettings(key_prefix=prefix))


async def test_the_redis_bucket_is_shared_by_processes(redis_url):
    """Two limiters stand for two API processes: together they get the burst once, not twice."""
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    one, two = limiter(redis_url, 5, prefix), limiter(redis_url, 5, prefix)
    try:
        key = uuid.uuid4().bytes
        allowed = await takes(one, key, 3) + await takes(two, key, 3) + await takes(one, key, 1)
        other = await takes(two, uuid.uuid4().bytes, 1)
    finally:
        await one.close()
        await two.close()
    assert allowed == [True] * 5 + [False] * 2
    assert other == [True]


async def test_without_redis_each_process_falls_back_to_its_own_bucket():
    unreachable = limiter(f"redis://127.0.0.1:{services.free_port()}/0", 3, "t:")
    try:
        allowed = await takes(unreachable, b"k" * 32, 5)
    finally:
        await unreachable.close()
    assert allowed == [True] * 3 + [False] * 2
