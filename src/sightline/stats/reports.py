"""The report registry: one entry says everything about a report.

An entry gives the report's own parameters (parsed by stats.params and shown in OpenAPI with
their allowed values), its list kind (rows paged by limit/page, or one object), the filters it
accepts, the table families that can answer it with one function each (tried in order; the
planner takes the first whose conditions the query meets), its row shape (the response model),
the span of events its result depends on (for the cache) and its default visualization.

REST routes, `POST .../query`, dashboards, GraphQL, reports and OpenAPI all read this registry.
Adding a report is one entry here, its SQL (stats.sql) and its family functions, and its tests
(docs/architecture.md walks through one). A new table family is one more function per entry.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from sightline.problems import InvalidParameter
from sightline.stats import base_reports as base
from sightline.stats import rollup_reports as rollup
from sightline.stats import schemas
from sightline.stats.columnar import reports as columnar
from sightline.stats.context import ReportFunction, comparison_instants, instant_range
from sightline.stats.query import (
    BREAKDOWN_EVENT_METRICS, BREAKDOWN_SESSION_METRICS, COMPARISONS, FUNNEL_WINDOWS, INTERVALS,
    MAX_LIMIT, PERIODS, TIMESERIES_METRICS, UTM_PARAMS, VITALS, StatsQuery,
)

ROLLUPS, COLUMNAR, BASE = "rollups", "columnar", "base"
Kind = Literal["list", "object"]
Span = tuple[datetime, datetime] | None


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter. `read` says how stats.params parses it: choice (one of `allowed`),
    integer (within `bounds`), text, metrics (comma-separated, from `allowed`), breakdown
    metrics (allowed ones depend on the dimension), dimension, steps (repeated)."""

    name: str
    description: str
    read: Literal["choice", "integer", "text", "metrics", "breakdown_metrics", "dimension",
                  "steps"] = "text"
    allowed: tuple[str, ...] = ()
    default: str | int | None = None
    bounds: tuple[int, int] | None = None
    required: bool = False


COMMON_PARAMS = (
    Param("period", "Range ending today in the query's zone (instead of date_from/date_to)",
          "choice", PERIODS, "30d"),
    Param("date_from", "First day (YYYY-MM-DD), with date_to"),
    Param("date_to", "Last day (YYYY-MM-DD), inclusive"),
    Param("tz", "IANA time zone of days and buckets (default: the project's)"),
    Param("filters", "Conditions joined by ';', e.g. country==DE|FR;page=@/blog "
                     "(operators ==, !=, =@, !@; values joined by '|', '\\' escapes)"),
    Param("limit", "Rows per page", "integer", default=100, bounds=(1, MAX_LIMIT)),
    Param("page", "Page number", "integer", default=1, bounds=(1, 1_000_000)),
)
COMPARE = Param("compare", "Add each metric's previous value and % change", "choice",
                COMPARISONS)


def query_span(query: StatsQuery) -> Span:
    """The instants of events whose change can change the result (None: any event)."""
    start, end = instant_range(query)
    if query.compare:
        compared = comparison_instants(query)
        return min(start, compared[0]), max(end, compared[1])
    return start, end


def any_change(query: StatsQuery) -> Span:
    return None


def funnel_span(query: StatsQuery) -> Span:
    start, end = instant_range(query)
    return start, end + FUNNEL_WINDOWS[query.window or "1d"]


def active_users_span(query: StatsQuery) -> Span:
    start, end = instant_range(query)
    return start - timedelta(days=30), end


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    kind: Kind
    results: Any  # the model (or list of rows) of `results`
    families: Mapping[str, ReportFunction]
    summary: str
    params: tuple[Param, ...] = ()
    session_filters_only: bool = False
    route: str = ""  # the REST path under /stats/ when it differs from the name
    span: Callable[[StatsQuery], Span] = query_span
    visualization: str = "table"
    response: type[BaseModel] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "response", schemas.response_model(self.name, self.results))

    @property
    def path(self) -> str:
        return self.route or self.name

    def accepts(self) -> frozenset[str]:
        common = {p.name for p in COMMON_PARAMS} | {COMPARE.name}
        return frozenset(common | {p.name for p in self.params})

    def documented_params(self) -> tuple[Param, ...]:
        own = (COMPARE,) if self.name == "overview" else ()
        return (*COMMON_PARAMS, *own, *self.params)


