"""The one query model behind every stats endpoint, the query endpoint, widgets and GraphQL."""

from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

SESSION_DIMENSIONS = (
    "entry_page", "exit_page", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
    "utm_content", "utm_term", "country", "device", "browser", "os",
)
EVENT_DIMENSIONS = ("page", "event")
PROPERTY_PREFIX = "prop:"
OPERATORS = ("==", "!=", "=@", "!@")

EVENT_METRICS = ("visitors", "pageviews", "events", "revenue")
TIMESERIES_METRICS = (
    "visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration",
    "events", "revenue",
)
BREAKDOWN_SESSION_METRICS = ("visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit",
                             "conversion_rate")
BREAKDOWN_EVENT_METRICS = ("visitors", "pageviews", "events", "revenue", "conversion_rate")

PERIODS = ("today", "yesterday", "7d", "30d", "month", "12mo")
INTERVALS = ("hour", "day", "week", "month")
COMPARISONS = ("previous_period", "year_over_year")
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
FUNNEL_WINDOWS = {"30m": timedelta(minutes=30), "2h": timedelta(hours=2),
                  "1d": timedelta(days=1), "7d": timedelta(days=7)}
MAX_LIMIT = 1000
VITALS = ("lcp", "inp", "cls", "ttfb")


def is_session_dimension(dimension: str) -> bool:
    return dimension in SESSION_DIMENSIONS


MAX_PROPERTY_KEY = 64  # characters, as ingest accepts them (SPEC section 3)


def is_known_dimension(dimension: str) -> bool:
    return (dimension in SESSION_DIMENSIONS or dimension in EVENT_DIMENSIONS
            or (dimension.startswith(PROPERTY_PREFIX)
                and 0 < len(dimension) - len(PROPERTY_PREFIX) <= MAX_PROPERTY_KEY))


@dataclass(frozen=True, slots=True)
class Filter:
    dimension: str
    operator: str
    values: tuple[str, ...]

    @property
    def on_session(self) -> bool:
        return is_session_dimension(self.dimension)


@dataclass(frozen=True, slots=True)
class FunnelStep:
    kind: str  # "page" or "event"
    value: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """A validated query. `date_from`/`date_to` are resolved (never a period) in `tz`."""

    report: str
    date_from: date
    date_to: date
    tz: str
    filters: tuple[Filter, ...] = ()
    metrics: tuple[str, ...] = ()
    dimension: str | None = None
    interval: str | None = None
    compare: str | None = None
    limit: int = 100
    page: int = 1
    source: str | None = None
    event: str | None = None
    steps: tuple[FunnelStep, ...] = ()
    window: str | None = None
    periods: int | None = None
    vital: str | None = None
    period: str | None = field(default=None, compare=False)

    @property
    def session_filters(self) -> tuple[Filter, ...]:
        return tuple(f for f in self.filters if f.on_session)

    @property
    def event_filters(self) -> tuple[Filter, ...]:
        return tuple(f for f in self.filters if not f.on_session)

    def without_event_filters(self) -> "StatsQuery":
        return replace(self, filters=self.session_filters)

    def meta(self) -> dict[str, Any]:
        """The normalized query, echoed in responses and hashed into cache keys."""
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        data["filters"] = [
            {"dimension": f.dimension, "operator": f.operator, "values": list(f.values)}
            for f in self.filters
        ]
        data["steps"] = [step.label for step in self.steps]
        data["metrics"] = list(self.metrics)
        return {key: value for key, value in data.items() if value not in (None, [], ())}

