"""A key that exceeds its rate gets 429 problem+json with Retry-After; other keys are unaffected."""

from sightline.auth.ratelimit import TokenBuckets
from tests.factories import auth, make_project


async def test_a_burst_over_the_limit_is_429_with_retry_after(app, client, db):
    project, other = await make_project(db), await make_project(db)
    saved = app.state.rate_limiter
    app.state.rate_limiter = TokenBuckets(rate_per_second=0.5, burst=3)
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
