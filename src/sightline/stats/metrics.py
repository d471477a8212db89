"""The metric registry: every measure and metric defined once.

A *measure* is a raw aggregate the engine reads: its SQL over the matching base-table rows, its
SQL in a rollup day row, its rollup column, and how it combines across days (counts and sums
add, visitor sets are unions of roaring bitmaps). A *metric* is what the API shows: its unit
and its exact value from measures; rates and means are derived after the query, then rounded
half away from zero.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, distinct, func

Number = int | Decimal | Fraction
Table = Literal["event", "session"]
Combine = Literal["count", "sum", "union"]
Unit = Literal["count", "percent", "seconds", "ratio", "money"]

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")
THREE_DECIMALS = Decimal("0.001")
WHOLE = Decimal("1")


@dataclass(frozen=True, slots=True)
class Measure:
    """`base` builds the aggregate over the columns of the matching rows (`e` or `s`); `day` is
    the same aggregate in the day-row statements, stored in `column` of `rollup_day`."""

    name: str
    table: Table
    combine: Combine
    column: str
    base: Callable[[Any], ColumnElement[Any]] | None
    day: str | None


MEASURES = (
    Measure("visitors", "event", "union", "event_visitors",
            lambda e: func.count(distinct(e.visitor_key)), "array_agg(DISTINCT e.visitor_num)"),
    Measure("pageviews", "event", "count", "pageviews",
            lambda e: func.count().filter(e.name == "pageview"),
            "count(*) FILTER (WHERE e.name = 'pageview')"),
    Measure("events", "event", "count", "events", lambda e: func.count(), "count(*)"),
    Measure("revenue", "event", "sum", "revenue", lambda e: func.sum(e.revenue), "sum(e.revenue)"),
    Measure("orders", "event", "count", "orders", lambda e: func.count(e.revenue),
            "count(e.revenue)"),
    Measure("paying_visitors", "event", "union", "paying_visitors",
            lambda e: func.count(distinct(e.visitor_key)).filter(e.revenue.is_not(None)),
            "array_agg(DISTINCT e.visitor_num) FILTER (WHERE e.revenue IS NOT NULL)"),
    Measure("visits", "session", "count", "visits", lambda s: func.count(), "count(*)"),
    Measure("visitors", "session", "union", "session_visitors",
            lambda s: func.count(distinct(s.visitor_key)), "array_agg(DISTINCT s.visitor_num)"),
    Measure("bounces", "session", "count", "bounces",
            lambda s: func.count().filter(and_(s.pageviews == 1, s.events == 1)),
            "count(*) FILTER (WHERE s.pageviews = 1 AND s.events = 1)"),
    Measure("duration", "session", "sum", "duration", lambda s: func.sum(s.duration),
            "sum(s.duration)"),
    Measure("session_pageviews", "session", "count", "session_pageviews",
            lambda s: func.sum(s.pageviews), "sum(s.pageviews)"),
    # pageviews of a session's last page, read per exit page by its own statement
    Measure("exit_pageviews", "session", "count", "exit_pageviews", None, None),
)


def measures(table: Table, *names: str) -> tuple[Measure, ...]:
    """The measures of one table, in registry order (only `names` when given)."""
    return tuple(m for m in MEASURES if m.table == table and (not names or m.name in names))


def columns(combine: Combine) -> tuple[str, ...]:
    return tuple(m.column for m in MEASURES if m.combine == combine)


def _round(value: Fraction, step: Decimal) -> Decimal:
    exact_value = Decimal(value.numerator) / Decimal(value.denominator)
    return exact_value.quantize(step, rounding=ROUND_HALF_UP)


def ratio(numerator: Number, denominator: Number) -> Fraction:
    """numerator / denominator exactly; a rate over nothing is 0."""
    if not denominator:
        return Fraction(0)
    return Fraction(numerator) / Fraction(denominator)


def percent(numerator: Number, denominator: Number) -> float:
    return float(_round(ratio(numerator, denominator) * 100, ONE_DECIMAL))


def seconds(total: Number, count: Number) -> int:
    return int(_round(ratio(total, count), WHOLE))


def two_decimals(numerator: Number, denominator: Number = 1) -> float:
    return float(_round(ratio(numerator, denominator), TWO_DECIMALS))


def whole(value: Number) -> int:
    return int(_round(Fraction(value), WHOLE))


def three_decimals(value: Number) -> float:
    return float(_round(Fraction(value), THREE_DECIMALS))


def money(amount: Number | None) -> float:
    return two_decimals(amount or 0)


def change(current: Fraction, previous: Fraction) -> float | None:
    """% change of the unrounded values; null when previous is 0."""
    if previous == 0:
        return None
    return float(_round((current - previous) / previous * 100, ONE_DECIMAL))


Row = Mapping[str, Number | None]


def measure(name: str) -> Callable[[Row], Fraction]:
    return lambda row: Fraction(row.get(name) or 0)


def per_visit(name: str, scale: int = 1) -> Callable[[Row], Fraction]:
    return lambda row: ratio(row.get(name) or 0, row.get("visits") or 0) * scale


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric the API shows: its unit (and so its rounding and JSON type) and its exact value
    from the measures of one row. `conversion_rate` and `exit_rate` need a second row (the
    unfiltered visitors, the pageviews of a page) and are computed by their reports."""

    name: str
    unit: Unit
    exact: Callable[[Row], Fraction]
    description: str


METRICS = {m.name: m for m in (
    Metric("visitors", "count", measure("visitors"), "Unique visitors"),
    Metric("visits", "count", measure("visits"), "Sessions"),
    Metric("pageviews", "count", measure("pageviews"), "Pageview events"),
    Metric("events", "count", measure("events"), "Events of any name"),
    Metric("conversions", "count", measure("conversions"), "Events reaching the goal"),
    Metric("exits", "count", measure("exits"), "Sessions ending on the page"),
    Metric("bounce_rate", "percent", per_visit("bounces", 100),
           "% of sessions with one pageview and no other event"),
    Metric("visit_duration", "seconds", per_visit("duration"), "Mean session duration"),
    Metric("views_per_visit", "ratio", per_visit("session_pageviews"), "Pageviews per session"),
    Metric("revenue", "money", measure("revenue"), "Sum of revenue"),
    Metric("conversion_rate", "percent", measure("conversion_rate"),
           "% of the visitors of the query without its page/event/property filters"),
    Metric("exit_rate", "percent", measure("exit_rate"), "exits / pageviews of the page, in %"),
)}
UNITS = {name: metric.unit for name, metric in METRICS.items()}
JSON_TYPES: dict[Unit, type] = {"count": int, "percent": float, "seconds": int, "ratio": float,
                                "money": float}


def exact(name: str, row: Row) -> Fraction:
    """The unrounded value of a metric from the measures of one row."""
    return METRICS[name].exact(row)


def shown(name: str, value: Fraction) -> int | float:
    unit = UNITS[name]
    if unit == "count":
        return int(value)
    if unit == "percent":
        return float(_round(value, ONE_DECIMAL))
    if unit == "seconds":
        return int(_round(value, WHOLE))
    return float(_round(value, TWO_DECIMALS))


def show(name: str, row: Row) -> int | float:
    return shown(name, exact(name, row))
