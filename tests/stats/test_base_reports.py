"""The base-table family on a hand-computed data set (tests/stats/families.py)."""

from sightline.stats.reports import BASE
from tests.factories import make_project, send_events
from tests.stats.families import EVENTS, OVERVIEW, PAGES, SOURCES, answer


async def test_base_tables_answer_the_hand_computed_numbers(client, db, engine):
    project = await make_project(db)
    await send_events(client, project, EVENTS)
    overview = await answer(engine, project, "overview", BASE)
    assert {name: entry["value"] for name, entry in overview.items()} == OVERVIEW
    assert await answer(engine, project, "pages", BASE) == PAGES
    assert await answer(engine, project, "sources", BASE) == SOURCES
    filtered = await answer(engine, project, "pages", BASE, [("filters", "source==google.com")])
    assert filtered == [{"page": "/", "visitors": 2, "pageviews": 2},
                        {"page": "/pricing", "visitors": 1, "pageviews": 1}]
