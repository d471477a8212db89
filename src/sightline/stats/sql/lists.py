"""Statements of the list reports that need more than a grouped aggregate."""

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger, ColumnElement, Select, and_, cast, distinct, func, or_, select, true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.selectable import Join

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


class NearestJoin(Join):
    """`left ASOF JOIN right ON ...` (DuckDB): each left row with the right row nearest to it
    by the condition's inequality. Only the columnar compiler renders it."""


def select_funnel_reached(events: Source, step_conditions: list[ColumnElement[bool]],
                          first_from: datetime, first_to: datetime,
                          window: timedelta) -> Select:
    """Visitors reaching each step, computed in the database (DuckDB). From every first-step
    event in [first_from, first_to), one nearest join per step finds the earliest matching
    event after the previous step's (the greedy search of stats.funnel) and drops it when it
    is later than the window allows. Chains that reach the same event keep only the latest
    first step: the rest of their way is the same, and it has the most time left."""
    e = events.rows.c
    matching = (select(e.visitor_key.label("visitor"), e.ts.label("at"),
                       *(c.label(f"is_{i}") for i, c in enumerate(step_conditions)))
                .select_from(events.from_clause).where(*events.where, or_(*step_conditions))
                .cte("funnel_events"))
    m = matching.c
    chain = (select(m.visitor, m.at.label("first"), m.at.label("last"))
             .where(m.is_0, m.at >= first_from, m.at < first_to).cte("reached_0"))
    chains = [chain]
    for step in range(1, len(step_conditions)):
        candidates = select(m.visitor, m.at).where(m[f"is_{step}"]).subquery(f"step_{step}")
        c, n = chain.c, candidates.c
        nearest = NearestJoin(chain, candidates, and_(n.visitor == c.visitor, n.at > c.last))
        chain = (select(c.visitor, func.max(c.first).label("first"), n.at.label("last"))
                 .select_from(nearest).where(n.at <= c.first + window)
                 .group_by(c.visitor, n.at).cte(f"reached_{step}"))
        chains.append(chain)
    return select(*(select(func.count(distinct(c.c.visitor))).scalar_subquery()
                    .label(f"reached_{i}") for i, c in enumerate(chains)))


def funnel_step_condition(events: Source, kind: str, value: str) -> ColumnElement[bool]:
    e = events.rows.c
    if kind == "page":
        return and_(e.name == "pageview", e.path == value)
    return e.name == value

