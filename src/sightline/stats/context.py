"""What every report function receives besides its query: how to run statements, the project,
the clock (the engine never reads it), the project's goals and the tables rows come from."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sightline.models import Goal
from sightline.segments.duck import Duck
from sightline.stats import periods
from sightline.stats.aggregate import MergedDays
from sightline.stats.query import StatsQuery
from sightline.stats.runner import Runner
from sightline.stats.tables import BASE_TABLES, Tables


@dataclass(frozen=True)
class Context:
    runner: Runner
    project_id: str
    timezone: str
    now: datetime
    goals: tuple[Goal, ...] = ()
    tables: Tables = BASE_TABLES  # where reports take their matching events and sessions
    duck: Duck | None = None  # this process's DuckDB, when the columnar family is on
    merged_days: MergedDays | None = None  # this process's merged built rollup days


# One table family's way of computing one report: the `results` of the response.
ReportFunction = Callable[[Context, StatsQuery], Awaitable[Any]]


def instant_range(query: StatsQuery) -> tuple[datetime, datetime]:
    return periods.instant_range(query.date_from, query.date_to, ZoneInfo(query.tz))


def comparison_instants(query: StatsQuery) -> tuple[datetime, datetime]:
    assert query.compare is not None
    days = periods.comparison_range(query.compare, query.date_from, query.date_to)
    return periods.instant_range(*days, ZoneInfo(query.tz))
