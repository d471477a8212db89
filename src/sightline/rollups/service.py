"""Daily rollups, the write side: mark days stale (ingest), build them (worker).

A day is a local date in the project's time zone. Its rows are computed by the day-row
statements of stats.sql.day_rows (the read side runs the same statements for days not built
yet) and combined as stats.aggregate does. Nothing here reads rollups for a report, and nothing
here commits: the request's session or the task (rollups.tasks) does.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from sightline.rollups import queries
from sightline.stats.aggregate import (
    BITMAP_COLUMNS, COUNT_COLUMNS, SUM_COLUMNS, Aggregate, by_day_and_key, combine,
)
from sightline.stats.periods import instant_range
from sightline.stats.sql.day_rows import day_statements
from sightline.worker import queue

BUILD_TASK = "rollups.build"
BUILD_DELAY = timedelta(seconds=2)
# Under steady ingest today is stale again within a second of every build; rebuilding it more
# often than this only burns database time (queries compute a stale day from the base tables).
HOT_DAY_REBUILD = timedelta(seconds=60)

DayRows = dict[tuple[date, str, str], Aggregate]


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """Every local date that overlaps [start, end]."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def mark_stale(db: AsyncSession, project_id: str, timezone: str,
                     start: datetime, end: datetime) -> None:
    await mark_stale_spans(db, project_id, timezone, [(start, end)])


async def mark_stale_spans(db: AsyncSession, project_id: str, timezone: str,
                           spans: Iterable[tuple[datetime, datetime]]) -> None:
    """Mark the local days each span overlaps (not the days between spans: a batch holding an
    event of 2005 and one of today marks two days, not twenty years)."""
    zone = ZoneInfo(timezone)
    days = sorted({day for start, end in spans for day in local_days(start, end, zone)})
    await db.execute(queries.BUMP_DAYS, {"project_id": project_id, "days": days})


async def mark_changed(db: AsyncSession, project_id: str, timezone: str,
                       span: tuple[datetime, datetime] | None) -> None:
    """Data changed outside ingestion (the invalidation webhook): rebuild what it covers."""
    if span is None:
        await db.execute(queries.BUMP_ALL_DAYS, {"project_id": project_id})
    else:
        await mark_stale(db, project_id, timezone, span[0], span[1] - timedelta(microseconds=1))
    await schedule_build(db, project_id)


async def rebuild_in_zone(db: AsyncSession, project_id: str, timezone: str) -> None:
    """The project's time zone changed: every day is built again in the new zone."""
    for statement in queries.DELETE_PROJECT_ROLLUPS:
        await db.execute(statement, {"project_id": project_id})
    await db.execute(queries.MARK_EVENT_DAYS_STALE,
                     {"project_id": project_id, "timezone": timezone})
    await schedule_build(db, project_id)


async def schedule_build(db: AsyncSession, project_id: str,
                         delay: timedelta = BUILD_DELAY) -> None:
    """One pending build per project; a short delay lets a burst of batches share it."""
    await queue.enqueue_pending(db, project_id, BUILD_TASK, {}, delay)


async def register_visitors(db: AsyncSession, project_id: str, visitor_keys: list[int]) -> None:
    """Number the visitors the project has not seen yet (dense numbers per project)."""
    await db.execute(queries.LOCK_VISITOR_NUMBERS, {"project_id": project_id})
    await db.execute(queries.INSERT_NEW_VISITORS,
                     {"project_id": project_id, "visitor_keys": visitor_keys})


async def number_visitors(db: AsyncSession, project_id: str, start: datetime,
                         end: datetime) -> None:
    """Give every event and session in [start, end) its visitor number (seeded rows lack it)."""
    params = {"project_id": project_id, "start": start, "end": end}
    new = (await db.execute(queries.SELECT_NEW_VISITORS_OF_RANGE, params)).scalars().all()
    if new:
        await register_visitors(db, project_id, list(new))
    await db.execute(queries.NUMBER_EVENTS_OF_RANGE, params)
    await db.execute(queries.NUMBER_SESSIONS_OF_RANGE, params)


async def build_day(db: AsyncSession, project_id: str, day: date, zone: ZoneInfo) -> int:
    """Rebuild one day's rollup rows; it counts as built only for the version read first."""
    params = {"project_id": project_id, "day": day}
    version = (await db.execute(queries.SELECT_DAY_VERSION, params)).scalar() or 0
    start, end = instant_range(day, day, zone)
    await number_visitors(db, project_id, start, end)
    results = [(await db.execute(s)).mappings().all()
               for s in day_statements(project_id, [day], zone, None)]
    rows = combine(results, by_day_and_key)
    await db.execute(queries.DELETE_DAY, params)
    if rows:
        await db.execute(queries.INSERT_DAY_ROWS, {**params, **column_arrays(rows)})
    await db.execute(queries.MARK_BUILT, {**params, "version": version})
    return len(rows)


def column_arrays(rows: DayRows) -> dict[str, list[Any]]:
    keys = list(rows)
    arrays: dict[str, list[Any]] = {"dimension": [k[1] for k in keys],
                                    "value": [k[2] for k in keys]}
    for name in COUNT_COLUMNS:
        arrays[name] = [rows[k].counts[name] for k in keys]
    for name in SUM_COLUMNS:
        arrays[name] = [rows[k].sums[name] for k in keys]
    for name in BITMAP_COLUMNS:
        arrays[name] = [rows[k].sets[name].serialize() if rows[k].sets[name] else None
                        for k in keys]
    return arrays


async def stale_days(db: AsyncSession, project_id: str) -> list[tuple[date, datetime | None]]:
    """The days to build, newest first, with when each was last built."""
    rows = (await db.execute(queries.SELECT_STALE_DAYS, {"project_id": project_id})).all()
    return [(day, built_at) for day, built_at in rows]


def hot_day_wait(zone: ZoneInfo, day: date, built_at: datetime | None,
                 now: datetime) -> timedelta | None:
    """How long today waits before its next build (None: build it now)."""
    if day == now.astimezone(zone).date() and built_at is not None \
            and now - built_at < HOT_DAY_REBUILD:
        return HOT_DAY_REBUILD - (now - built_at)
    return None


async def build_later(db: AsyncSession, project_id: str, delay: timedelta) -> None:
    """Days remain stale after a bounded build: queue the next build (due now when delay is 0)."""
    if delay == timedelta(0):
        await queue.hurry(db, project_id, BUILD_TASK)
    await schedule_build(db, project_id, delay)


async def analyze_tables(db: AsyncSession) -> None:
    """After a bulk load the planner needs fresh statistics (autovacuum would take a while)."""
    await db.execute(queries.ANALYZE_TABLES)
