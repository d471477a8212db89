"""Visitor numbers are dense per project: one project's count never affects another's."""

from sqlalchemy import text

from sightline.rollups import tasks as rollups
from tests.factories import make_event, make_project, send_events

NUMBERS = text("SELECT num FROM visitor WHERE project_id = :p ORDER BY num")
EVENT_NUMBERS = text("SELECT DISTINCT visitor_num FROM event WHERE project_id = :p ORDER BY 1")


async def test_each_project_numbers_its_visitors_from_one(client, db):
    first, second = await make_project(db), await make_project(db)
    await send_events(client, first, [make_event(visitor_id=f"a{i}") for i in range(3)])
    await send_events(client, second, [make_event(visitor_id=f"b{i}") for i in range(2)])
    await send_events(client, first, [make_event(visitor_id=v) for v in ("a0", "a9")])
    assert (await db.execute(NUMBERS, {"p": first.id})).scalars().all() == [1, 2, 3, 4]
    assert (await db.execute(NUMBERS, {"p": second.id})).scalars().all() == [1, 2]
    assert (await db.execute(EVENT_NUMBERS, {"p": first.id})).scalars().all() == [1, 2, 3, 4]


async def test_a_project_at_the_32_bit_limit_leaves_the_others_working(client, db):
    full, other = await make_project(db), await make_project(db)
    await db.execute(text("INSERT INTO visitor (project_id, visitor_key, num) "
                          "VALUES (:p, 1, 2147483647)"), {"p": full.id})
    await db.commit()
    await send_events(client, other, [make_event(visitor_id="x")])
    assert (await db.execute(NUMBERS, {"p": other.id})).scalars().all() == [1]


async def test_a_build_numbers_visitors_stored_without_one(client, db):
    project = await make_project(db)
    await send_events(client, project, [make_event(visitor_id="a")])
    await db.execute(text("UPDATE event SET visitor_num = NULL WHERE project_id = :p"),
                     {"p": project.id})
    await db.execute(text("DELETE FROM visitor WHERE project_id = :p"), {"p": project.id})
    await db.commit()
    await rollups.build_stale_days(db, project.id, project.timezone)
    assert (await db.execute(EVENT_NUMBERS, {"p": project.id})).scalars().all() == [1]
