"""SQL of the segments: rows exported from PostgreSQL, and how DuckDB reads and writes them.

Timestamps leave PostgreSQL as UTC wall time (DuckDB TIMESTAMP); properties as a JSON object
of their `->>` texts, so DuckDB's `->>` gives exactly what PostgreSQL's gives.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger, ColumnElement, FromClause, Label, Select, String, Text, and_, any_, bindparam,
    cast, false, func, or_, select, text, true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from sightline.models import Event, Session
from sightline.stats.query import SESSION_DIMENSIONS

EVENT_TYPES = {
    "ts": "TIMESTAMP", "visitor_key": "BIGINT", "session_key": "VARCHAR", "name": "VARCHAR",
    "path": "VARCHAR", "revenue": "DECIMAL(20,6)", "properties": "VARCHAR",
}
SESSION_TYPES = {
    "started_at": "TIMESTAMP", "visitor_key": "BIGINT", "session_key": "VARCHAR",
    "duration": "DECIMAL(16,6)", "pageviews": "INTEGER", "events": "INTEGER",
    **{name: "VARCHAR" for name in SESSION_DIMENSIONS},
}
# Each event row of a segment also carries its session's attributes, for session filters.
SESSION_PREFIX = "s_"
SEGMENT_EVENT_TYPES = {**EVENT_TYPES,
                       **{SESSION_PREFIX + name: "VARCHAR" for name in SESSION_DIMENSIONS}}

SELECT_DAY_VERSIONS = text("""
SELECT day, version FROM rollup_state
WHERE project_id = :project_id AND day BETWEEN :first AND :last
""")

SELECT_DAYS_WITH_DATA = text("""
SELECT day, version FROM rollup_state WHERE project_id = :project_id AND day <= :last
""")

# Ingest and the seeder insert a project's events holding the project's lock, so its event ids
# grow in commit order: the events committed after a snapshot are those above its last id.
SELECT_LAST_EVENT_ID = text("""
SELECT id FROM event WHERE project_id = :project_id ORDER BY id DESC LIMIT 1
""").columns(id=BigInteger)

SELECT_VISITORS_AFTER = text("""
SELECT DISTINCT visitor_id, visitor_key FROM event
WHERE project_id = :project_id AND id > :after AND id <= :last
""")

DIALECT = PGDialect_asyncpg()


def utc(instant: ColumnElement[datetime]) -> ColumnElement[datetime]:
    return func.timezone("UTC", instant)


def property_texts(properties: ColumnElement[object]) -> ColumnElement[str]:
    each = func.jsonb_each_text(properties).table_valued("key", "value").render_derived()
    return cast(select(func.jsonb_object_agg(each.c.key, each.c.value)).select_from(each)
                .scalar_subquery(), Text)


def event_columns(events: FromClause) -> list[Label]:
    e = events.c
    return [utc(e.ts).label("ts"), e.visitor_key.label("visitor_key"),
            e.session_key.label("session_key"), e.name.label("name"), e.path.label("path"),
            e.revenue.label("revenue"), property_texts(e.properties).label("properties")]


def session_columns(sessions: FromClause) -> list[Label]:
    s = sessions.c
    return [utc(s.started_at).label("started_at"), s.visitor_key.label("visitor_key"),
            s.session_key.label("session_key"), s.duration.label("duration"),
            s.pageviews.label("pageviews"), s.events.label("events"),
            *(s[name].label(name) for name in SESSION_DIMENSIONS)]


def utc_naive(value: Any) -> Any:
    """Instants as UTC wall time, the way segments store them."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, (list, tuple)):
        return type(value)(utc_naive(v) for v in value)
    return value


def within(instant: ColumnElement[datetime],
           intervals: Sequence[tuple[datetime, datetime]]) -> ColumnElement[bool]:
    if not intervals:
        return false()
    return or_(*(and_(instant >= a, instant < b) for a, b in intervals))


def visitor_list(visitor_ids: Sequence[str]) -> ColumnElement[list[str]]:
    return bindparam("visitor_ids", list(visitor_ids), type_=ARRAY(String), unique=True)


def select_segment_events(project_id: str, intervals: Sequence[tuple[datetime, datetime]],
                          visitor_ids: Sequence[str] | None = None) -> Select:
    """Each event in the intervals (of the given visitors only, when given) with its session's
    attributes; the session is looked up by primary key (a LATERAL with LIMIT is never turned
    into a join: on a project the statistics did not know yet, the join became a nested loop
    reading all of the project's sessions for each event)."""
    e = Event.__table__.alias("e")  # type: ignore[attr-defined]
    sessions = Session.__table__.alias("s")  # type: ignore[attr-defined]
    s = (select(*(sessions.c[name] for name in SESSION_DIMENSIONS))
         .where(sessions.c.project_id == e.c.project_id,
                sessions.c.visitor_id == e.c.visitor_id,
                sessions.c.session_key == e.c.session_key)
         .limit(1).lateral("s"))
    where = [e.c.project_id == project_id, within(e.c.ts, intervals)]
    if visitor_ids is not None:
        where.append(e.c.visitor_id == any_(visitor_list(visitor_ids)))
    return (select(*event_columns(e),
                   *(s.c[name].label(SESSION_PREFIX + name) for name in SESSION_DIMENSIONS))
            .select_from(e.join(s, true())).where(*where))


def select_segment_sessions(project_id: str, intervals: Sequence[tuple[datetime, datetime]],
                            visitor_ids: Sequence[str] | None = None) -> Select:
    s = Session.__table__.alias("s")  # type: ignore[attr-defined]
    where = [s.c.project_id == project_id, within(s.c.started_at, intervals)]
    if visitor_ids is not None:
        where.append(s.c.visitor_id == any_(visitor_list(visitor_ids)))
    return select(*session_columns(s)).where(*where)


def for_copy(statement: Select) -> tuple[str, list[object]]:
    """The statement as asyncpg SQL ($1, $2 ...) with its arguments, for COPY ... TO STDOUT."""
    compiled = statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    return compiled.string, [compiled.params[name] for name in compiled.positiontup or ()]


def quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def read_csv(path: Path, types: dict[str, str]) -> str:
    """DuckDB's reader of a PostgreSQL CSV export (NULL unquoted empty, '' quoted)."""
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in types.items())
    return (f"read_csv({quoted(path)}, columns = {{{columns}}}, header = false, "
            "auto_detect = false, quote = '\"', escape = '\"', allow_quoted_nulls = false)")


def column_list(types: dict[str, str]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in types.items())


def write_parquet(source: Path, types: dict[str, str], order: str, target: Path) -> str:
    return (f"COPY (SELECT * FROM {read_csv(source, types)} ORDER BY {order}) "
            f"TO {quoted(target)} (FORMAT parquet, COMPRESSION uncompressed)")


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"

