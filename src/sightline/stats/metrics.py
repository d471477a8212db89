"""Metric values as the API shows them: exact arithmetic, then rounding half away from zero."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Number = int | Decimal | Fraction

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")
WHOLE = Decimal("1")


def _round(value: Fraction, step: Decimal) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(step, rounding=ROUND_HALF_UP)


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


def money(amount: Number | None) -> float:
    return two_decimals(amount or 0)


def change(current: Fraction, previous: Fraction) -> float | None:
    """% change of the unrounded values; null when previous is 0."""
    if previous == 0:
        return None
    return float(_round((current - previous) / previous * 100, ONE_DECIMAL))


UNITS = {
    "visitors": "count", "visits": "count", "pageviews": "count", "events": "count",
    "conversions": "count", "exits": "count",
    "bounce_rate": "percent", "conversion_rate": "percent", "exit_rate": "percent",
    "visit_duration": "seconds", "views_per_visit": "ratio", "revenue": "money",
}


def exact(name: str, row: Mapping[str, Number | None]) -> Fraction:
    """The unrounded value of a metric from the aggregates of one row (see stats.sql.aggregates)."""
    if name == "bounce_rate":
        return ratio(row.get("bounces") or 0, row.get("visits") or 0) * 100
    if name == "visit_duration":
        return ratio(row.get("duration") or 0, row.get("visits") or 0)
    if name == "views_per_visit":
        return ratio(row.get("session_pageviews") or 0, row.get("visits") or 0)
    return Fraction(row.get(name) or 0)


def shown(name: str, value: Fraction) -> int | float:
    unit = UNITS[name]
    if unit == "count":
        return int(value)
    if unit == "percent":
        return float(_round(value, ONE_DECIMAL))
    if unit == "seconds":
        return int(_round(value, WHOLE))
    return float(_round(value, TWO_DECIMALS))


def show(name: str, row: Mapping[str, Number | None]) -> int | float:
    return shown(name, exact(name, row))
