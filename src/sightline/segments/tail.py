"""The tail kept in this process: the rows of the days no segment holds, per project, in DuckDB.

Without it every columnar request copied these days (today, and days changed since their
segment was built) out of PostgreSQL again. A kept tail holds every row of those days in two
tables of the process's DuckDB and is brought up to date before each request by what was
ingested since: a project's event ids grow in commit order (segments.queries), and an ingest
batch changes only its own visitors' rows (their events' session keys, their sessions), so
the rows of the visitors with events above the tail's last id are read again and replace
theirs. Exact in every snapshot, and a request costs one indexed read when nothing changed.
"""

import asyncio
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sightline.segments import queries
from sightline.segments.copy import export
from sightline.segments.queries import utc_naive
from sightline.stats.periods import day_start

if TYPE_CHECKING:
    from sightline.segments.duck import Duck

Interval = tuple[datetime, datetime]
# this many visitors changed since the last request: read the tail again instead
REREAD_AFTER_VISITORS = 5_000


@dataclass
class Tail:
    """One project's kept rows: `events` (segment event rows) and `sessions` tables, holding
    every row of `days` committed up to event id `last_id`."""

    zone: str
    events: str
    sessions: str
    days: frozenset[date] = frozenset()
    last_id: int | None = None  # None: nothing loaded yet
    readers: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Change:
    """What one refresh reads from PostgreSQL and applies to a tail."""

    last_id: int
    dropped: list[Interval]  # days no longer kept
    visitor_keys: list[int]  # visitors whose kept rows are replaced
    files: list[tuple[str, Path]] = field(default_factory=list)  # (table, CSV of new rows)


def day_intervals(days: Sequence[date], zone: ZoneInfo) -> list[Interval]:
    return [(day_start(d, zone), day_start(d + timedelta(days=1), zone)) for d in sorted(days)]


class TailCache:
    """The kept tails of at most `projects` projects, each of at most `max_days` days (a
    longer tail is read per request, filtered, as before)."""

    def __init__(self, duck: "Duck", max_days: int, projects: int):
        self.duck, self.max_days, self.projects = duck, max_days, projects
        self.tails: OrderedDict[str, Tail] = OrderedDict()
        self.created = 0

    @asynccontextmanager
    async def holding(self, engine: AsyncEngine, project_id: str, zone: ZoneInfo,
                      days: Sequence[date]) -> AsyncIterator[Tail | None]:
        """The project's tail, up to date with every commit before now, kept readable while
        the caller uses it; None when the days are too many to keep."""
        if len(days) > self.max_days:
            yield None
            return
        tail = self.tail_of(project_id, zone)
        tail.readers += 1
        try:
            async with tail.lock:
                await self.refresh(engine, project_id, zone, tail, frozenset(days))
            yield tail
        finally:
            tail.readers -= 1
            self.evict()

    def tail_of(self, project_id: str, zone: ZoneInfo) -> Tail:
        tail = self.tails.get(project_id)
        if tail is None or tail.zone != zone.key:
            self.created += 1
            tail = Tail(zone.key, f"kept_events_{self.created}", f"kept_sessions_{self.created}")
            self.execute(f"CREATE TABLE {tail.events} "
                         f"({queries.column_list(queries.SEGMENT_EVENT_TYPES)});"
                         f"CREATE TABLE {tail.sessions} ({queries.column_list(queries.SESSION_TYPES)})")
            self.tails[project_id] = tail
        self.tails.move_to_end(project_id)
        return tail

    def evict(self) -> None:
        """Drop the least recently used tails beyond `projects` that nobody reads now."""
        for project_id in list(self.tails)[:-self.projects]:
            tail = self.tails[project_id]
            if tail.readers == 0 and not tail.lock.locked():
                del self.tails[project_id]
                self.execute(f"DROP TABLE {tail.events}; DROP TABLE {tail.sessions}")

    def execute(self, statements: str) -> None:
        cursor = self.duck.cursor()
        try:
            cursor.execute(statements)
        finally:
            cursor.close()

    async def refresh(self, engine: AsyncEngine, project_id: str, zone: ZoneInfo, tail: Tail,
                      days: frozenset[date]) -> None:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                change = await self.read_change(connection, project_id, zone, tail, days)
        if change is None:
            return
        try:
            await self.duck.run(lambda: self.apply(tail, change))
        finally:
            for _, path in change.files:
                path.unlink(missing_ok=True)
        tail.days, tail.last_id = days, change.last_id

    async def read_change(self, connection: AsyncConnection, project_id: str, zone: ZoneInfo,
                          tail: Tail, days: frozenset[date]) -> Change | None:
        """In one snapshot: the rows that bring the tail to `days` as committed now."""
        last_id = (await connection.execute(queries.SELECT_LAST_EVENT_ID,
                                            {"project_id": project_id})).scalar() or 0
        if last_id == tail.last_id and days == tail.days:
            return None
        kept, new = tail.days & days, days - tail.days
        visitors: list[Any] = []
        if tail.last_id is not None and last_id != tail.last_id and kept:
            visitors = (await connection.execute(queries.SELECT_VISITORS_AFTER, {
                "project_id": project_id, "after": tail.last_id, "last": last_id})).all()
            if len(visitors) > REREAD_AFTER_VISITORS:
                kept, new, visitors = frozenset(), days, []
        change = Change(last_id, day_intervals(list(tail.days - kept), zone),
                        [v.visitor_key for v in visitors])
        reads: list[tuple[str, Select]] = []
        if visitors:
            ids, intervals = [v.visitor_id for v in visitors], day_intervals(list(kept), zone)
            reads += [(tail.events, queries.select_segment_events(project_id, intervals, ids)),
                      (tail.sessions, queries.select_segment_sessions(project_id, intervals, ids))]
        if new:
            intervals = day_intervals(list(new), zone)
            reads += [(tail.events, queries.select_segment_events(project_id, intervals)),
                      (tail.sessions, queries.select_segment_sessions(project_id, intervals))]
        for table, statement in reads:  # one connection: the snapshot's
            path = self.duck.store.root / ".tmp" / f"{table}.{os.urandom(6).hex()}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            change.files.append((table, path))
            await export(connection, statement, path)
        return change

    def apply(self, tail: Tail, change: Change) -> None:
        """Replace the tail's rows in one DuckDB transaction: readers see before or after."""
        cursor = self.duck.cursor()
        try:
            cursor.execute("BEGIN")
            for table, time_column in ((tail.events, "ts"), (tail.sessions, "started_at")):
                self.delete(cursor, table, time_column, change)
            for table, path in change.files:
                types = (queries.SEGMENT_EVENT_TYPES if table == tail.events
                         else queries.SESSION_TYPES)
                cursor.execute(f"INSERT INTO {table} SELECT * FROM {queries.read_csv(path, types)}")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()

    @staticmethod
    def delete(cursor: duckdb.DuckDBPyConnection, table: str, time_column: str,
               change: Change) -> None:
        for start, end in utc_naive(change.dropped):
            cursor.execute(f"DELETE FROM {table} WHERE {time_column} >= ? AND {time_column} < ?",
                           [start, end])
        if change.visitor_keys:
            cursor.execute(f"DELETE FROM {table} WHERE list_contains(?::BIGINT[], visitor_key)",
                           [change.visitor_keys])
