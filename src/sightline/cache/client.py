"""Open a Redis client from SIGHTLINE_REDIS_URL: one server (`redis://`) or a Redis Cluster
(`redis+cluster://host:port`, any node; the client discovers the others and follows failovers).

Every key the product writes carries a hash tag (`{project}` or `{key}`), and every script or
transaction touches keys of one tag only, so the same commands run on both.
"""

from typing import TypeAlias

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sightline.settings import CacheSettings

CLUSTER_SCHEME = "redis+cluster://"
# While redis-py's cluster client rebuilds its view of the cluster (first use, a failover), a
# command may find its connection closed under it and fail with these instead of a RedisError.
CLIENT_ERRORS = (RuntimeError, AttributeError)
RedisClient: TypeAlias = aioredis.Redis | RedisCluster


def is_cluster(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME)


def open_redis(url: str, settings: CacheSettings) -> RedisClient:
    """No retries: the caller's circuit breaker decides; a failed call counts as a miss."""
    retry = Retry(NoBackoff(), 0)
    if is_cluster(url):
        return RedisCluster.from_url(
            "redis://" + url.removeprefix(CLUSTER_SCHEME),
            max_connections=settings.max_connections, socket_timeout=settings.socket_timeout,
            socket_connect_timeout=settings.socket_timeout, retry=retry,
            require_full_coverage=False)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=settings.max_connections, timeout=settings.pool_timeout,
        socket_timeout=settings.socket_timeout, socket_connect_timeout=settings.socket_timeout,
        retry=retry,
    )
    return aioredis.Redis(connection_pool=pool, retry=retry)


async def connect_redis(client: RedisClient) -> None:
    """Learn the cluster's layout before requests arrive together (a cold cluster client
    that many requests use at once fails some of them). Failures are left to the first use."""
    try:
        await client.ping()
    except Exception:  # noqa: BLE001 - Redis down at start: the breaker handles it later
        return


async def close_redis(client: RedisClient) -> None:
    await client.aclose()
    if isinstance(client, aioredis.Redis):
        await client.connection_pool.aclose()
