"""Statements of the list reports that need more than a grouped aggregate."""

from datetime import datetime

from sqlalchemy import (
    BigInteger, ColumnElement, Select, and_, cast, distinct, func, or_, select, true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from sightline.models import Goal
from sightline.stats.sql.aggregates import labelled
from sightline.stats.sql.sources import EVENT, Source, same_session


def page_goal_condition(path: ColumnElement[str], page: str) -> ColumnElement[bool]:
    if page.endswith("*"):
        return func.starts_with(path, page[:-1])
    return path == page


def goal_condition(events: Source, goal: Goal) -> ColumnElement[bool]:
    e = events.rows.c
    if goal.event is not None:
        return e.name == goal.event
    return and_(e.name == "pageview", page_goal_condition(e.path, goal.page or ""))


def select_goal_totals(events: Source, goals: list[Goal]) -> Select:
    """Visitors, conversions and revenue of every goal, in one pass over the matching events."""
    e = events.rows.c
    columns = []
    for index, goal in enumerate(goals):
        reached = goal_condition(events, goal)
        columns += [
            func.count(distinct(e.visitor_key)).filter(reached).label(f"visitors_{index}"),
            func.count().filter(reached).label(f"conversions_{index}"),
            func.sum(e.revenue).filter(reached).label(f"revenue_{index}"),
        ]
    return select(*columns).select_from(events.from_clause).where(*events.where)


def select_page_pageviews(sessions: Source, paths: list[str]) -> Select:
    """Pageviews of the given paths inside the matching sessions (for the exit rate)."""
    s, pe = sessions.rows, EVENT.alias("pe")
    # a probe per session, not a join (see stats.sql.sources)
    views = (select(pe.c.path).where(same_session(pe, s), pe.c.ts >= s.c.started_at,
                                     pe.c.ts <= s.c.ended_at, pe.c.name == "pageview",
                                     pe.c.path.in_(paths))
             .offset(0).lateral("pe"))
    return (select(views.c.path.label("key"), func.count().label("pageviews"))
            .select_from(sessions.from_clause.join(views, true())).where(*sessions.where)
            .group_by(views.c.path))


def select_revenue_totals(events: Source) -> Select:
    return (select(*labelled(events, "event", ("revenue", "orders", "paying_visitors",
                                               "visitors")))
            .select_from(events.from_clause).where(*events.where))


def microseconds(instant: ColumnElement[datetime]) -> ColumnElement[int]:
    return cast(func.extract("epoch", instant) * 1_000_000, BigInteger)


def select_funnel_times(events: Source, step_conditions: list[ColumnElement[bool]],
                        first_from: datetime, first_to: datetime) -> Select:
    """Per visitor with a first step in [first_from, first_to): the sorted instants (in
    microseconds) of the events matching each step. One pass over the matching events, grouped
    by visitor (a semi-join to the visitors who started became a nested loop, re-reading the
    starters for every event, on a project the statistics did not know yet)."""
    e = events.rows.c
    at = microseconds(e.ts)
    times = [func.array_agg(aggregate_order_by(at, at)).filter(condition).label(f"step_{i}")
             for i, condition in enumerate(step_conditions)]
    started = and_(step_conditions[0], e.ts >= first_from, e.ts < first_to)
    return (select(*times).select_from(events.from_clause)
            .where(*events.where, or_(*step_conditions))
            .group_by(e.visitor_key)
            .having(func.bool_or(started)))


def funnel_step_condition(events: Source, kind: str, value: str) -> ColumnElement[bool]:
    e = events.rows.c
    if kind == "page":
        return and_(e.name == "pageview", e.path == value)
    return e.name == value

