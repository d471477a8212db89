"""Read request parameters (HTTP query string or a JSON query object) into a StatsQuery."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sightline.problems import InvalidParameter
from sightline.stats import periods
from sightline.stats.filters import parse_filters
from sightline.stats.query import (
    BREAKDOWN_EVENT_METRICS, BREAKDOWN_SESSION_METRICS, COMPARISONS, MAX_LIMIT, MAX_PROPERTY_KEY,
    PERIODS, FunnelStep, StatsQuery, is_known_dimension, is_session_dimension,
)
from sightline.stats.reports import Param, Report, split_report

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
        day = date.fromisoformat(str(params[name]))
    except ValueError:
        raise InvalidParameter(name, f"{name} must be a date as YYYY-MM-DD") from None
    if not periods.in_bounds(day):
        raise InvalidParameter(name, f"{name} must be between {periods.EARLIEST} and "
                                     f"{periods.LATEST}")
    return day


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


def known_dimension(params: dict[str, Any]) -> str:
    dimension = params.get("dimension")
    if not dimension:
        raise InvalidParameter("dimension", "dimension is required")
    if not is_known_dimension(dimension):
        raise InvalidParameter("dimension", f"unknown dimension {dimension!r}")
    return str(dimension)


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


def option(param: Param, params: dict[str, Any]) -> Any:
    """One report parameter's value, read as its registry entry says."""
    if param.read == "choice":
        return choice(params, param.name, param.allowed, param.default)  # type: ignore[arg-type]
    if param.read == "integer":
        assert param.bounds is not None
        return integer(params, param.name, int(param.default or 0), *param.bounds)
    if param.read == "metrics":
        return metrics(params, param.allowed, str(param.default))
    if param.read == "breakdown_metrics":
        dimension = params["dimension"]
        allowed = (BREAKDOWN_SESSION_METRICS if is_session_dimension(dimension)
                   else BREAKDOWN_EVENT_METRICS)
        return metrics(params, allowed, str(param.default))
    if param.read == "dimension":
        return known_dimension(params)
    if param.read == "steps":
        return funnel_steps(params)
    if param.required and not params.get(param.name):
        raise InvalidParameter(param.name, f"{param.name} is required")
    return params.get(param.name) or None


FIELDS = {"step": "steps", "metric": "vital"}  # parameter names that differ from their StatsQuery field


def report_options(entry: Report, params: dict[str, Any]) -> dict[str, Any]:
    options = {FIELDS.get(p.name, p.name): option(p, params) for p in entry.params}
    if "key" in params:  # properties/<key>
        if len(params["key"]) > MAX_PROPERTY_KEY:
            raise InvalidParameter("key", f"a property key has at most {MAX_PROPERTY_KEY} characters")
        options["dimension"] = "prop:" + params["key"]
    return options


def parse_query(
    report: str, items: Iterable[tuple[str, Any]], project_timezone: str, now: datetime
) -> StatsQuery:
    """Validate every parameter of one report; any problem is a 400 naming the parameter."""
    entry, path_params = split_report(report)
    report = entry.name
    params = collect(items, entry.accepts())
    params.update(path_params)
    zone = timezone(params, project_timezone)
    date_from, date_to, period = date_range(params, zone, now)
    if "compare" in params and report != "overview":
        raise InvalidParameter("compare", "compare is accepted by overview only")
    filters = parse_filters(params.get("filters"))
    if entry.session_filters_only and any(not f.on_session for f in filters):
        raise InvalidParameter("filters", f"{report} accepts session-attribute filters only")
    options = report_options(entry, params)
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
