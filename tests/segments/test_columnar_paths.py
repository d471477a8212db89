"""Segments are written per month, read by the columnar family, and replaced after late events;
rollup, base and columnar paths give the same answers."""

import asyncio
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sightline.state import state_of
from sightline.segments import service as segments
from sightline.segments import tail as tail_module
from sightline.segments.duck import Duck
from sightline.stats.context import Context
from sightline.stats.params import parse_query
from sightline.stats.planner import choose_family, run_report
from sightline.stats.reports import BASE, COLUMNAR
from sightline.stats.runner import Runner
from tests.factories import make_project, send_events
from tests.stats.test_batching_and_rollups import NOW, REPORTS, traffic

FILTERED = [
    ("overview", [("filters", "country==DE")]), ("overview", [("filters", "page==/p1")]),
    ("overview", [("filters", "prop:plan==pro;country!=FR")]),
    ("timeseries", [("interval", "hour"), ("metrics", "visitors,visits,bounce_rate")]),
    ("timeseries", [("tz", "America/New_York"), ("metrics", "visitors,pageviews,visit_duration")]),
    ("pages", [("filters", "source==google.com")]), ("countries", [("filters", "page=@p2")]),
    ("sources", [("filters", "event==buy")]), ("entry-pages", [("filters", "country==DE")]),
    ("events", [("filters", "country==DE")]), ("properties/plan", [("filters", "source!=x")]),
    ("goals", [("filters", "country==DE")]), ("revenue", [("filters", "prop:plan==pro")]),
    ("funnel", [("step", "page:/"), ("step", "page:/p0"), ("step", "event:buy")]),
    ("retention", [("filters", "country==DE")]), ("active-users", [("filters", "country==FR")]),
    ("breakdown", [("dimension", "prop:plan"), ("metrics", "visitors,conversion_rate"),
                   ("filters", "country==DE")]),
    ("breakdown", [("dimension", "country"), ("metrics", "visits,bounce_rate"),
                   ("filters", "page==/p1")]),
]


def queries(timezone: str) -> list:
    items = [("date_from", "2024-03-01"), ("date_to", "2024-03-20")]
    return [parse_query(report, items + extra, timezone, NOW) for report, extra in
            [*REPORTS, *FILTERED] if report != "exit-pages"]


def context(engine, project, duck) -> Context:  # type: ignore[no-untyped-def]
    return Context(Runner(engine), project.id, project.timezone, NOW, duck=duck)


@pytest.fixture
def duck(app) -> Duck:
    return state_of(app).duck


async def answers(engine, duck, project, all_queries) -> tuple[list, list]:
    """Every query on the base tables and on the columnar family."""
    ctx = context(engine, project, duck)
    base = [await run_report(ctx, q, BASE) for q in all_queries]
    return base, [await run_report(ctx, q, COLUMNAR) for q in all_queries]


async def test_segments_are_written_and_answer_like_the_base_tables(client, db, engine, duck):
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    built = await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    assert built == ["2024-03"]
    segment, = duck.store.segments(project.id)
    assert segment.events_file.exists() and segment.sessions_file.exists()
    assert segment.last_day == NOW.date() - timedelta(days=1)
    all_queries = queries(project.timezone)
    base, columnar_results = await answers(engine, duck, project, all_queries)
    for query, expected, got in zip(all_queries, base, columnar_results, strict=True):
        assert got == expected, query
    assert await segments.build_stale(engine, duck, project.id, project.timezone, NOW) == []


async def test_late_events_are_read_from_postgresql_until_the_segment_is_replaced(
        client, db, engine, duck):
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    old, = duck.store.segments(project.id)
    late = [{"name": "pageview", "visitor_id": "late", "path": "/late", "country": "DE",
             "timestamp": datetime(2024, 3, 5, 10, tzinfo=UTC).isoformat()},
            {"name": "pageview", "visitor_id": "v1", "path": "/p1",
             "timestamp": datetime(2024, 3, 2, 9, 5, tzinfo=UTC).isoformat()}]
    await send_events(client, project, late)
    all_queries = queries(project.timezone)
    base, columnar_results = await answers(engine, duck, project, all_queries)
    assert columnar_results == base
    assert await segments.build_stale(engine, duck, project.id, project.timezone, NOW) == ["2024-03"]
    new, = duck.store.segments(project.id)
    assert new.directory != old.directory and new.versions != old.versions
    assert old.directory.exists()  # readers that started before keep reading it a while
    assert (await answers(engine, duck, project, all_queries))[1] == base


