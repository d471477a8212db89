"""Seed a project with realistic traffic, fast: rows drawn in chunks, written by COPY.

Events are stored exactly as ingestion would store them, their sessions are built by the
ingest's own session statement (seed/queries.py), and, as ingestion does, the visitors are
registered, the days marked stale for the rollups and a rollup build scheduled; so the stats
cannot tell seeded traffic from ingested traffic. Drawing the next chunk overlaps with
PostgreSQL writing the previous one.
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from sightline.projects.service import get_project
from sightline.rollups import service as rollups
from sightline.seed import queries
from sightline.seed.traffic import Chunk, Traffic

CHUNK_EVENTS = 50_000


async def seed_project(
    db: AsyncSession, project_id: str, events: int, days: int, seed: int,
    *, end: datetime | None = None, progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Add `events` events over the `days` days ending at `end` (default now), with sessions;
    `progress` is told how many events each stored chunk added."""
    started = time.perf_counter()
    project = await get_project(db, project_id)
    traffic = Traffic(project_id, events, days, seed, end or datetime.now(UTC))
    await db.execute(queries.LOCK_PROJECT, {"project_id": project_id})
    await db.execute(queries.CREATE_SEEDED_SESSIONS)
    await db.execute(queries.SORT_IN_MEMORY)
    conn = (await (await db.connection()).get_raw_connection()).driver_connection
    stored = sessions = 0
    first = last = None
    async for chunk in drawn_ahead(traffic.chunks(CHUNK_EVENTS)):
        await db.execute(queries.CLEAR_SEEDED_SESSIONS)
        keys = {"project_id": project_id, "visitor_keys": list({row[6] for row in chunk.rows})}
        await rollups.register_visitors(db, project_id, keys["visitor_keys"])
        numbers = dict((await db.execute(queries.SELECT_VISITOR_NUMBERS, keys)).all())
        await conn.copy_records_to_table(
            queries.EVENT_TABLE, columns=queries.COPY_COLUMNS,
            records=[row + (numbers[row[6]],) for row in chunk.rows])
        await conn.copy_records_to_table(queries.SEEDED_SESSIONS_TABLE, records=chunk.sessions)
        window = {"project_id": project_id, "lo": min(row[4] for row in chunk.rows),
                  "hi": max(row[4] for row in chunk.rows)}
        sessions += (await db.execute(queries.INSERT_SESSIONS, window)).scalar_one()
        first = min(first or window["lo"], window["lo"])
        last = max(last or window["hi"], window["hi"])
        stored += len(chunk.rows)
        if progress is not None:
            progress(len(chunk.rows))
    if first is not None and last is not None:
        await rollups.mark_stale(db, project_id, project.timezone, first, last)
        await rollups.schedule_build(db, project_id)
    seconds = time.perf_counter() - started
    return {"events": stored, "sessions": sessions, "days": days, "seed": seed,
            "seconds": round(seconds, 2), "events_per_second": round(stored / seconds)}


async def drawn_ahead(chunks: Iterator[Chunk]) -> Any:
    """Yield the chunks, drawing the next one in a thread while the database writes this one."""
    loop = asyncio.get_running_loop()
    done = object()
    pending = loop.run_in_executor(None, next, chunks, done)
    while (chunk := await pending) is not done:
        pending = loop.run_in_executor(None, next, chunks, done)
        yield chunk
