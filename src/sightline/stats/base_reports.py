"""The base-table family: reports computed from the `session` and `event` tables, for any
filters, zone and interval (SQL in stats.sql). The columnar family runs the same functions over
its own tables and runner (stats.columnar). One function per registry entry; each takes a
validated StatsQuery and returns the `results` part of the response.
"""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Label, distinct, func

from sightline.stats import metrics, periods
from sightline.stats.context import Context, ReportFunction, instant_range
from sightline.stats.funnel import deepest_steps
from sightline.stats.query import (
    EVENT_METRICS, FUNNEL_WINDOWS, Filter, StatsQuery, is_session_dimension,
)
from sightline.stats.shape import (
    active_users_results, cohort_row, overview_ranges, overview_results, page_window,
    revenue_results, sort_and_page,
)
from sightline.stats.sql import aggregates, cohorts, lists, vitals
from sightline.stats.sql.sources import Source, event_column

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COUNT_METRICS = ("visitors", "visits", "pageviews", "events", "exits", "conversions")


def microseconds(instant: datetime) -> int:
    """Microseconds since the epoch, as PostgreSQL computes them in the funnel statement."""
    return (instant - EPOCH) // timedelta(microseconds=1)


def events_of(ctx: Context, query: StatsQuery, start: datetime, end: datetime) -> Source:
    return ctx.tables.events(ctx.project_id, start, end, query.filters)


def sessions_of(ctx: Context, query: StatsQuery, start: datetime, end: datetime) -> Source:
    return ctx.tables.sessions(ctx.project_id, start, end, query.filters)


def without_visitors(labels: list[Label]) -> list[Label]:
    return [label for label in labels if label.name != "visitors"]


async def totals(ctx: Context, query: StatsQuery, start: datetime, end: datetime) -> dict[str, Any]:
    events, sessions = events_of(ctx, query, start, end), sessions_of(ctx, query, start, end)
    event_row, session_row = await ctx.runner.all(
        aggregates.select_totals(events, aggregates.event_aggregates(events)),
        aggregates.select_totals(sessions, without_visitors(aggregates.session_aggregates(sessions))),
    )
    return {**event_row[0], **session_row[0]}


