"""Write segments: export a month of a project from PostgreSQL, sort it into Parquet, publish.

A segment covers the local days of one month up to yesterday (today keeps changing and is read
from PostgreSQL). It records the rollup_state version of each of its days, read in the same
snapshot as its rows: ingest bumps the version of every day a change touches (late events,
rebuilt sessions), so readers know which days of a segment still hold and read the others from
PostgreSQL, and the worker rebuilds the month.
"""

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from sightline.segments import queries
from sightline.segments.copy import export
from sightline.segments.duck import Duck
from sightline.segments.store import EVENTS_FILE, SESSIONS_FILE, Segment
from sightline.stats.periods import add_months, day_start


def convert(duck: Duck, directory: Path) -> None:
    """The exported CSV files as Parquet files sorted by time."""
    cursor = duck.cursor()
    try:
        for name, types, order in ((EVENTS_FILE, queries.SEGMENT_EVENT_TYPES, "ts"),
                                   (SESSIONS_FILE, queries.SESSION_TYPES, "started_at")):
            csv = directory / name.replace(".parquet", ".csv")
            cursor.execute(queries.write_parquet(csv, types, order, directory / name))
            csv.unlink()
    finally:
        cursor.close()


def month_days(month_first: date, last: date) -> tuple[date, date]:
    return month_first, min(add_months(month_first, 1) - timedelta(days=1), last)


async def build_month(engine: AsyncEngine, duck: Duck, project_id: str, zone: ZoneInfo,
                      first: date, last: date) -> Segment:
    directory = duck.store.new_directory(project_id, queries.month_of(first))
    directory.mkdir()
    start, end = day_start(first, zone), day_start(last + timedelta(days=1), zone)
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            versions = dict((await connection.execute(queries.SELECT_DAY_VERSIONS, {
                "project_id": project_id, "first": first, "last": last})).all())
            await export(connection, queries.select_segment_events(project_id, [(start, end)]),
                         directory / EVENTS_FILE.replace(".parquet", ".csv"))
            await export(connection, queries.select_segment_sessions(project_id, [(start, end)]),
                         directory / SESSIONS_FILE.replace(".parquet", ".csv"))
    await duck.run(lambda: convert(duck, directory))
    os.utime(directory)
    segment = Segment(queries.month_of(first), directory, first, last, versions, zone.key)
    return duck.store.publish(project_id, directory, segment)


async def stale_months(engine: AsyncEngine, duck: Duck, project_id: str, timezone: str,
                       last: date) -> list[tuple[date, date]]:
    """(first, last day) of each month up to `last` whose segment is missing or out of date."""
    async with engine.connect() as connection:
        rows = (await connection.execute(queries.SELECT_DAYS_WITH_DATA,
                                         {"project_id": project_id, "last": last})).all()
    by_month: dict[date, dict[date, int]] = {}
    for day, version in rows:
        by_month.setdefault(day.replace(day=1), {})[day] = version
    current = {s.month: s for s in duck.store.segments(project_id, timezone)}
    stale = []
    for month_first, versions in sorted(by_month.items()):
        first, month_last = month_days(month_first, last)
        segment = current.get(queries.month_of(month_first))
        if segment is None or segment.last_day != month_last or segment.versions != versions:
            stale.append((first, month_last))
    return stale


async def build_stale(engine: AsyncEngine, duck: Duck, project_id: str, timezone: str,
                      now: datetime | None = None, limit: int | None = None) -> list[str]:
    """Build the months whose segment is missing or out of date, newest first, at most `limit`
    (None: all); the months built."""
    zone = ZoneInfo(timezone)
    yesterday = (now or datetime.now(UTC)).astimezone(zone).date() - timedelta(days=1)
    stale = (await stale_months(engine, duck, project_id, timezone, yesterday))[::-1]
    built = []
    for first, last in stale[:limit]:
        await build_month(engine, duck, project_id, zone, first, last)
        built.append(queries.month_of(first))
    return built


async def rebuild(engine: AsyncEngine, duck: Duck, project_id: str, timezone: str,
                  now: datetime | None = None) -> list[str]:
    """Drop a project's segments and build them again from the database."""
    duck.store.drop(project_id)
    return await build_stale(engine, duck, project_id, timezone, now)
