"""The columnar family on a hand-computed data set (tests/stats/families.py): from segments, and
from PostgreSQL for the days no segment holds."""

from sightline.state import state_of
from sightline.segments import service as segments
from sightline.stats.reports import COLUMNAR
from tests.factories import make_project, send_events
from tests.stats.families import EVENTS, NOW, OVERVIEW, PAGES, SOURCES, answer


async def test_columnar_segments_answer_the_hand_computed_numbers(client, db, engine, app):
    duck = state_of(app).duck
    project = await make_project(db)
    await send_events(client, project, EVENTS[:3])
    await segments.build_stale(engine, duck, project.id, project.timezone, NOW)
    await send_events(client, project, EVENTS[3:])  # later days: read from PostgreSQL
    overview = await answer(engine, project, "overview", COLUMNAR, duck=duck)
    assert {name: entry["value"] for name, entry in overview.items()} == OVERVIEW
    assert await answer(engine, project, "pages", COLUMNAR, duck=duck) == PAGES
    assert await answer(engine, project, "sources", COLUMNAR, duck=duck) == SOURCES
    filtered = await answer(engine, project, "pages", COLUMNAR,
                            [("filters", "source==google.com")], duck=duck)
    assert filtered == [{"page": "/", "visitors": 2, "pageviews": 2},
                        {"page": "/pricing", "visitors": 1, "pageviews": 1}]
