"""The benchmark's floor: the cheapest possible responses through the same server stack.

GET /bench/floor returns fixed bytes; GET /bench/floor-redis returns fixed bytes read from Redis
(one GET through the same client library as the cache). Every other number in the benchmark is
read against these. Mounted only when SIGHTLINE_BENCH_ROUTES is set, as the bench does for the
servers it starts.
"""

from fastapi import APIRouter, Request
from starlette.responses import Response

from sightline.jsonresp import JSON, dumps
from sightline.problems import NotFound
from sightline.state import app_state

router = APIRouter(prefix="/bench", tags=["operations"], include_in_schema=False)

FLOOR = dumps({"results": [{"page": f"/floor/{i}", "visitors": 1000 - i, "pageviews": 2000 - i}
                           for i in range(20)], "meta": {"report": "floor"}})
FLOOR_KEY = "sightline:bench:floor"


@router.get("/floor")
async def floor() -> Response:
    return Response(FLOOR, media_type=JSON)


@router.get("/floor-redis")
async def floor_redis(request: Request) -> Response:
    client = getattr(request.app.state, "bench_redis", None)
    if client is None:
        url = app_state(request).settings.redis_url
        if url is None:
            raise NotFound("No Redis configured")
        from redis.asyncio import Redis

        client = request.app.state.bench_redis = Redis.from_url(url)
        await client.set(FLOOR_KEY, FLOOR)
    body = await client.get(FLOOR_KEY)
    if body is None:
        await client.set(FLOOR_KEY, FLOOR)
        body = FLOOR
    return Response(body, media_type=JSON)
