"""The three ways of running a report give the same answer: one connection per statement, all
statements of many reports batched into one round trip, and daily rollups (built or stale)."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event

from sightline.rollups import tasks as rollups
from sightline.stats.context import Context
from sightline.stats.planner import run_report
from sightline.stats.reports import BASE
from sightline.stats.params import parse_query
from sightline.stats.runner import BatchingRunner, Runner
from tests.factories import make_project, send_events

NOW = datetime(2024, 3, 20, 12, tzinfo=UTC)
REPORTS = [
    ("overview", [("compare", "previous_period")]), ("timeseries", [("interval", "week")]),
    ("pages", []), ("entry-pages", []), ("exit-pages", []), ("sources", []), ("countries", []),
    ("events", []), ("properties/plan", []), ("revenue", []), ("active-users", []),
    ("referrers", [("source", "google.com")]),
    ("retention", [("interval", "day")]), ("retention", []), ("funnel", [("step", "page:/"), ("step", "event:buy")]),
    ("breakdown", [("dimension", "page"), ("metrics", "conversion_rate,visitors,events")]),
]


def traffic() -> list[dict]:
    events = []
    for visitor in range(12):
        for day in range(0, 20, 1 + visitor % 4):
            at = datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(days=day, minutes=visitor * 7)
            events.append({"name": "pageview", "visitor_id": f"v{visitor}", "path": "/",
                           "timestamp": at.isoformat(), "country": "DE" if visitor % 2 else "FR",
                           "referrer": "https://www.google.com/" if day % 3 else None})
            events.append({"name": "pageview", "visitor_id": f"v{visitor}",
                           "path": f"/p{visitor % 3}",
                           "timestamp": (at + timedelta(minutes=2)).isoformat()})
            if visitor % 3 == 0:
                events.append({"name": "buy", "visitor_id": f"v{visitor}", "revenue": "9.5",
                               "properties": {"plan": "pro" if day % 2 else "free"},
                               "timestamp": (at + timedelta(minutes=3)).isoformat()})
    return events


def queries(timezone: str) -> list:
    items = [("date_from", "2024-03-01"), ("date_to", "2024-03-20")]
    return [parse_query(report, items + extra, timezone, NOW) for report, extra in REPORTS]


async def run_all(runner, project, all_queries):  # type: ignore[no-untyped-def]
    ctx = Context(runner, project.id, project.timezone, NOW)
    return await asyncio.gather(*(run_report(ctx, q) for q in all_queries))


async def test_batched_rollup_and_base_paths_agree(client, db, engine):
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    all_queries = queries(project.timezone)
    base = [await run_report(Context(Runner(engine), project.id, project.timezone, NOW), q, BASE)
            for q in all_queries]

    stale = await run_all(Runner(engine), project, all_queries)
    statements = []

    def count(*args: object) -> None:
        statements.append(1)

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        batched = await run_all(BatchingRunner(engine), project, all_queries)
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", count)
    await rollups.build_stale_days(db, project.id, project.timezone)
    built = await run_all(Runner(engine), project, all_queries)

    for name, *answers in zip([r for r, _ in REPORTS], base, stale, batched, built, strict=True):
        assert all(answer == answers[0] for answer in answers), name
    assert len(statements) <= 4
