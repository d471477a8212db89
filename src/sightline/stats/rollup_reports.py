"""The rollup family: reports from daily rollups (stats.rollup_read), for unfiltered queries in
the project's zone by day, week or month. Same results as stats.base_reports, from day rows."""

import asyncio
from datetime import date, timedelta
from typing import Any

from pyroaring import BitMap

from sightline.models import Goal
from sightline.stats import metrics, periods
from sightline.stats import rollup_read as rollups
from sightline.stats.aggregate import Aggregate
from sightline.stats.context import Context, ReportFunction
from sightline.stats.query import StatsQuery, is_session_dimension
from sightline.stats.shape import (
    active_users_results, cohort_row, overview_ranges, overview_results, revenue_results,
    sort_and_page,
)
from sightline.stats.sql.day_rows import SOURCE_REFERRER, TOTAL


async def aggregates(ctx: Context, first: date, last: date, dimension: str) -> dict[str, Aggregate]:
    return await rollups.read_merged(ctx.runner, ctx.project_id, ctx.timezone, first, last,
                                     dimension, ctx.merged_days)


async def total(ctx: Context, first: date, last: date, session_list: bool = False) -> dict[str, Any]:
    merged = await aggregates(ctx, first, last, TOTAL)
    return merged.get(TOTAL, Aggregate()).metrics_row(session_list)


