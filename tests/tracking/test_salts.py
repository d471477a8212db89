"""Daily salts: one per UTC day shared by every process, rotated, deleted after two days."""

from datetime import date, timedelta

from sqlalchemy import text

from sightline.db import make_sessionmaker
from sightline.tracking.salts import Salts, load_salt, visitor_id

TODAY = date(2031, 5, 20)  # far from the real today, whose salt other tests use


async def salt_days(db) -> set[date]:
    rows = await db.execute(text("SELECT day FROM salt WHERE day > '2031-01-01'"))
    return set(rows.scalars())


async def test_a_day_has_one_salt_and_old_salts_are_deleted(engine, db):
    for back in (4, 3, 2, 1):
        await load_salt(db, TODAY - timedelta(days=back))
    await db.commit()
    first = Salts(make_sessionmaker(engine))
    second = Salts(make_sessionmaker(engine))  # another server process
    salt = await first.of(TODAY)
    assert salt == await second.of(TODAY) and len(salt) == 32
    assert await salt_days(db) == {TODAY, TODAY - timedelta(days=1)}
    tomorrow = await first.of(TODAY + timedelta(days=1))
    assert tomorrow != salt
    assert await salt_days(db) == {TODAY, TODAY + timedelta(days=1)}
    await db.execute(text("DELETE FROM salt WHERE day > '2031-01-01'"))
    await db.commit()


def test_visitor_ids_change_with_the_salt_site_address_and_agent():
    base = visitor_id(b"a" * 32, "s_1", "1.2.3.4", "UA")
    assert base == visitor_id(b"a" * 32, "s_1", "1.2.3.4", "UA")
    others = {visitor_id(b"b" * 32, "s_1", "1.2.3.4", "UA"),
              visitor_id(b"a" * 32, "s_2", "1.2.3.4", "UA"),
              visitor_id(b"a" * 32, "s_1", "1.2.3.5", "UA"),
              visitor_id(b"a" * 32, "s_1", "1.2.3.4", "UA2")}
    assert base not in others and len(others) == 4
    assert "1.2.3.4" not in base
