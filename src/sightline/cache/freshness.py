"""Build the cache for the app: Redis when configured, else the in-process memory backend.

The returned CacheStore is also the app's `freshness`: ingest calls `events_committed`, goal
changes call `project_changed`, the invalidation webhook calls `data_changed`.
"""

import structlog

from sightline.cache.backends import CacheBackend, MemoryBackend, RedisBackend
from sightline.cache.store import CacheStore
from sightline.ops.metrics import Metrics
from sightline.settings import Settings

log = structlog.get_logger()


def open_cache(settings: Settings, metrics: Metrics | None = None) -> CacheStore:
    backend: CacheBackend
    if settings.redis_url:
        backend = RedisBackend(settings.redis_url, settings.cache)
        log.info("cache.backend", backend="redis")
    else:
        backend = MemoryBackend(settings.cache.memory_max_entries)
        log.info("cache.backend", backend="memory",
                 detail="SIGHTLINE_REDIS_URL is not set: in-process memory cache, one process only")
    store = CacheStore(backend, settings.cache, metrics)
    if metrics is not None:
        metrics.watch_cache(backend.name, lambda: store.degraded)
    return store