async def overview(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    rows = await asyncio.gather(*(total(ctx, a, b) for a, b in overview_ranges(query)))
    return overview_results(list(rows))


async def timeseries(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    interval = query.interval or "day"
    by_day = await rollups.read_days(ctx.runner, ctx.project_id, ctx.timezone, query.date_from,
                                     query.date_to, TOTAL, ctx.merged_days)
    buckets: dict[str, Aggregate] = {}
    for day, values in by_day.items():
        bucket = buckets.setdefault(periods.calendar_start(day, interval).isoformat(), Aggregate())
        bucket.merge(values.get(TOTAL, Aggregate()))
    labels = periods.buckets(query.date_from, query.date_to, periods.ZoneInfo(query.tz),
                             interval).labels
    return [{"date": label, **{m: metrics.show(m, buckets.get(label, Aggregate())
                                               .metrics_row(session_list=False))
                               for m in query.metrics}}
            for label in labels]


def listed(merged: dict[str, Aggregate], dimension: str, key_name: str, names: tuple[str, ...],
           query: StatsQuery, total_visitors: int = 0) -> list[dict[str, Any]]:
    session_list = is_session_dimension(dimension)
    rows = []
    for value, aggregate in merged.items():
        raw = aggregate.metrics_row(session_list)
        if session_list and not raw["visits"]:
            continue
        row = {key_name: value}
        for name in names:
            row[name] = (metrics.percent(raw["visitors"], total_visitors)
                         if name == "conversion_rate" else metrics.show(name, raw))
        rows.append(row)
    return sort_and_page(rows, names[0], query)


async def dimension_list(ctx: Context, query: StatsQuery, dimension: str, key_name: str,
                         names: tuple[str, ...]) -> list[dict[str, Any]]:
    reads = [aggregates(ctx, query.date_from, query.date_to, dimension)]
    if "conversion_rate" in names:
        reads.append(total(ctx, query.date_from, query.date_to, is_session_dimension(dimension)))
    merged, *totals = await asyncio.gather(*reads)
    return listed(merged, dimension, key_name, names, query,
                  totals[0]["visitors"] if totals else 0)


async def referrers(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    prefix = f"{query.source}\n"
    merged = await aggregates(ctx, query.date_from, query.date_to, SOURCE_REFERRER)
    of_source = {value.removeprefix(prefix): aggregate for value, aggregate in merged.items()
                 if value.startswith(prefix)}
    return listed(of_source, "referrer", "referrer", ("visitors", "visits"), query)


async def exit_pages(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    merged = await aggregates(ctx, query.date_from, query.date_to, "exit_page")
    rows = [{"exit_page": value, "exits": a.counts["visits"],
             "visitors": len(a.sets["session_visitors"]),
             "exit_rate": metrics.percent(a.counts["visits"], a.counts["exit_pageviews"])}
            for value, a in merged.items() if a.counts["visits"]]
    return sort_and_page(rows, "exits", query)


def goal_aggregate(goal: Goal, pages: dict[str, Aggregate], events: dict[str, Aggregate]) -> Aggregate:
    reached = Aggregate()
    if goal.event is not None:
        reached.merge(events.get(goal.event, Aggregate()))
        return reached
    page = goal.page or ""
    for value, aggregate in pages.items():
        if value == page or (page.endswith("*") and value.startswith(page[:-1])):
            reached.merge(aggregate)
    return reached


async def goals(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    if not ctx.goals:
        return []
    pages, events, totals = await asyncio.gather(
        aggregates(ctx, query.date_from, query.date_to, "page"),
        aggregates(ctx, query.date_from, query.date_to, "event"),
        total(ctx, query.date_from, query.date_to),
    )
    results = []
    for goal in ctx.goals:
        reached = goal_aggregate(goal, pages, events)
        visitors = len(reached.sets["event_visitors"])
        results.append({"goal": goal.name, "visitors": visitors,
                        "conversions": reached.counts["events"],
                        "conversion_rate": metrics.percent(visitors, totals["visitors"]),
                        "revenue": metrics.money(reached.sums["revenue"])})
    return sort_and_page(results, "visitors", query)


async def revenue(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    return revenue_results(await total(ctx, query.date_from, query.date_to))


async def active_users(ctx: Context, query: StatsQuery) -> dict[str, Any]:
    first = query.date_from - timedelta(days=29)
    by_day = await rollups.read_days(ctx.runner, ctx.project_id, ctx.timezone, first,
                                     query.date_to, TOTAL, ctx.merged_days)
    daily = [by_day[first + timedelta(days=i)].get(TOTAL, Aggregate()).sets["event_visitors"]
             for i in range((query.date_to - first).days + 1)]
    return active_users_results([
        {"date": (first + timedelta(days=index)).isoformat(), "dau": len(daily[index]),
         "wau": len(BitMap.union(*daily[index - 6: index + 1])),
         "mau": len(BitMap.union(*daily[index - 29: index + 1]))}
        for index in range(29, len(daily))
    ])


def union_of_days(daily: dict[date, BitMap], first: date, end: date) -> BitMap:
    """Visitors of the days in [first, end)."""
    days = (first + timedelta(days=i) for i in range((end - first).days))
    return BitMap.union(*(daily[day] for day in days if day in daily), BitMap())


async def retention(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    """Cohorts from daily visitor sets: a cohort is the bucket's visitors minus everyone seen
    before it, since the project's first day."""
    interval = query.interval or "week"
    count = query.periods or 8
    starts = periods.cohort_starts(query.date_from, query.date_to, interval)
    if not starts:
        return []
    bounds = periods.following_starts(starts[0], len(starts) + count, interval)
    first = await rollups.first_day(ctx.runner, ctx.project_id)
    daily: dict[date, BitMap] = {}
    if first is not None and first < bounds[-1]:
        by_day = await rollups.read_days(ctx.runner, ctx.project_id, ctx.timezone, first,
                                         bounds[-1] - timedelta(days=1), TOTAL,
                                         ctx.merged_days)
        daily = {day: values[TOTAL].sets["event_visitors"]
                 for day, values in by_day.items() if TOTAL in values}
    origin = min([first, bounds[0]]) if first else bounds[0]
    active = [union_of_days(daily, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    results = []
    for index, start in enumerate(starts):
        cohort = active[index] - union_of_days(daily, origin, start)
        results.append(cohort_row(start, [len(cohort & active[index + offset])
                                          for offset in range(count)]))
    return results


async def breakdown(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    dimension = query.dimension or "page"
    return await dimension_list(ctx, query, dimension, dimension, query.metrics)


def dimension_list_of(dimension: str | None, key_name: str,
                      names: tuple[str, ...]) -> ReportFunction:
    """The list of one dimension's values (dimension None: the query's property)."""
    async def report(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
        return await dimension_list(ctx, query, dimension or query.dimension or "", key_name,
                                    names)
    return report
