"""Run a report: from daily rollups when the plan allows it, from sessions and events otherwise."""

from typing import Any

from sightline.stats import rollup_reports, service
from sightline.stats.plan import uses_rollups
from sightline.stats.query import StatsQuery
from sightline.stats.service import Context


def goals_need_events(ctx: Context, query: StatsQuery) -> bool:
    """A goal on the event named pageview is not in the event rollup (it lists custom events)."""
    return query.report == "goals" and any(goal.event == "pageview" for goal in ctx.goals)


async def run_report(ctx: Context, query: StatsQuery) -> Any:
    if uses_rollups(query, ctx.timezone) and not goals_need_events(ctx, query):
        return await rollup_reports.run_report(ctx, query)
    return await service.run_on_base_tables(ctx, query)
