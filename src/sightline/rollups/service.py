"""Daily rollups: build them (worker), mark days stale (ingest), read them (stats).

A day is a local date in the project's time zone. Rollups serve queries in that zone without
filters. Days not built from their latest data (typically today) are computed from the event
and session tables with the very same statements, then merged exactly: counts add up, visitor
sets are unions of roaring bitmaps over Visitor.num.
"""

import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pyroaring import BitMap
from sqlalchemy import TextualSelect
from sqlalchemy.ext.asyncio import AsyncSession

from sightline.rollups import queries
from sightline.stats.periods import instant_range
from sightline.stats.runner import Runner

BITMAP_COLUMNS = ("event_visitors", "paying_visitors", "session_visitors")
COUNT_COLUMNS = ("events", "pageviews", "orders", "visits", "bounces", "session_pageviews",
                 "exit_pageviews")
SUM_COLUMNS = ("revenue", "duration")
TOTAL = ""


@dataclass
class Aggregate:
    """Aggregates of one dimension value over any set of days."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLUMNS, 0))
    sums: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(SUM_COLUMNS, Decimal(0)))
    sets: dict[str, BitMap] = field(default_factory=lambda: {c: BitMap() for c in BITMAP_COLUMNS})

    def add(self, row: dict[str, Any]) -> None:
        for name in COUNT_COLUMNS:
            if row.get(name):
                self.counts[name] += row[name]
        for name in SUM_COLUMNS:
            if row.get(name):
                self.sums[name] += Decimal(row[name])
        for name in BITMAP_COLUMNS:
            if row.get(name):
                self.sets[name] |= as_bitmap(row[name])

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> "Aggregate":
        """Merge rows, reading only the columns they have (event and session rows differ)."""
        aggregate = cls()
        present = set().union(*(row.keys() for row in rows))
        for name in COUNT_COLUMNS:
            if name in present:
                aggregate.counts[name] = sum(row.get(name) or 0 for row in rows)
        for name in SUM_COLUMNS:
            if name in present:
                aggregate.sums[name] = sum((row[name] for row in rows if row.get(name)),
                                           Decimal(0))
        for name in BITMAP_COLUMNS:
            if name in present:
                aggregate.sets[name] = BitMap.union(
                    *(as_bitmap(row[name]) for row in rows if row.get(name)), BitMap())
        return aggregate

    def merge(self, other: "Aggregate") -> None:
        for name in COUNT_COLUMNS:
            self.counts[name] += other.counts[name]
        for name in SUM_COLUMNS:
            self.sums[name] += other.sums[name]
        for name in BITMAP_COLUMNS:
            self.sets[name] |= other.sets[name]

    def metrics_row(self, session_list: bool) -> dict[str, Any]:
        """The raw aggregates in the shape stats.metrics reads."""
        visitors = self.sets["session_visitors" if session_list else "event_visitors"]
        return {**self.counts, **self.sums, "visitors": len(visitors),
                "paying_visitors": len(self.sets["paying_visitors"])}


DayRows = dict[tuple[date, str, str], Aggregate]


def as_bitmap(value: bytes | list[int]) -> BitMap:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BitMap.deserialize(bytes(value))
    return BitMap(value)


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """Every local date that overlaps [start, end]."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def needs_events(dimension: str | None) -> bool:
    return dimension in (None, TOTAL) or not queries.is_rollup_session_dimension(dimension)


def needs_sessions(dimension: str | None) -> bool:
    return dimension in (None, TOTAL) or queries.is_rollup_session_dimension(dimension)


def day_statements(project_id: str, days: list[date], zone: ZoneInfo,
                   dimension: str | None) -> list[TextualSelect]:
    """The statements computing the day rows of `days` from the event and session tables."""
    start, end = instant_range(min(days), max(days), zone)

    def bound(statement: TextualSelect, with_dimension: bool = True) -> TextualSelect:
        return queries.day_statement(statement, project_id, zone.key, days, start, end,
                                     dimension if with_dimension else None)

    statements = []
    if needs_events(dimension):
        statements.append(bound(queries.EVENT_DAY_ROWS))
    if needs_sessions(dimension):
        statements.append(bound(queries.SESSION_DAY_ROWS))
    if dimension in (None, "exit_page"):
        statements.append(bound(queries.EXIT_PAGEVIEWS, with_dimension=False))
    return statements


def combine(results: Iterable[Sequence[dict[str, Any]]],
            key: Callable[[dict[str, Any]], Hashable]) -> dict[Any, Aggregate]:
    """Merge rows by key; bitmaps are unioned in one call per key."""
    grouped: dict[Hashable, list[dict[str, Any]]] = {}
    for result in results:
        for row in result:
            grouped.setdefault(key(row), []).append(row)
    return {k: Aggregate.of(rows) for k, rows in grouped.items()}


