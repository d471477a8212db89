"""The engine's statements for DuckDB: the PostgreSQL compiler with DuckDB's few differences,
and the row sources over segments plus PostgreSQL's rows of the days no segment holds."""

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger, ColumnElement, DateTime, FromClause, Integer, Numeric, Select, String, bindparam,
    column, exists, func, literal, null, select, table, true, union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.asyncpg import PGCompiler_asyncpg, PGDialect_asyncpg
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql.elements import BindParameter, Extract
from sqlalchemy.sql.functions import Function
from sqlalchemy.sql.selectable import Join

from sightline.segments.queries import (
    EVENT_TYPES, SESSION_PREFIX, SESSION_TYPES, event_columns, session_columns, utc_naive, within,
)
from sightline.stats.query import Filter
from sightline.stats.sql.lists import NearestJoin
from sightline.stats.sql.sources import (
    EVENT, SESSION, Source, condition, event_column, event_conditions, same_session,
    session_conditions,
)

Interval = tuple[datetime, datetime]
SQL_TYPES = {"TIMESTAMP": DateTime(), "BIGINT": BigInteger(), "INTEGER": Integer(),
             "VARCHAR": String()}


class DuckCompiler(PGCompiler_asyncpg):
    def visit_function(self, fn: Function[Any], **kw: Any) -> str:
        """width_bucket(instant, thresholds) as a binary search over the sorted thresholds, one
        CASE per step: DuckDB has no such function, and the list macro it falls back to costs
        rows × buckets (a daily series over a year: 367 comparisons per row)."""
        if fn.name != "width_bucket":
            return super().visit_function(fn, **kw)
        operand, thresholds = fn.clauses.clauses
        assert isinstance(thresholds, BindParameter)  # stats.sql.aggregates.bucket_of binds them
        instant = self.process(operand, **kw)
        starts = [f"TIMESTAMP '{utc_naive(t).isoformat(sep=' ')}'" for t in thresholds.value]
        return (f"(CASE WHEN {instant} IS NULL THEN NULL ELSE "
                f"{bisect(instant, starts, 0, len(starts))} END)")

    def visit_join(self, join: Join, asfrom: bool = False, **kw: Any) -> str:
        if not isinstance(join, NearestJoin):
            return super().visit_join(join, asfrom=asfrom, **kw)
        kind = " ASOF LEFT JOIN " if join.isouter else " ASOF JOIN "
        return (join.left._compiler_dispatch(self, asfrom=True, **kw) + kind
                + join.right._compiler_dispatch(self, asfrom=True, **kw)
                + " ON " + join.onclause._compiler_dispatch(self, **kw))

    def visit_extract(self, extract: Extract, **kw: Any) -> str:
        """Epoch seconds as an exact decimal (DuckDB's EXTRACT(epoch) is a double)."""
        if extract.field == "epoch":
            return f"(epoch_us({self.process(extract.expr, **kw)}) * 0.000001)"
        return super().visit_extract(extract, **kw)


class DuckDialect(PGDialect_asyncpg):
    statement_compiler = DuckCompiler
    bind_typing = BindTyping.NONE


DIALECT = DuckDialect()


def bisect(value: str, starts: list[str], low: int, high: int) -> str:
    """SQL for how many of the sorted `starts` are <= value, knowing it is in [low, high]."""
    if low == high:
        return str(low)
    middle = (low + high + 1) // 2
    return (f"CASE WHEN {value} >= {starts[middle - 1]} THEN {bisect(value, starts, middle, high)}"
            f" ELSE {bisect(value, starts, low, middle - 1)} END")


def compiled(statement: Select) -> tuple[str, list[Any]]:
    result = statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    return result.string, [utc_naive(result.params[n]) for n in result.positiontup or ()]


def sql_type(name: str, kind: str) -> Any:
    if name == "properties":
        return JSONB()
    return SQL_TYPES.get(kind, Numeric())


def columns(types: dict[str, str]) -> list[Any]:
    return [column(name, sql_type(name, kind)) for name, kind in types.items()]


