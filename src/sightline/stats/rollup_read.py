"""Reading daily rollups: built days from `rollup_day`, the others (stale or never built) from
the base tables with the same day-row statements, merged exactly (stats.aggregate).

A range's built days, merged per value, are kept in process (`MergedDays`), keyed by each day
and the version it was built at: a built day changes only by being rebuilt, so an entry is
never stale. Under steady ingest a 30-day query then reads and merges only today's rows (from
the base tables) instead of 29 days of bitmaps again after every batch.
"""

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sightline.stats.aggregate import (
    Aggregate, Merged, MergedDays, by_day_and_key, combine, to_date,
)
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
    built = await built_versions(runner, project_id, first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    statements = [rollups.select_day_rows(project_id, sorted(built), dimension)] if built else []
    statements += tail_statements(project_id, timezone, days, built, dimension)
    return days, await runner.all(*statements)


async def built_versions(runner: Runner, project_id: str, first: date,
                         last: date) -> dict[date, int]:
    rows = await runner.rows(rollups.select_built_days(project_id, first, last))
    return {to_date(row["day"]): row["built_version"] for row in rows}


def tail_statements(project_id: str, timezone: str, days: list[date], built: dict[date, int],
                    dimension: str) -> list[Any]:
    """The day-row statements of the days not built (stale or never built)."""
    tail = [day for day in days if day not in built]
    return day_statements(project_id, tail, ZoneInfo(timezone), dimension) if tail else []


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
                      dimension: str, memo: MergedDays | None = None) -> Merged:
    """Per value, the aggregates of `dimension` over the whole of [first, last]."""
    if memo is None:
        _, results = await read_rows(runner, project_id, timezone, first, last, dimension)
        return await asyncio.to_thread(combine, results, by_value)  # bitmap unions: CPU work
    built = await built_versions(runner, project_id, first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    key = (project_id, timezone, dimension, tuple(sorted(built.items())))
    past = memo.get(key) if built else {}
    statements = tail_statements(project_id, timezone, days, built, dimension)
    if past is None:
        statements.insert(0, rollups.select_day_rows(project_id, sorted(built), dimension))
    results = list(await runner.all(*statements)) if statements else []
    if past is None:
        past = await asyncio.to_thread(combine, [results.pop(0)], by_value)
        memo.put(key, past)
    if not results:
        return past
    return with_tail(past, await asyncio.to_thread(combine, results, by_value))


def with_tail(past: Merged, tail: Merged) -> Merged:
    """The past's aggregates with the tail's merged in, leaving the past (kept) untouched."""
    merged = dict(past)
    for value, aggregate in tail.items():
        if value in past:
            aggregate.merge(past[value])
        merged[value] = aggregate
    return merged


def by_value(row: dict[str, Any]) -> Any:
    return row["value"]
