"""The columnar family's report functions: the base family's function for the report, run in
DuckDB over the project's segments, with the days they do not hold read from PostgreSQL."""

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from sightline.stats import base_reports as base
from sightline.stats.columnar.family import ColumnarRunner, ColumnarTables, coverage, listed
from sightline.stats.context import Context, ReportFunction, instant_range
from sightline.stats.query import FUNNEL_WINDOWS, PROPERTY_PREFIX, StatsQuery
from sightline.stats.sql import lists


def reads_properties(query: StatsQuery) -> bool:
    """Whether the report lists property values (filters on them are applied in PostgreSQL
    for the rows it reads there)."""
    return query.report == "properties" or (query.dimension or "").startswith(PROPERTY_PREFIX)


def segments_hold(ctx: Context, query: StatsQuery) -> bool:
    """The planner's condition: this process has DuckDB and a segment lists part of the range."""
    return ctx.duck is not None and listed(ctx.duck, ctx.project_id, ZoneInfo(ctx.timezone),
                                           *instant_range(query))


def over(function: ReportFunction) -> ReportFunction:
    async def report(ctx: Context, query: StatsQuery) -> Any:
        assert ctx.duck is not None
        zone = ZoneInfo(ctx.timezone)
        engine = ctx.runner.engine
        held = await coverage(engine, ctx.duck, ctx.project_id, zone)
        async with ctx.duck.tails.holding(engine, ctx.project_id, zone, held.unheld_days) as kept:
            tables = ColumnarTables(held, zone, reads_properties(query), kept)
            runner = ColumnarRunner(engine, ctx.duck, tables)
            try:
                return await function(replace(ctx, runner=runner, tables=tables), query)
            finally:
                runner.close()
    return report


async def nearest_funnel(ctx: Context, query: StatsQuery) -> list[dict[str, Any]]:
    """The funnel searched inside DuckDB (nearest joins), not per visitor in Python: the same
    answer as the base family's, without sending every visitor's step times to Python."""
    window = FUNNEL_WINDOWS[query.window or "1d"]
    start, end = instant_range(query)
    events = base.events_of(ctx, query, start, end + window)
    conditions = [lists.funnel_step_condition(events, s.kind, s.value) for s in query.steps]
    row = await ctx.runner.one(lists.select_funnel_reached(events, conditions, start, end, window))
    return base.funnel_steps(query, [row[f"reached_{i}"] for i in range(len(query.steps))])