async def overview(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    zone = ZoneInfo(query.tz)
    rows = await asyncio.gather(*(totals(ctx, query, *periods.instant_range(a, b, zone))
                                  for a, b in overview_ranges(query)))
    return overview_results(list(rows))


async def timeseries(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    buckets = periods.buckets(query.date_from, query.date_to, ZoneInfo(query.tz),
                              query.interval or "day")
    start, end = buckets.thresholds[0], buckets.thresholds[-1]
    statements = []
    if any(m in EVENT_METRICS for m in query.metrics):
        events = events_of(ctx, query, start, end)
        statements.append(aggregates.select_buckets(
            events, events.rows.c.ts, buckets.thresholds, aggregates.event_aggregates(events)))
    if any(m not in EVENT_METRICS for m in query.metrics):
        sessions = sessions_of(ctx, query, start, end)
        statements.append(aggregates.select_buckets(
            sessions, sessions.rows.c.started_at, buckets.thresholds,
            without_visitors(aggregates.session_aggregates(sessions))))
    by_bucket: dict[int, dict[str, Any]] = {}
    for rows in await ctx.runner.all(*statements):
        for row in rows:
            by_bucket.setdefault(row["bucket"], {}).update(row)
    return [
        {"date": label, **{m: metrics.show(m, by_bucket.get(i, {})) for m in query.metrics}}
        for i, label in enumerate(buckets.labels, start=1)
    ]


def metric_value(name: str, row: dict[str, Any], total_visitors: int) -> int | float:
    if name == "conversion_rate":
        return metrics.percent(row["visitors"] or 0, total_visitors)
    return metrics.show(name, row)


def shape_rows(rows: list[dict[str, Any]], key_name: str, names: tuple[str, ...],
               total_visitors: int = 0) -> list[dict[str, Any]]:
    return [{key_name: row["key"], **{m: metric_value(m, row, total_visitors) for m in names}}
            for row in rows]


async def grouped(
    ctx: Context, query: StatsQuery, source: Source, key: ColumnElement[str],
    labels: list[Label], key_name: str, names: tuple[str, ...], session_list: bool = False,
) -> list[dict[str, Any]]:
    """Rows of a list report; conversion_rate needs the visitors of the unfiltered query."""
    total = (await visitors_without_event_filters(ctx, query, session_list)
             if "conversion_rate" in names else 0)
    first = names[0]
    if first in COUNT_METRICS:
        limit, offset = page_window(query)
        statement = aggregates.select_groups(source, key, labels, first, limit, offset)
        return shape_rows(await ctx.runner.rows(statement), key_name, names, total)
    rows = shape_rows(await ctx.runner.rows(aggregates.select_groups(source, key, labels)),
                      key_name, names, total)
    return sort_and_page(rows, first, query)


async def session_list(
    ctx: Context, query: StatsQuery, dimension: str, names: tuple[str, ...], key_name: str,
) -> list[dict[str, Any]]:
    start, end = instant_range(query)
    if query.source is not None:
        query = replace(query, filters=(*query.filters, Filter("source", "==", (query.source,))))
    sessions = sessions_of(ctx, query, start, end)
    return await grouped(ctx, query, sessions, sessions.rows.c[dimension],
                         aggregates.session_aggregates(sessions), key_name, names,
                         session_list=True)


def event_list_conditions(events: Source, dimension: str, event: str | None) -> list[ColumnElement[bool]]:
    e = events.rows.c
    conditions = []
    if dimension == "page":
        conditions.append(e.name == "pageview")
    elif dimension == "event":
        conditions.append(e.name != "pageview")
    if event is not None:
        conditions.append(e.name == event)
    return conditions


async def visitors_without_event_filters(ctx: Context, query: StatsQuery,
                                         session_list: bool = False) -> int:
    """Visitors of the query without its page/event/prop conditions: of its events in range, or
    of its sessions starting in range (session lists)."""
    start, end = instant_range(query)
    source = (ctx.tables.sessions if session_list else ctx.tables.events)(
        ctx.project_id, start, end, query.session_filters)
    row = await ctx.runner.one(aggregates.select_totals(
        source, [func.count(distinct(source.rows.c.visitor_key)).label("visitors")]))
    return int(row["visitors"])


async def event_list(
    ctx: Context, query: StatsQuery, dimension: str, names: tuple[str, ...], key_name: str,
) -> list[dict[str, Any]]:
    start, end = instant_range(query)
    events = events_of(ctx, query, start, end)
    events = Source(events.rows, events.from_clause,
                    [*events.where, *event_list_conditions(events, dimension, query.event)])
    return await grouped(ctx, query, events, event_column(events.rows, dimension),
                         aggregates.event_aggregates(events), key_name, names)


async def exit_pages(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    start, end = instant_range(query)
    sessions = sessions_of(ctx, query, start, end)
    s = sessions.rows.c
    labels = [func.count().label("exits"), func.count(distinct(s.visitor_key)).label("visitors")]
    limit, offset = page_window(query)
    rows = await ctx.runner.rows(
        aggregates.select_groups(sessions, s.exit_page, labels, "exits", limit, offset))
    views = await ctx.runner.rows(lists.select_page_pageviews(sessions, [r["key"] for r in rows]))
    pageviews = {row["key"]: row["pageviews"] for row in views}
    return [{"exit_page": row["key"], "exits": row["exits"], "visitors": row["visitors"],
             "exit_rate": metrics.percent(row["exits"], pageviews.get(row["key"], 0))}
            for row in rows]


async def goals(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    if not ctx.goals:
        return []
    start, end = instant_range(query)
    events = events_of(ctx, query, start, end)
    row = await ctx.runner.one(lists.select_goal_totals(events, list(ctx.goals)))
    total = await visitors_without_event_filters(ctx, query)
    results = [
        {"goal": goal.name, "visitors": row[f"visitors_{i}"],
         "conversions": row[f"conversions_{i}"],
         "conversion_rate": metrics.percent(row[f"visitors_{i}"], total),
         "revenue": metrics.money(row[f"revenue_{i}"])}
        for i, goal in enumerate(ctx.goals)
    ]
    return sort_and_page(results, "visitors", query)


async def revenue(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    start, end = instant_range(query)
    row = await ctx.runner.one(lists.select_revenue_totals(events_of(ctx, query, start, end)))
    return revenue_results(row)


async def web_vitals(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    """p50, p75 and p95 of one web vital per page, from the web_vitals events; timings in
    whole milliseconds, layout shift with 3 decimals."""
    start, end = instant_range(query)
    limit, offset = page_window(query)
    vital = query.vital or "lcp"
    shown = metrics.three_decimals if vital == "cls" else metrics.whole
    rows = await ctx.runner.rows(vitals.select_vitals(events_of(ctx, query, start, end), vital,
                                                      limit, offset))
    return [{"page": row["page"], "samples": row["samples"],
             **{name: shown(row[name]) for name in vitals.PERCENTILES}} for row in rows]


async def realtime(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    start, end = periods.realtime_range(ctx.now)
    events = events_of(ctx, query, start, end)
    pages_query = replace(query, limit=10, page=1)
    total, pages = await asyncio.gather(
        ctx.runner.one(aggregates.select_totals(events, aggregates.event_aggregates(events))),
        event_list_in(ctx, pages_query, start, end),
    )
    return {"visitors": total["visitors"], "pageviews": total["pageviews"], "pages": pages}


async def event_list_in(
    ctx: Context, query: StatsQuery, start: datetime, end: datetime,
) -> list[dict[str, Any]]:
    events = events_of(ctx, query, start, end)
    events = Source(events.rows, events.from_clause,
                    [*events.where, *event_list_conditions(events, "page", None)])
    return await grouped(ctx, query, events, events.rows.c.path,
                         aggregates.event_aggregates(events), "page", ("visitors", "pageviews"))


async def funnel(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    window = FUNNEL_WINDOWS[query.window or "1d"]
    start, end = instant_range(query)
    events = events_of(ctx, query, start, end + window)
    conditions = [lists.funnel_step_condition(events, s.kind, s.value) for s in query.steps]
    rows = await ctx.runner.rows(lists.select_funnel_times(events, conditions, start, end))
    # the search is CPU work over every visitor's step times: off the event loop
    reached = await asyncio.to_thread(deepest_steps, rows, len(query.steps), microseconds(start),
                                      microseconds(end), window // timedelta(microseconds=1))
    return funnel_steps(query, reached)


def funnel_steps(query: StatsQuery, reached: list[int]) -> list[dict[str, Any]]:
    """The funnel's rows from the visitors reaching each step."""
    first = reached[0]
    return [
        {"step": i + 1, "label": step.label, "visitors": count,
         "conversion_rate": metrics.percent(count, first),
         "dropoff": 0 if i == 0 else reached[i - 1] - count}
        for i, (step, count) in enumerate(zip(query.steps, reached, strict=True))
    ]


async def retention(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    zone = ZoneInfo(query.tz)
    interval = query.interval or "week"
    periods_count = query.periods or 8
    cohort_days = periods.cohort_starts(query.date_from, query.date_to, interval)
    if not cohort_days:
        return []
    bucket_days = periods.following_starts(cohort_days[0], len(cohort_days) + periods_count,
                                           interval)
    thresholds = [periods.day_start(day, zone) for day in bucket_days]
    all_events = ctx.tables.events(ctx.project_id, EPOCH, thresholds[-1], query.filters)
    rows = await ctx.runner.rows(cohorts.select_retention(
        all_events, thresholds[0], thresholds[len(cohort_days)], thresholds))
    counts = {(row["cohort"], row["active"]): row["visitors"] for row in rows}
    results = []
    for index, day in enumerate(cohort_days, start=1):
        retained = [counts.get((index, index + offset), 0) for offset in range(periods_count)]
        results.append(cohort_row(day, retained))
    return results


async def active_users(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    zone = ZoneInfo(query.tz)
    first = query.date_from - timedelta(days=29)
    days = [first + timedelta(days=i) for i in range((query.date_to - first).days + 2)]
    thresholds = [periods.day_start(day, zone) for day in days]
    events = events_of(ctx, query, thresholds[0], thresholds[-1])
    rows = await ctx.runner.rows(cohorts.select_active_users(events, thresholds, 30))
    by_day = {row["day"]: row for row in rows}
    return active_users_results([
        {"date": days[index - 1].isoformat(),
         **{n: by_day.get(index, {}).get(n, 0) for n in ("dau", "wau", "mau")}}
        for index in range(30, len(thresholds))
    ])


async def breakdown(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    dimension = query.dimension or "page"
    if is_session_dimension(dimension):
        return await session_list(ctx, query, dimension, query.metrics, dimension)
    return await event_list(ctx, query, dimension, query.metrics, dimension)


def session_list_of(dimension: str, names: tuple[str, ...]) -> ReportFunction:
    """The list of a session attribute, keyed by its name."""
    async def report(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
        return await session_list(ctx, query, dimension, names, dimension)
    return report


def event_list_of(dimension: str | None, key_name: str, names: tuple[str, ...]) -> ReportFunction:
    """The list of pages, event names or (dimension None) the query's property values."""
    async def report(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
        return await event_list(ctx, query, dimension or query.dimension or "", names, key_name)
    return report
