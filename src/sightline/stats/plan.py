"""Choose the table family for a query: daily rollups when they can answer it exactly."""

from sightline.stats.query import StatsQuery, is_known_dimension

ROLLUP_REPORTS = frozenset({
    "overview", "timeseries", "pages", "entry-pages", "exit-pages", "sources", "countries",
    "devices", "browsers", "os", "events", "properties", "goals", "revenue", "active-users",
    "breakdown", "retention", "referrers", "utm/utm_source", "utm/utm_medium", "utm/utm_campaign", "utm/utm_content",
    "utm/utm_term",
})


def uses_rollups(query: StatsQuery, project_timezone: str) -> bool:
    """Rollups are per local day of the project's zone and unfiltered."""
    return (
        query.report in ROLLUP_REPORTS
        and not query.filters
        and query.tz == project_timezone
        and query.interval != "hour"
        and query.event is None
        and (query.dimension is None or is_known_dimension(query.dimension))
    )