async def test_the_planner_reads_segments_for_filtered_queries(client, db, engine, duck):
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    ctx = context(engine, project, duck)
    for query in queries(project.timezone):
        if query.filters or query.report == "funnel" or query.tz != project.timezone:
            assert choose_family(ctx, query) == COLUMNAR, query
        assert await run_report(ctx, query) == await run_report(ctx, query, BASE), query
    assert choose_family(replace(ctx, duck=None), queries(project.timezone)[-1]) == BASE


async def test_two_processes_read_segments_while_they_are_replaced(
        client, db, engine, duck, settings):
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    all_queries = queries(project.timezone)
    base, _ = await answers(engine, duck, project, all_queries)
    expected = json.loads(json.dumps(base, default=str))
    url = engine.url.render_as_string(hide_password=False)
    readers = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.segments.reader", url, str(settings.data_dir), project.id,
        project.timezone, NOW.isoformat(), "3", stdout=asyncio.subprocess.PIPE)
        for _ in range(2)]
    outputs = asyncio.gather(*(reader.communicate() for reader in readers))
    segment, = duck.store.segments(project.id)
    replaced = 0
    while not outputs.done() and replaced < 30:  # meanwhile the month is replaced, again and again
        await segments.build_month(engine, duck, project.id, ZoneInfo(project.timezone),
                                   segment.first_day, segment.last_day)
        replaced += 1
    outputs = await outputs
    assert replaced > 0
    assert [reader.returncode for reader in readers] == [0, 0]
    for stdout, _ in outputs:
        rounds = stdout.decode().splitlines()
        assert len(rounds) == 3
        assert all(json.loads(line) == expected for line in rounds)


def pageview(visitor: str, at: datetime, path: str = "/", **more: str) -> dict:
    return {"name": "pageview", "visitor_id": visitor, "path": path,
            "timestamp": at.isoformat(), **more}


@pytest.mark.parametrize("reread_after", [tail_module.REREAD_AFTER_VISITORS, 0])
async def test_the_kept_tail_follows_ingest_exactly(client, db, engine, duck, monkeypatch,
                                                   reread_after):
    """Days no segment holds are kept in DuckDB and brought up to date by the visitors that
    ingest changed since (or read again when too many changed): late events, a session that
    a late event re-keys, a new visitor, a day that is dropped once its segment is rebuilt."""
    monkeypatch.setattr(tail_module, "REREAD_AFTER_VISITORS", reread_after)
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    all_queries = queries(project.timezone)
    day = datetime(2024, 3, 5, 9, tzinfo=UTC)
    batches = [
        [pageview("late", day + timedelta(hours=1), country="DE")],  # the day leaves its segment
        [pageview("v1", day - timedelta(minutes=10), "/p2"),  # before v1's session: re-keyed
         pageview("new", day + timedelta(hours=2), "/p1", referrer="https://www.google.com/")],
        [{"name": "buy", "visitor_id": "late", "revenue": "3", "properties": {"plan": "pro"},
          "timestamp": (day + timedelta(hours=1, minutes=5)).isoformat()}],
    ]
    kept = None
    for batch in batches:
        await send_events(client, project, batch)
        base, columnar_results = await answers(engine, duck, project, all_queries)
        for query, expected, got in zip(all_queries, base, columnar_results, strict=True):
            assert got == expected, (query, batch)
        tail = duck.tails.tails[project.id]
        assert tail.days == {day.date(), NOW.date()}  # and today, never in a segment
        assert kept in (None, tail)  # the same tables, brought up to date
        kept = tail
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    base, columnar_results = await answers(engine, duck, project, all_queries)
    assert columnar_results == base
    assert duck.tails.tails[project.id].days == {NOW.date()}


async def test_a_tail_of_too_many_days_is_read_per_request(client, db, engine, duck):
    project = await make_project(db, timezone="Europe/Berlin")
    await send_events(client, project, traffic())
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    await send_events(client, project, [pageview("late", datetime(2024, 3, d, 9, tzinfo=UTC))
                                        for d in (2, 5, 9)])
    duck.tails.max_days = 2
    base, columnar_results = await answers(engine, duck, project, queries(project.timezone))
    assert columnar_results == base
    assert project.id not in duck.tails.tails
