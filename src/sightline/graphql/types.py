"""GraphQL object types of the stats results: one typed row per report (SPEC section 4)."""

from enum import Enum
from typing import Any

import strawberry


@strawberry.enum
class Interval(Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@strawberry.enum
class Comparison(Enum):
    PREVIOUS_PERIOD = "previous_period"
    YEAR_OVER_YEAR = "year_over_year"


@strawberry.enum
class UtmParam(Enum):
    SOURCE = "utm_source"
    MEDIUM = "utm_medium"
    CAMPAIGN = "utm_campaign"
    CONTENT = "utm_content"
    TERM = "utm_term"


@strawberry.type
class MetricValue:
    value: float
    previous: float | None = None
    change: float | None = strawberry.field(
        default=None, description="% change; null when previous is 0 or without compare")


@strawberry.type
class Overview:
    visitors: MetricValue
    visits: MetricValue
    pageviews: MetricValue
    views_per_visit: MetricValue
    bounce_rate: MetricValue
    visit_duration: MetricValue
    events: MetricValue
    revenue: MetricValue


@strawberry.type(description="A bucket; only the metrics selected are computed")
class TimeseriesPoint:
    date: str
    visitors: int | None = None
    visits: int | None = None
    pageviews: int | None = None
    views_per_visit: float | None = None
    bounce_rate: float | None = None
    visit_duration: int | None = None
    events: int | None = None
    revenue: float | None = None


@strawberry.type(description="A breakdown row; only the metrics selected are computed")
class BreakdownRow:
    value: str
    visitors: int | None = None
    visits: int | None = None
    pageviews: int | None = None
    events: int | None = None
    revenue: float | None = None
    bounce_rate: float | None = None
    visit_duration: int | None = None
    views_per_visit: float | None = None
    conversion_rate: float | None = None


@strawberry.type
class PageRow:
    page: str
    visitors: int
    pageviews: int


@strawberry.type
class EntryPageRow:
    entry_page: str
    visits: int
    visitors: int
    bounce_rate: float
    visit_duration: int


@strawberry.type
class ExitPageRow:
    exit_page: str
    exits: int
    visitors: int
    exit_rate: float


@strawberry.type
class SourceRow:
    source: str
    visitors: int
    visits: int
    bounce_rate: float
    visit_duration: int


@strawberry.type(description="referrers, countries, devices, browsers, os")
class DimensionRow:
    value: str
    visitors: int
    visits: int


@strawberry.type
class UtmRow:
    value: str
    visitors: int
    visits: int
    bounce_rate: float


@strawberry.type
class EventRow:
    event: str
    events: int
    visitors: int


@strawberry.type
class PropertyRow:
    value: str
    events: int
    visitors: int


@strawberry.type
class GoalRow:
    goal: str
    visitors: int
    conversions: int
    conversion_rate: float
    revenue: float


@strawberry.type
class FunnelStep:
    step: int
    label: str
    visitors: int
    conversion_rate: float
    dropoff: int


@strawberry.type
class RetentionCohort:
    cohort: str
    size: int
    retention: list[int]
    rates: list[float]


@strawberry.type
class ActiveDay:
    date: str
    dau: int
    wau: int
    mau: int


@strawberry.type
class ActiveUsers:
    days: list[ActiveDay]
    stickiness: float


@strawberry.type
class Realtime:
    visitors: int
    pageviews: int
    pages: list[PageRow]


@strawberry.type
class Revenue:
    revenue: float
    orders: int
    paying_visitors: int
    average_order_value: float
    arpu: float


def rows_as(cls: Any, rows: list[dict[str, Any]], key: str | None = None) -> list[Any]:
    """Typed rows; `key` is the REST name of a row's dimension value, shown as `value`."""
    if key is None:
        return [cls(**row) for row in rows]
    return [cls(value=row[key], **{k: v for k, v in row.items() if k != key}) for row in rows]
