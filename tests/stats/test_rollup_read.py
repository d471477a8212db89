"""Reading rollups: built days from rollup_day, the others from the base tables, merged."""

from datetime import date

from sightline.rollups import tasks as rollups
from sightline.stats import rollup_read
from sightline.stats.runner import Runner
from tests.factories import make_project, send_events
from tests.stats.families import EVENTS


async def test_built_and_stale_days_merge_exactly(client, db, engine):
    project = await make_project(db)
    await send_events(client, project, EVENTS[:3])
    await rollups.build_stale_days(db, project.id, project.timezone)
    await send_events(client, project, EVENTS[3:])  # 05-03 stale again, 05-04 new
    runner = Runner(engine)
    first, last = date(2024, 5, 1), date(2024, 5, 9)
    merged = await rollup_read.read_merged(runner, project.id, "UTC", first, last, "page")
    assert {page: len(a.sets["event_visitors"]) for page, a in merged.items()} == {
        "/": 3, "/pricing": 1}
    by_day = await rollup_read.read_days(runner, project.id, "UTC", first, last, "")
    assert [by_day[date(2024, 5, d)][""].counts["visits"] for d in (2, 3, 4)] == [1, 2, 1]
    assert await rollup_read.first_day(runner, project.id) == date(2024, 5, 2)
