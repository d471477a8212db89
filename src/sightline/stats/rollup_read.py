"""Reading daily rollups: built days from `rollup_day`, the others (stale or never built) from
the base tables with the same day-row statements, merged exactly (stats.aggregate)."""

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sightline.stats.aggregate import Aggregate, by_day_and_key, combine, to_date
from sightline.stats.runner import Runner
from sightline.stats.sql import rollups
from sightline.stats.sql.day_rows import day_statements


async def first_day(runner: Runner, project_id: str) -> date | None:
    day = (await runner.one(rollups.select_first_day(project_id)))["day"]
    return to_date(day) if day is not None else None


async def read_rows(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                    dimension: str) -> tuple[list[date], Sequence[list[dict[str, Any]]]]:
    """The day rows of `dimension` ('' for totals) over [first, last]: built days from the
    rollup, the others (stale or never built) from the base tables."""
    built = {to_date(row["day"]) for row in await runner.rows(
        rollups.select_built_days(project_id, first, last))}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    tail = [day for day in days if day not in built]
    statements = [rollups.select_day_rows(project_id, sorted(built), dimension)] if built else []
    if tail:
        statements += day_statements(project_id, tail, ZoneInfo(timezone), dimension)
    return days, await runner.all(*statements)


async def read_days(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                    dimension: str) -> dict[date, dict[str, Aggregate]]:
    """Per day and value, the aggregates of `dimension` over [first, last]."""
    days, results = await read_rows(runner, project_id, timezone, first, last, dimension)
    by_day: dict[date, dict[str, Aggregate]] = {day: {} for day in days}
    combined = await asyncio.to_thread(combine, results, by_day_and_key)  # bitmap unions: CPU
    for (day, _, value), aggregate in combined.items():
        by_day[day][value] = aggregate
    return by_day


async def read_merged(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                      dimension: str) -> dict[str, Aggregate]:
    """Per value, the aggregates of `dimension` over the whole of [first, last]."""
    _, results = await read_rows(runner, project_id, timezone, first, last, dimension)
    return await asyncio.to_thread(combine, results, by_value)  # bitmap unions: CPU work


def by_value(row: dict[str, Any]) -> Any:
    return row["value"]
