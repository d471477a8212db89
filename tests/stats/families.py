"""A small hand-computed data set that every table family must answer alike."""

from datetime import UTC, datetime

from sightline.stats.context import Context
from sightline.stats.params import parse_query
from sightline.stats.planner import run_report
from sightline.stats.runner import Runner

NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)
RANGE = [("date_from", "2024-05-01"), ("date_to", "2024-05-09")]

# a: 2 sessions (/, /pricing then later /), from google; b: 1 bounce on / (direct);
# c: / then a purchase of 20 from google.
EVENTS = [
    {"name": "pageview", "visitor_id": "a", "path": "/", "timestamp": "2024-05-02T10:00:00Z",
     "referrer": "https://google.com/"},
    {"name": "pageview", "visitor_id": "a", "path": "/pricing",
     "timestamp": "2024-05-02T10:01:40Z"},
    {"name": "pageview", "visitor_id": "a", "path": "/", "timestamp": "2024-05-03T10:00:00Z"},
    {"name": "pageview", "visitor_id": "b", "path": "/", "timestamp": "2024-05-03T11:00:00Z"},
    {"name": "pageview", "visitor_id": "c", "path": "/", "timestamp": "2024-05-04T09:00:00Z",
     "referrer": "https://google.com/"},
    {"name": "buy", "visitor_id": "c", "timestamp": "2024-05-04T09:00:30Z", "revenue": "20"},
]
PAGES = [{"page": "/", "visitors": 3, "pageviews": 4},
         {"page": "/pricing", "visitors": 1, "pageviews": 1}]
SOURCES = [{"source": "Direct / None", "visitors": 2, "visits": 2, "bounce_rate": 100.0,
            "visit_duration": 0},
           {"source": "google.com", "visitors": 2, "visits": 2, "bounce_rate": 0.0,
            "visit_duration": 65}]
OVERVIEW = {"visitors": 3, "visits": 4, "pageviews": 5, "views_per_visit": 1.25,
            "bounce_rate": 50.0, "visit_duration": 33, "events": 6, "revenue": 20.0}


async def answer(engine, project, report: str, family: str, extra=(), duck=None):  # type: ignore[no-untyped-def]
    query = parse_query(report, [*RANGE, *extra], project.timezone, NOW)
    ctx = Context(Runner(engine), project.id, project.timezone, NOW, duck=duck)
    return await run_report(ctx, query, family)
