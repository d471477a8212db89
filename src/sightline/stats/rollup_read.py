"""Reading daily rollups: built days from `rollup_day`, the others (stale or never built) from
the base tables with the same day-row statements, merged exactly (stats.aggregate).

A range's built days, merged per value, are kept in process (`MergedDays`), keyed by each day
and the version it was built at: a built day changes only by being rebuilt, so an entry is
never stale. Under steady ingest a 30-day query then reads and merges only today's rows (from
the base tables) instead of 29 days of bitmaps again after every batch; and of today's rows,
the event-table ones are kept too, with the last event id they include, so after a batch
only its events are read (by primary key) and merged in. Session rows are read again: a
batch can change any of its visitors' sessions.
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
from sightline.segments.queries import SELECT_LAST_EVENT_ID
from sightline.stats.sql.day_rows import (
    day_statements, event_day_statement_by_ids, needs_events,
)


TailKey = tuple[str, str, str, tuple[date, ...]]  # project, zone, dimension, days not built


async def first_day(runner: Runner, project_id: str) -> date | None:
    day = (await runner.one(rollups.select_first_day(project_id)))["day"]
    return to_date(day) if day is not None else None


async def read_rows(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                    dimension: str, memo: MergedDays | None = None,
                    ) -> tuple[list[date], Sequence[list[dict[str, Any]]]]:
    """The day rows of `dimension` ('' for totals) over [first, last]: built days from the
    rollup, the others (stale or never built) from the base tables."""
    built = await built_versions(runner, project_id, first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    statements = [rollups.select_day_rows(project_id, sorted(built), dimension)] if built else []
    results = await asyncio.gather(runner.all(*statements),
                                   tail_results(runner, project_id, timezone, days, built,
                                                dimension, memo))
    return days, [*results[0], *results[1]]


async def built_versions(runner: Runner, project_id: str, first: date,
                         last: date) -> dict[date, int]:
    rows = await runner.rows(rollups.select_built_days(project_id, first, last))
    return {to_date(row["day"]): row["built_version"] for row in rows}


async def tail_results(runner: Runner, project_id: str, timezone: str, days: list[date],
                       built: dict[date, int], dimension: str,
                       memo: MergedDays | None) -> list[list[dict[str, Any]]]:
    """The day rows of the days not built (stale or never built: today) from the base tables.
    With a memo, their session rows are read once per last event id of the project (shared by
    the requests meanwhile), and their event-table rows are kept: only newer events are read."""
    tail = [day for day in days if day not in built]
    if not tail:
        return []
    zone = ZoneInfo(timezone)
    last = (await runner.rows(SELECT_LAST_EVENT_ID.bindparams(project_id=project_id))
            if memo is not None else [])
    if memo is None or not last:
        return list(await runner.all(*day_statements(project_id, tail, zone, dimension)))
    last_id, key = last[0]["id"], (project_id, zone.key, dimension, tuple(tail))
    statements = day_statements(project_id, tail, zone, dimension, with_events=False)
    session_rows = memo.by_last_event.get(key, last_id, lambda: runner.all(*statements))
    if not needs_events(dimension):
        return list(await session_rows)
    results, event_rows = await asyncio.gather(
        session_rows, kept_event_rows(runner, memo, key, last_id))
    return [*results, event_rows]


async def kept_event_rows(runner: Runner, memo: MergedDays, key: TailKey,
                          last_id: int) -> list[dict[str, Any]]:
    """The event-table day rows of (project, zone, dimension, days) up to event `last_id`: the
    kept rows, with the rows of the events after the last one they include merged in (a
    project's event ids grow in commit order, see segments.queries)."""
    kept = memo.kept_event_rows(key)
    if kept is not None and kept[0] >= last_id:
        return kept[1]
    project_id, timezone, dimension, days = key
    new_rows = await runner.rows(event_day_statement_by_ids(
        project_id, list(days), ZoneInfo(timezone), dimension, kept[0] if kept else None,
        last_id))
    rows = await asyncio.to_thread(compacted, [*kept[1], *new_rows]) if kept else new_rows
    memo.keep_event_rows(key, last_id, rows)
    return rows


def compacted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One event row per day and value (bitmap unions: CPU work)."""
    return [{"day": day, "dimension": dimension, "value": value, **aggregate.as_row("event")}
            for (day, dimension, value), aggregate in combine([rows], by_day_and_key).items()]


async def read_days(runner: Runner, project_id: str, timezone: str, first: date, last: date,
                    dimension: str, memo: MergedDays | None = None,
                    ) -> dict[date, dict[str, Aggregate]]:
    """Per day and value, the aggregates of `dimension` over [first, last]."""
    days, results = await read_rows(runner, project_id, timezone, first, last, dimension, memo)
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
    built_rows = ([rollups.select_day_rows(project_id, sorted(built), dimension)]
                  if past is None else [])
    read, results = await asyncio.gather(
        runner.all(*built_rows),
        tail_results(runner, project_id, timezone, days, built, dimension, memo))
    if past is None:
        past = await asyncio.to_thread(combine, read, by_value)
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