def by_day_and_key(row: dict[str, Any]) -> tuple[date, str, str]:
    return to_date(row["day"]), row["dimension"], row["value"]


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


BUILD_DELAY = timedelta(seconds=2)


# Under steady ingest today is stale again within a second of every build; rebuilding it more
# often than this only burns database time (queries compute a stale day from the base tables).
HOT_DAY_REBUILD = timedelta(seconds=60)


async def schedule_build(db: AsyncSession, project_id: str,
                         delay: timedelta = BUILD_DELAY) -> None:
    await db.execute(queries.SCHEDULE_BUILD, {"project_id": project_id, "delay": delay})


async def register_visitors(db: AsyncSession, project_id: str, visitor_keys: list[int]) -> None:
    await db.execute(queries.INSERT_NEW_VISITORS,
                     {"project_id": project_id, "visitor_keys": visitor_keys})


async def number_visitors(db: AsyncSession, project_id: str, start: datetime,
                         end: datetime) -> None:
    """Give every event and session in [start, end) its visitor number (seeded rows lack it)."""
    params = {"project_id": project_id, "start": start, "end": end}
    await db.execute(queries.INSERT_NEW_VISITORS_OF_RANGE, params)
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


# A build job rebuilds at most this many days (newest first), then queues the rest as a new job,
# so a backfill over years is done in bounded steps between other projects' jobs.
DAYS_PER_BUILD = 31
BUILD_TIME_BUDGET = timedelta(seconds=5)


async def build_stale_days(db: AsyncSession, project_id: str, timezone: str,
                           now: datetime | None = None,
                           limit: int | None = DAYS_PER_BUILD) -> list[date]:
    """Build the newest stale days, up to `limit` (None: all) or the time budget, and queue a
    build for the rest. Today waits when it was built less than a minute ago."""
    zone = ZoneInfo(timezone)
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    stale = (await db.execute(queries.SELECT_STALE_DAYS, {"project_id": project_id})).all()
    deadline = time.monotonic() + BUILD_TIME_BUDGET.total_seconds()
    built: list[date] = []
    later: timedelta | None = None
    for day, built_at in stale:
        if day == today and built_at is not None and now - built_at < HOT_DAY_REBUILD:
            later = HOT_DAY_REBUILD - (now - built_at)
            continue
        if limit is not None and (len(built) >= limit or time.monotonic() > deadline):
            later = timedelta(0)
            break
        await build_day(db, project_id, day, zone)
        built.append(day)
        await db.commit()
    if later == timedelta(0):
        await db.execute(queries.HURRY_BUILD, {"project_id": project_id})
    if later is not None:
        await schedule_build(db, project_id, later)
        await db.commit()
    return built


async def rebuild(db: AsyncSession, project_id: str, timezone: str, start: datetime,
                  end: datetime) -> list[date]:
    """Mark the days of [start, end] stale and build them now (after a bulk load)."""
    await mark_stale(db, project_id, timezone, start, end)
    await db.commit()
    await db.execute(queries.ANALYZE_TABLES)
    return await build_stale_days(db, project_id, timezone, limit=None)


async def first_day(runner: Runner, project_id: str) -> date | None:
    day = (await runner.one(queries.select_first_day(project_id)))["day"]
    return to_date(day) if day is not None else None


async def read_rows(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                    dimension: str) -> tuple[list[date], Sequence[list[dict[str, Any]]]]:
    """The day rows of `dimension` ('' for totals) over [first, last]: built days from the
    rollup, the others (stale or never built) from the base tables."""
    built = {to_date(row["day"]) for row in await runner.rows(
        queries.select_built_days(project_id, first, last))}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    tail = [day for day in days if day not in built]
    statements = [queries.select_day_rows(project_id, sorted(built), dimension)] if built else []
    if tail:
        statements += day_statements(project_id, tail, ZoneInfo(timezone), dimension)
    return days, await runner.all(*statements)


async def read_days(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                    dimension: str) -> dict[date, dict[str, Aggregate]]:
    """Per day and value, the aggregates of `dimension` over [first, last]."""
    days, results = await read_rows(runner, project_id, timezone, first, last, dimension)
    by_day: dict[date, dict[str, Aggregate]] = {day: {} for day in days}
    for (day, _, value), aggregate in combine(results, by_day_and_key).items():
        by_day[day][value] = aggregate
    return by_day


async def read_merged(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                      dimension: str) -> dict[str, Aggregate]:
    """Per value, the aggregates of `dimension` over the whole of [first, last]."""
    _, results = await read_rows(runner, project_id, timezone, first, last, dimension)
    return combine(results, lambda row: row["value"])


def to_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
