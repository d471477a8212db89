"""Choose the table family that answers a query, then run the registry entry's function for it.

Families are tried in the order the entry lists them; each family has one condition here.
Daily rollups are per local day of the project's zone and unfiltered; columnar segments answer
what they hold part of (the rest of the range read from PostgreSQL); the base tables answer
everything.
"""

from collections.abc import Callable
from typing import Any

from sightline.stats.context import Context
from sightline.stats.query import StatsQuery, is_known_dimension
from sightline.stats.columnar.reports import segments_hold
from sightline.stats.reports import BASE, COLUMNAR, ROLLUPS, report


def goals_need_events(ctx: Context, query: StatsQuery) -> bool:
    """A goal on the event named pageview is not in the event rollup (it lists custom events)."""
    return query.report == "goals" and any(goal.event == "pageview" for goal in ctx.goals)


def rollup_shaped(query: StatsQuery, timezone: str) -> bool:
    """Unfiltered, by local day of the project's zone, over rollup dimensions: what the rollups
    can answer, the project's goals aside."""
    return (
        ROLLUPS in report(query.report).families
        and not query.filters
        and query.tz == timezone
        and query.interval != "hour"
        and query.event is None
        and (query.dimension is None or is_known_dimension(query.dimension))
    )


def rollups_answer(ctx: Context, query: StatsQuery) -> bool:
    return rollup_shaped(query, ctx.timezone) and not goals_need_events(ctx, query)


CONDITIONS: dict[str, Callable[[Context, StatsQuery], bool]] = {
    ROLLUPS: rollups_answer,
    COLUMNAR: segments_hold,
    BASE: lambda ctx, query: True,
}


def choose_family(ctx: Context, query: StatsQuery) -> str:
    families = report(query.report).families
    return next(family for family in families if CONDITIONS[family](ctx, query))


async def run_report(ctx: Context, query: StatsQuery, family: str | None = None) -> Any:
    """The `results` of a query, from the chosen family (or the one given)."""
    entry = report(query.report)
    return await entry.families[family or choose_family(ctx, query)](ctx, query)