def parquet(files: Sequence[Path], types: dict[str, str]) -> FromClause:
    paths = bindparam("files", [str(f) for f in files], unique=True)
    return func.read_parquet(paths).table_valued(*columns(types)).alias("p")


def table_rows(name: str, types: dict[str, str]) -> FromClause:
    return table(name, *columns(types))


def segment_event_conditions(rows: FromClause, filters: tuple[Filter, ...]) -> list[ColumnElement[bool]]:
    return [condition(rows.c[SESSION_PREFIX + f.dimension], f) if f.on_session
            else condition(event_column(rows, f.dimension), f) for f in filters]


def matching_events(rows: FromClause, intervals: list[Interval],
                    filters: tuple[Filter, ...]) -> Select:
    """Events of segment rows (Parquet or a kept tail) in the intervals, filtered."""
    return (select(*(rows.c[n] for n in EVENT_TYPES))
            .where(within(rows.c.ts, intervals), *segment_event_conditions(rows, filters)))


def matching_sessions(rows: FromClause, intervals: list[Interval], filters: tuple[Filter, ...],
                      with_event: Source | None) -> Select:
    """Sessions of segment rows starting in the intervals, filtered, with a matching event
    when there are event filters."""
    where = [within(rows.c.started_at, intervals),
             *(condition(rows.c[f.dimension], f) for f in filters if f.on_session)]
    if with_event is not None:
        e = with_event.rows.c
        where.append(exists().where(e.visitor_key == rows.c.visitor_key,
                                    e.session_key == rows.c.session_key))
    return select(*(rows.c[n] for n in SESSION_TYPES)).where(*where)


def loaded(name: str, types: dict[str, str]) -> Select:
    """Every row of a table of PostgreSQL rows loaded for this request (already filtered)."""
    rows = table_rows(name, types)
    return select(*(rows.c[n] for n in types))


def view(parts: list[Select], name: str) -> Source:
    rows = union_all(*parts).cte(name)
    return Source(rows, rows, [])


def select_tail_events(project_id: str, tail: list[Interval], filters: tuple[Filter, ...],
                       with_properties: bool) -> Select:
    """PostgreSQL's matching events in the tail intervals, as segment columns. Each event looks
    its session up by primary key (a LATERAL with LIMIT is never turned into a join that
    scans every session of the project: the tail is a few days at most)."""
    e = EVENT.alias("e")
    where = [e.c.project_id == project_id, within(e.c.ts, tail),
             *event_conditions(e, tuple(f for f in filters if not f.on_session))]
    from_clause: FromClause = e
    session_filters = tuple(f for f in filters if f.on_session)
    if session_filters:
        s = SESSION.alias("s")
        session = (select(*(s.c[f.dimension] for f in session_filters))
                   .where(same_session(e, s)).limit(1).lateral("ls"))
        from_clause = e.join(session, true())
        where += session_conditions(session, session_filters)
    columns = event_columns(e)
    if not with_properties:
        columns = [*columns[:-1], null().label("properties")]
    return select(*columns).select_from(from_clause).where(*where)


def select_tail_sessions(project_id: str, tail: list[Interval],
                         filters: tuple[Filter, ...]) -> Select:
    """PostgreSQL's matching sessions starting in the tail intervals; with event filters, each
    session probes its own events (LATERAL with LIMIT, by the visitor index)."""
    s = SESSION.alias("s")
    where = [s.c.project_id == project_id, within(s.c.started_at, tail),
             *session_conditions(s, tuple(f for f in filters if f.on_session))]
    from_clause: FromClause = s
    event_filters = tuple(f for f in filters if not f.on_session)
    if event_filters:
        e = EVENT.alias("ef")
        match = (select(literal(1).label("hit")).select_from(e)
                 .where(same_session(e, s), e.c.ts >= s.c.started_at, e.c.ts <= s.c.ended_at,
                        *event_conditions(e, event_filters))
                 .limit(1).lateral("m"))
        from_clause = s.join(match, true())
    return select(*session_columns(s)).select_from(from_clause).where(*where)
