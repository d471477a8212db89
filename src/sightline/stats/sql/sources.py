"""The two row sources every stats query starts from, scoped to one project.

* matching events: events whose timestamp is in the range, meeting every page/event/prop
  condition, in sessions meeting every session-attribute condition;
* matching sessions: sessions starting in the range, meeting every session-attribute condition
  and containing at least one event that meets every page/event/prop condition.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, FromClause, Table, and_, func, not_, or_, select, true

from sightline.models import Event, Session
from sightline.stats.query import PROPERTY_PREFIX, Filter

EVENT: Table = Event.__table__  # type: ignore[assignment]
SESSION: Table = Session.__table__  # type: ignore[assignment]


def event_column(events: FromClause, dimension: str) -> ColumnElement[str]:
    if dimension == "page":
        return events.c.path
    if dimension == "event":
        return events.c.name
    return events.c.properties[dimension.removeprefix(PROPERTY_PREFIX)].astext


def contains_any(column: ColumnElement[str], values: tuple[str, ...]) -> ColumnElement[bool]:
    return or_(*(func.strpos(func.lower(column), func.lower(value)) > 0 for value in values))


def condition(column: ColumnElement[str], flt: Filter) -> ColumnElement[bool]:
    """`!=` and `!@` hold for an absent value; `==` and `=@` never do."""
    if flt.operator == "==":
        return column.in_(flt.values)
    if flt.operator == "!=":
        return or_(column.is_(None), column.not_in(flt.values))
    if flt.operator == "=@":
        return and_(column.is_not(None), contains_any(column, flt.values))
    return or_(column.is_(None), not_(contains_any(column, flt.values)))


def event_conditions(events: FromClause, filters: tuple[Filter, ...]) -> list[ColumnElement[bool]]:
    return [condition(event_column(events, f.dimension), f) for f in filters]


def session_conditions(sessions: FromClause, filters: tuple[Filter, ...]) -> list[ColumnElement[bool]]:
    return [condition(sessions.c[f.dimension], f) for f in filters]


def same_session(events: FromClause, sessions: FromClause) -> ColumnElement[bool]:
    return and_(events.c.project_id == sessions.c.project_id,
                events.c.visitor_id == sessions.c.visitor_id,
                events.c.session_key == sessions.c.session_key)


@dataclass(frozen=True)
class Source:
    """A FROM clause with its WHERE conditions; `rows` is the alias metrics are computed on."""

    rows: FromClause
    from_clause: FromClause
    where: list[ColumnElement[bool]]


def matching_events(
    project_id: str, start: datetime, end: datetime, filters: tuple[Filter, ...],
) -> Source:
    events = EVENT.alias("e")
    where = [events.c.project_id == project_id, events.c.ts >= start, events.c.ts < end,
             *event_conditions(events, tuple(f for f in filters if not f.on_session))]
    session_filters = tuple(f for f in filters if f.on_session)
    if not session_filters:
        return Source(events, events, where)
    sessions = session_of(events)
    joined = events.join(sessions, true())
    return Source(events, joined, [*where, *session_conditions(sessions, session_filters)])


# Joins between events and sessions are written as probes by primary key, correlated and behind
# OFFSET 0 so the planner cannot flatten them into a join: on a project the statistics do not
# know yet ("one row"), a join became a nested loop that read every row of the project again
# for each row of the other side (30 s and more for 40,000 events).

def session_of(events: FromClause) -> FromClause:
    """Each event's session, looked up by primary key."""
    s = SESSION.alias("s")
    return (select(s).where(same_session(events, s)).offset(0)
            .lateral("s"))


def matching_sessions(
    project_id: str, start: datetime, end: datetime, filters: tuple[Filter, ...],
) -> Source:
    sessions = SESSION.alias("s")
    where = [sessions.c.project_id == project_id, sessions.c.started_at >= start,
             sessions.c.started_at < end,
             *session_conditions(sessions, tuple(f for f in filters if f.on_session))]
    event_filters = tuple(f for f in filters if not f.on_session)
    if event_filters:
        events = EVENT.alias("ef")
        where.append(select(events.c.id).where(
            same_session(events, sessions), events.c.ts >= sessions.c.started_at,
            events.c.ts <= sessions.c.ended_at, *event_conditions(events, event_filters),
        ).offset(0).exists())  # a probe per session through (project, visitor, ts), see above
    return Source(sessions, sessions, where)

