"""The columnar table family: reports run in DuckDB over the project's Parquet segments, with
the days no segment holds (today, days changed since their segment was built) read from
PostgreSQL into the same statement, so answers are exact.

Per request: the manifest and the current day versions decide which instants the segments
hold; each row source the report asks for becomes a CTE over the segments' files for those
instants plus, for the rest, the process's kept tail of those days (segments.tail), or, when
they are too many to keep, a temporary table of PostgreSQL's matching rows (copied out with
COPY before the statement runs). Statements run one at a time on the request's DuckDB cursor.
"""

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from sightline.segments import queries as segment_queries
from sightline.segments.duck import Duck
from sightline.segments.copy import export
from sightline.segments.queries import EVENT_TYPES, SEGMENT_EVENT_TYPES, SESSION_TYPES
from sightline.segments.store import Segment
from sightline.segments.tail import Tail, day_intervals
from sightline.stats.columnar import sql
from sightline.stats.columnar.sql import Interval, table_rows
from sightline.stats.periods import day_start
from sightline.stats.query import Filter
from sightline.stats.runner import Runner
from sightline.stats.sql.sources import Source

FOREVER = datetime(3000, 1, 1, tzinfo=UTC)


def merged(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clip(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if a < end and b > start]


def complement(held: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    out, at = [], start
    for a, b in held:
        if a > at:
            out.append((at, a))
        at = max(at, b)
    if at < end:
        out.append((at, end))
    return out


@dataclass(frozen=True)
class Coverage:
    """Which instants the segments hold exactly now, their files, and the days with data that
    they do not hold."""

    segments: tuple[Segment, ...]
    held: list[Interval]
    unheld_days: list[date]

    def files(self, kind: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Path]:
        return [s.events_file if kind == "events" else s.sessions_file for s in self.segments
                if day_start(s.first_day, zone) < end
                and day_start(s.last_day + timedelta(days=1), zone) > start]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return bool(clip(self.held, start, end))


def held_days(segment: Segment, versions: dict[date, int]) -> list[date]:
    days = [segment.first_day + timedelta(days=i)
            for i in range((segment.last_day - segment.first_day).days + 1)]
    return [d for d in days if versions.get(d) == segment.versions.get(d)]


def listed(duck: Duck, project_id: str, zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether the manifest lists a segment for part of [start, end) (fresh or not)."""
    return any(day_start(s.first_day, zone) < end
               and day_start(s.last_day + timedelta(days=1), zone) > start
               for s in duck.store.segments(project_id, zone.key))


async def coverage(engine: AsyncEngine, duck: Duck, project_id: str, zone: ZoneInfo) -> Coverage:
    segments = duck.store.segments(project_id, zone.key)
    if not segments:
        return Coverage((), [], [])
    async with engine.connect() as connection:
        versions = dict((await connection.execute(segment_queries.SELECT_DAYS_WITH_DATA, {
            "project_id": project_id, "last": date.max})).all())
    held = {d for s in segments for d in held_days(s, versions)}
    return Coverage(segments, merged(day_intervals(held, zone)), sorted(set(versions) - held))


@dataclass
class ColumnarTables:
    """Row sources over segments plus, for what they do not hold, the process's kept tail (up
    to date before the request runs) or, when there is none, PostgreSQL's matching rows loaded
    before each statement runs (see ColumnarRunner)."""

    coverage: Coverage
    zone: ZoneInfo
    with_properties: bool = True  # False: the report never reads property values
    kept: Tail | None = None
    pending: dict[str, tuple[str, Select]] = field(default_factory=dict)
    count: int = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def split(self, start: datetime, end: datetime) -> tuple[list[Interval], list[Interval]]:
        held = clip(self.coverage.held, start, end)
        return held, complement(held, start, end)

    def events(self, project_id: str, start: datetime, end: datetime,
               filters: tuple[Filter, ...]) -> Source:
        held, tail = self.split(start, end)
        if self.kept is not None:
            rows = table_rows(self.kept.events, SEGMENT_EVENT_TYPES)
            parts = [sql.matching_events(rows, tail, filters)]
        else:
            name = self.name("tail_events_")
            self.pending[name] = ("events", sql.select_tail_events(project_id, tail, filters,
                                                                   self.with_properties))
            parts = [sql.loaded(name, EVENT_TYPES)]
        files = self.coverage.files("events", start, end, self.zone)
        if files and held:
            parts.insert(0, sql.matching_events(sql.parquet(files, SEGMENT_EVENT_TYPES), held,
                                                filters))
        return sql.view(parts, self.name("ev"))

    def sessions(self, project_id: str, start: datetime, end: datetime,
                 filters: tuple[Filter, ...]) -> Source:
        held, tail = self.split(start, end)
        event_filters = tuple(f for f in filters if not f.on_session)
        # a session's events are at or after its start
        with_event = (self.events(project_id, start, FOREVER, event_filters)
                      if event_filters else None)
        if self.kept is not None:
            rows = table_rows(self.kept.sessions, SESSION_TYPES)
            parts = [sql.matching_sessions(rows, tail, filters, with_event)]
        else:
            name = self.name("tail_sessions_")
            self.pending[name] = ("sessions", sql.select_tail_sessions(project_id, tail, filters))
            parts = [sql.loaded(name, SESSION_TYPES)]
        files = self.coverage.files("sessions", start, end, self.zone)
        if files and held:
            parts.insert(0, sql.matching_sessions(sql.parquet(files, SESSION_TYPES), held,
                                                  filters, with_event))
        return sql.view(parts, self.name("se"))


def fetch(cursor: duckdb.DuckDBPyConnection, statement: Select) -> list[dict[str, Any]]:
    text, params = sql.compiled(statement)
    cursor.execute(text, params)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class ColumnarRunner(Runner):
    """Runs the engine's statements in DuckDB on one cursor per request."""

    def __init__(self, engine: AsyncEngine, duck: Duck, tables: ColumnarTables):
        super().__init__(engine)
        self.duck, self.tables = duck, tables
        self.cursor = duck.cursor()
        self.lock = asyncio.Lock()
        self.loaded: set[str] = set()

    async def export_tail(self, name: str, statement: Select) -> Path:
        path = self.duck.store.root / ".tmp" / f"{name}.{os.urandom(6).hex()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.connect() as connection:
            await export(connection, statement, path)
        return path

    def create_tails(self, files: dict[str, tuple[str, Path]]) -> None:
        for name, (kind, path) in files.items():
            types = (segment_queries.EVENT_TYPES if kind == "events"
                     else segment_queries.SESSION_TYPES)
            self.cursor.execute(f"CREATE TEMP TABLE {name} AS "
                                f"SELECT * FROM {segment_queries.read_csv(path, types)}")

    async def load_tails(self) -> None:
        """PostgreSQL's rows of every source not loaded yet (fetched concurrently, by COPY
        into CSV files) into temporary tables of the request's cursor."""
        waiting = {n: p for n, p in self.tables.pending.items() if n not in self.loaded}
        if not waiting:
            return
        self.loaded.update(waiting)
        exported = await asyncio.gather(*(self.export_tail(n, statement)
                                          for n, (_, statement) in waiting.items()),
                                        return_exceptions=True)
        files = {n: (kind, path) for (n, (kind, _)), path in zip(waiting.items(), exported, strict=True)
                 if isinstance(path, Path)}
        try:
            for result in exported:
                if isinstance(result, BaseException):
                    raise result
            await self.duck.run(lambda: self.create_tails(files))
        finally:
            for _, path in files.values():
                path.unlink(missing_ok=True)

    async def rows(self, statement: Select) -> list[dict[str, Any]]:
        async with self.lock:
            await self.load_tails()
            return await self.duck.run(lambda: fetch(self.cursor, statement))

    async def one(self, statement: Select) -> dict[str, Any]:
        return (await self.rows(statement))[0]

    async def all(self, *statements: Select) -> list[list[dict[str, Any]]]:  # one cursor
        return [await self.rows(s) for s in statements]

    def close(self) -> None:
        self.cursor.close()
