"""What the cache must learn when data changes (placeholder until the Redis cache lands)."""

from sightline.ingest.service import TimeSpan


class NoFreshness:
    async def events_committed(self, project_id: str, touched: TimeSpan | None) -> None:
        return None
