"""The rollup family on a hand-computed data set, before (days computed from the base tables
at query time) and after the build (days read from rollup_day)."""

from sightline.rollups import tasks as rollups
from sightline.stats.reports import ROLLUPS
from tests.factories import make_project, send_events
from tests.stats.families import EVENTS, OVERVIEW, PAGES, SOURCES, answer


async def test_rollups_answer_the_hand_computed_numbers_before_and_after_the_build(client, db,
                                                                                   engine):
    project = await make_project(db)
    await send_events(client, project, EVENTS)
    for stage in ("stale", "built"):
        if stage == "built":
            assert await rollups.build_stale_days(db, project.id, project.timezone)
        overview = await answer(engine, project, "overview", ROLLUPS)
        assert {name: entry["value"] for name, entry in overview.items()} == OVERVIEW
        assert await answer(engine, project, "pages", ROLLUPS) == PAGES
        assert await answer(engine, project, "sources", ROLLUPS) == SOURCES
        revenue = await answer(engine, project, "revenue", ROLLUPS)
        assert revenue == {"revenue": 20.0, "orders": 1, "paying_visitors": 1,
                           "average_order_value": 20.0, "arpu": 6.67}