def families(rollups: ReportFunction | None, base_function: ReportFunction,
             ) -> dict[str, ReportFunction]:
    """Rollups (when the report has them), columnar segments, then the base tables: the
    columnar family runs the base family's function over segments."""
    rollup_family = {ROLLUPS: rollups} if rollups is not None else {}
    return {**rollup_family, COLUMNAR: columnar.over(base_function), BASE: base_function}


def rows(model: type[BaseModel]) -> Any:
    return list[model]  # type: ignore[valid-type]


def session_list(name: str, key: str, names: tuple[str, ...], summary: str,
                 route: str = "") -> Report:
    """A list of one session attribute's values, from rollups or sessions."""
    row = schemas.list_row("".join(p.title() for p in key.split("_")) + "Row", key, names)
    return Report(name, "list", rows(row), families(rollup.dimension_list_of(key, key, names),
                                                    base.session_list_of(key, names)),
                  summary, route=route)


PAGE_ROW = schemas.list_row("PageRow", "page", ("visitors", "pageviews"))
ENTRIES = (
    Report("overview", "object", schemas.Overview,
           families(rollup.overview, base.overview),
           "Totals of the range, optionally compared", visualization="number"),
    Report("timeseries", "object",
           rows(schemas.metrics_row("TimeseriesPoint", TIMESERIES_METRICS,
                                    {"date": (str, Field(description="Bucket start"))})),
           families(rollup.timeseries, base.timeseries),
           "Metrics per bucket (hour, day, ISO week, month) with zero-filled buckets",
           params=(Param("metrics", "Comma-separated metrics", "metrics", TIMESERIES_METRICS,
                         "visitors"),
                   Param("interval", "Bucket size", "choice", INTERVALS, "day")),
           visualization="line"),
    Report("pages", "list", rows(PAGE_ROW),
           families(rollup.dimension_list_of("page", "page", ("visitors", "pageviews")),
                    base.event_list_of("page", "page", ("visitors", "pageviews"))),
           "Pages by visitors"),
    session_list("entry-pages", "entry_page", ("visits", "visitors", "bounce_rate",
                                                "visit_duration"), "Pages sessions start on"),
    Report("exit-pages", "list",
           rows(schemas.list_row("ExitPageRow", "exit_page", ("exits", "visitors", "exit_rate"))),
           {ROLLUPS: rollup.exit_pages, BASE: base.exit_pages}, "Pages sessions end on"),
    session_list("sources", "source", ("visitors", "visits", "bounce_rate", "visit_duration"),
                 "Traffic sources"),
    Report("referrers", "list",
           rows(schemas.list_row("ReferrerRow", "referrer", ("visitors", "visits"))),
           families(rollup.referrers, base.session_list_of("referrer",
                                                                  ("visitors", "visits"))),
           "Referrers of one source",
           params=(Param("source", "The source whose referrers to list", required=True),)),
    session_list("countries", "country", ("visitors", "visits"), "Countries"),
    session_list("devices", "device", ("visitors", "visits"), "Device types"),
    session_list("browsers", "browser", ("visitors", "visits"), "Browsers"),
    session_list("os", "os", ("visitors", "visits"), "Operating systems"),
    Report("events", "list",
           rows(schemas.list_row("EventRow", "event", ("events", "visitors"))),
           families(rollup.dimension_list_of("event", "event", ("events", "visitors")),
                    base.event_list_of("event", "event", ("events", "visitors"))),
           "Custom events (every name but pageview)"),
    Report("properties", "list",
           rows(schemas.list_row("PropertyRow", "value", ("events", "visitors"))),
           families(rollup.dimension_list_of(None, "value", ("events", "visitors")),
                    base.event_list_of(None, "value", ("events", "visitors"))),
           "Values of one event property", route="properties/{prop_key}",
           params=(Param("event", "Only events of this name"),)),
    Report("goals", "list",
           rows(schemas.list_row("GoalRow", "goal", ("visitors", "conversions",
                                                     "conversion_rate", "revenue"))),
           families(rollup.goals, base.goals), "The project's goals and conversions"),
    Report("breakdown", "list",
           rows(schemas.metrics_row("BreakdownRow", BREAKDOWN_SESSION_METRICS
                                    + BREAKDOWN_EVENT_METRICS[1:], {}, extra=True)),
           families(rollup.breakdown, base.breakdown),
           "Any dimension with chosen metrics; each row is keyed by the dimension's name",
           params=(Param("dimension", "A session attribute, page, event or prop:<key>",
                         "dimension", required=True),
                   Param("metrics", "Comma-separated metrics (session metrics for session "
                                    "attributes, event metrics otherwise)", "breakdown_metrics",
                         tuple(dict.fromkeys(BREAKDOWN_SESSION_METRICS
                                             + BREAKDOWN_EVENT_METRICS)), "visitors"))),
    *(session_list(f"utm/{p}", p, ("visitors", "visits", "bounce_rate"), f"Values of {p}",
                   route="utm/{param}") for p in UTM_PARAMS),
    Report("funnel", "object", rows(schemas.FunnelStep),
           {COLUMNAR: columnar.over(columnar.nearest_funnel), BASE: base.funnel},
           "Visitors reaching each step in order within the window",
           params=(Param("step", "page:/path or event:name, repeated 2 to 8 times", "steps",
                         required=True),
                   Param("window", "Time allowed from the first step", "choice",
                         tuple(FUNNEL_WINDOWS), "1d")),
           session_filters_only=True, span=funnel_span, visualization="funnel"),
    Report("retention", "object", rows(schemas.RetentionCohort),
           families(rollup.retention, base.retention),
           "Cohorts by first visit and their return per period",
           params=(Param("interval", "Cohort period", "choice", ("day", "week"), "week"),
                   Param("periods", "Periods per cohort", "integer", default=8,
                         bounds=(1, 52))),
           session_filters_only=True, span=any_change, visualization="cohort"),
    Report("active-users", "object", schemas.ActiveUsers,
           families(rollup.active_users, base.active_users),
           "Daily, weekly and monthly active visitors and stickiness",
           session_filters_only=True, span=active_users_span, visualization="line"),
    Report("realtime", "object", schemas.Realtime, {BASE: base.realtime},
           "Visitors and pageviews of the last 5 minutes", session_filters_only=True,
           span=any_change, visualization="number"),
    Report("revenue", "object", schemas.Revenue, families(rollup.revenue, base.revenue),
           "Revenue, orders and averages", visualization="number"),
    Report("vitals", "list", rows(schemas.VitalsRow), {BASE: base.web_vitals},
           "Web vitals per page (p50, p75, p95) from the tracker's web_vitals events",
           params=(Param("metric", "The web vital: lcp, inp and ttfb in milliseconds, cls "
                                   "unitless", "choice", VITALS, "lcp"),)),
)
LIST_REPORTS = tuple(entry.name for entry in ENTRIES if entry.kind == "list")
OBJECT_REPORTS = tuple(entry.name for entry in ENTRIES if entry.kind == "object")
REPORTS: dict[str, Report] = {entry.name: entry for entry in ENTRIES}
NAMES = (*OBJECT_REPORTS, *LIST_REPORTS)


def split_report(name: str) -> tuple[Report, dict[str, str]]:
    """The entry of a report name; `properties/plan` is the properties report for key `plan`."""
    if name.startswith("properties/") and len(name) > len("properties/"):
        return REPORTS["properties"], {"key": name.removeprefix("properties/")}
    if name not in REPORTS or name == "properties":
        raise InvalidParameter("report", f"unknown report {name!r}", allowed=list(NAMES))
    return REPORTS[name], {}


def report(name: str) -> Report:
    return REPORTS[name]
