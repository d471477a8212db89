"""Read request parameters (HTTP query string or a JSON query object) into a StatsQuery."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sightline.problems import InvalidParameter
from sightline.stats import periods
from sightline.stats.filters import parse_filters
from sightline.stats.query import (
    BREAKDOWN_EVENT_METRICS, BREAKDOWN_SESSION_METRICS, COMPARISONS, FUNNEL_WINDOWS, INTERVALS,
    MAX_LIMIT, PERIODS, TIMESERIES_METRICS, UTM_PARAMS, FunnelStep, StatsQuery,
    is_known_dimension, is_session_dimension,
)

COMMON = frozenset({"date_from", "date_to", "period", "tz", "filters", "limit", "page", "compare"})
EXTRA: dict[str, frozenset[str]] = {
    "timeseries": frozenset({"metrics", "interval"}),
    "breakdown": frozenset({"dimension", "metrics"}),
    "referrers": frozenset({"source"}),
    "properties": frozenset({"event"}),
    "funnel": frozenset({"step", "window"}),
    "retention": frozenset({"interval", "periods"}),
}
LIST_REPORTS = (
    "pages", "entry-pages", "exit-pages", "sources", "referrers", "countries", "devices",
    "browsers", "os", "events", "properties", "goals", "breakdown",
    *(f"utm/{p}" for p in UTM_PARAMS),
)
OBJECT_REPORTS = ("overview", "timeseries", "funnel", "retention", "active-users", "realtime",
                  "revenue")
REPORTS = (*OBJECT_REPORTS, *LIST_REPORTS)
SESSION_FILTERS_ONLY = ("funnel", "retention", "active-users", "realtime")
MULTI_VALUED = frozenset({"step"})


def collect(items: Iterable[tuple[str, Any]], allowed: frozenset[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in items:
        if name not in allowed:
            raise InvalidParameter(name, f"unknown parameter {name!r}", allowed=sorted(allowed))
        if name in MULTI_VALUED:
            params.setdefault(name, []).append(value)
        elif name in params:
            raise InvalidParameter(name, f"parameter {name!r} given more than once")
        else:
            params[name] = value
    return params


def choice(params: dict[str, Any], name: str, allowed: Iterable[str], default: str | None) -> str | None:
    value = params.get(name, default)
    options = list(allowed)
    if value is not None and value not in options:
        raise InvalidParameter(name, f"{name} must be one of {', '.join(options)}", allowed=options)
    return value


def integer(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, default)
    try:
        value = int(raw)
        if isinstance(raw, bool) or (isinstance(raw, str) and not raw.strip().isdigit()):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidParameter(name, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise InvalidParameter(name, f"{name} must be between {low} and {high}")
    return value


def timezone(params: dict[str, Any], project_timezone: str) -> ZoneInfo:
    name = params.get("tz") or project_timezone
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter("tz", f"unknown IANA time zone {name!r}") from None


def parse_date(params: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(params[name]))
    except ValueError:
        raise InvalidParameter(name, f"{name} must be a date as YYYY-MM-DD") from None


def date_range(params: dict[str, Any], zone: ZoneInfo, now: datetime) -> tuple[date, date, str | None]:
    has_from, has_to = "date_from" in params, "date_to" in params
    if "period" in params and (has_from or has_to):
        raise InvalidParameter("period", "give either period or date_from and date_to, not both")
    if has_from != has_to:
        missing = "date_to" if has_from else "date_from"
        raise InvalidParameter(missing, "date_from and date_to go together")
    if has_from:
        date_from, date_to = parse_date(params, "date_from"), parse_date(params, "date_to")
        if date_from > date_to:
            raise InvalidParameter("date_to", "date_to must not be before date_from")
        return date_from, date_to, None
    period = choice(params, "period", PERIODS, "30d")
    assert period is not None
    return *periods.period_range(period, periods.today_in(zone, now)), period


def metrics(params: dict[str, Any], allowed: tuple[str, ...], default: str) -> tuple[str, ...]:
    names = [m.strip() for m in str(params.get("metrics", default)).split(",") if m.strip()]
    unknown = [m for m in names if m not in allowed]
    if unknown or not names:
        raise InvalidParameter("metrics", f"unknown metric {unknown[0] if unknown else ''!r}",
                               allowed=list(allowed))
    return tuple(dict.fromkeys(names))


def dimension_and_metrics(params: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    dimension = params.get("dimension")
    if not dimension:
        raise InvalidParameter("dimension", "dimension is required")
    if not is_known_dimension(dimension):
        raise InvalidParameter("dimension", f"unknown dimension {dimension!r}")
    allowed = BREAKDOWN_SESSION_METRICS if is_session_dimension(dimension) else BREAKDOWN_EVENT_METRICS
    return dimension, metrics(params, allowed, "visitors")


def funnel_steps(params: dict[str, Any]) -> tuple[FunnelStep, ...]:
    raw = params.get("step", [])
    if isinstance(raw, str):
        raw = [raw]
    if not 2 <= len(raw) <= 8:
        raise InvalidParameter("step", "a funnel needs 2 to 8 step parameters")
    steps = []
    for text in raw:
        kind, _, value = str(text).partition(":")
        if kind not in ("page", "event") or not value:
            raise InvalidParameter("step", f"step {text!r} must be page:/path or event:name",
                                   allowed=["page:<path>", "event:<name>"])
        steps.append(FunnelStep(kind, value))
    return tuple(steps)


def report_options(report: str, params: dict[str, Any]) -> dict[str, Any]:
    if report == "timeseries":
        return {"metrics": metrics(params, TIMESERIES_METRICS, "visitors"),
                "interval": choice(params, "interval", INTERVALS, "day")}
    if report == "breakdown":
        dimension, names = dimension_and_metrics(params)
        return {"dimension": dimension, "metrics": names}
    if report == "referrers":
        if not params.get("source"):
            raise InvalidParameter("source", "source is required")
        return {"source": params["source"]}
    if report == "properties":
        return {"dimension": "prop:" + params["key"], "event": params.get("event") or None}
    if report == "funnel":
        return {"steps": funnel_steps(params),
                "window": choice(params, "window", FUNNEL_WINDOWS, "1d")}
    if report == "retention":
        return {"interval": choice(params, "interval", ("day", "week"), "week"),
                "periods": integer(params, "periods", 8, 1, 52)}
    return {}


def split_report(report: str) -> tuple[str, dict[str, str]]:
    """`properties/plan` is the properties report for key `plan`."""
    if report.startswith("properties/") and len(report) > len("properties/"):
        return "properties", {"key": report.removeprefix("properties/")}
    if report not in REPORTS or report == "properties":
        raise InvalidParameter("report", f"unknown report {report!r}", allowed=list(REPORTS))
    return report, {}


def parse_query(
    report: str, items: Iterable[tuple[str, Any]], project_timezone: str, now: datetime
) -> StatsQuery:
    """Validate every parameter of one report; any problem is a 400 naming the parameter."""
    report, path_params = split_report(report)
    params = collect(items, COMMON | EXTRA.get(report.split("/")[0], frozenset()))
    params.update(path_params)
    zone = timezone(params, project_timezone)
    date_from, date_to, period = date_range(params, zone, now)
    if "compare" in params and report != "overview":
        raise InvalidParameter("compare", "compare is accepted by overview only")
    filters = parse_filters(params.get("filters"))
    if report in SESSION_FILTERS_ONLY and any(not f.on_session for f in filters):
        raise InvalidParameter("filters", f"{report} accepts session-attribute filters only")
    options = report_options(report, params)
    query = StatsQuery(
        report=report, date_from=date_from, date_to=date_to, tz=zone.key, filters=filters,
        compare=choice(params, "compare", COMPARISONS, None),
        limit=integer(params, "limit", 100, 1, MAX_LIMIT),
        page=integer(params, "page", 1, 1, 1_000_000),
        period=period, **options,
    )
    interval = query.interval or "day"
    if periods.bucket_count(date_from, date_to, interval) > periods.MAX_BUCKETS:
        raise InvalidParameter("interval", "too many buckets; choose a larger interval")
    return query
