"""Results shaped alike by every table family: overview entries, revenue, cohorts, active users,
list ordering and pages."""

from datetime import date
from fractions import Fraction
from typing import Any

from sightline.stats import metrics, periods
from sightline.stats.query import StatsQuery

OVERVIEW_METRICS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                    "visit_duration", "events", "revenue")


def overview_ranges(query: StatsQuery) -> list[tuple[date, date]]:
    """The query's dates, then the compared dates when it compares."""
    ranges = [(query.date_from, query.date_to)]
    if query.compare:
        ranges.append(periods.comparison_range(query.compare, query.date_from, query.date_to))
    return ranges


def overview_results(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric's value, and previous and change when a second row (comparison) is given."""
    results = {}
    for name in OVERVIEW_METRICS:
        value = metrics.exact(name, rows[0])
        entry: dict[str, Any] = {"value": metrics.shown(name, value)}
        if len(rows) > 1:
            previous = metrics.exact(name, rows[1])
            entry["previous"] = metrics.shown(name, previous)
            entry["change"] = metrics.change(value, previous)
        results[name] = entry
    return results


def revenue_results(row: dict[str, Any]) -> dict[str, Any]:
    amount = row["revenue"] or 0
    return {
        "revenue": metrics.money(amount), "orders": row["orders"],
        "paying_visitors": row["paying_visitors"],
        "average_order_value": metrics.two_decimals(amount, row["orders"]),
        "arpu": metrics.two_decimals(amount, row["visitors"]),
    }


def cohort_row(start: date, retained: list[int]) -> dict[str, Any]:
    return {"cohort": start.isoformat(), "size": retained[0], "retention": retained,
            "rates": [metrics.percent(n, retained[0]) for n in retained]}


def active_users_results(days: list[dict[str, Any]]) -> dict[str, Any]:
    """The days, and stickiness: the mean of dau / mau over the days with mau > 0, in %."""
    ratios = [Fraction(day["dau"], day["mau"]) for day in days if day["mau"]]
    stickiness = metrics.percent(sum(ratios, Fraction(0)), len(ratios)) if ratios else 0.0
    return {"days": days, "stickiness": stickiness}


def page_window(query: StatsQuery) -> tuple[int, int]:
    return query.limit, (query.page - 1) * query.limit


def sort_and_page(rows: list[dict[str, Any]], first: str, query: StatsQuery) -> list[dict[str, Any]]:
    """Python-side ordering for lists whose first metric is derived (a rate or mean)."""
    ordered = sorted(rows, key=lambda row: (-row[first], row[next(iter(row))]))
    limit, offset = page_window(query)
    return ordered[offset: offset + limit]
