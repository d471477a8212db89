"""Reading rollups: built days from rollup_day, the others from the base tables, merged."""

import asyncio
from datetime import date

from sqlalchemy import text

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


class CountingRunner(Runner):
    def __init__(self, engine):  # type: ignore[no-untyped-def]
        super().__init__(engine)
        self.statements = 0

    async def all(self, *statements):  # type: ignore[no-untyped-def]
        self.statements += len(statements)
        return await super().all(*statements)


def visitors(merged):  # type: ignore[no-untyped-def]
    return {page: (len(a.sets["event_visitors"]), a.counts["pageviews"])
            for page, a in merged.items()}


async def test_merged_built_days_are_kept_exactly_until_a_day_is_rebuilt(client, db, engine):
    project = await make_project(db)
    await send_events(client, project, EVENTS[:3])
    await rollups.build_stale_days(db, project.id, project.timezone)
    await send_events(client, project, EVENTS[3:])  # 05-03 stale again, 05-04 new
    memo, first, last = rollup_read.MergedDays(10**8), date(2024, 5, 1), date(2024, 5, 9)

    async def both() -> tuple[dict, dict, int]:  # type: ignore[type-arg]
        runner = CountingRunner(engine)
        kept = await rollup_read.read_merged(runner, project.id, "UTC", first, last, "page", memo)
        fresh = await rollup_read.read_merged(Runner(engine), project.id, "UTC", first, last,
                                              "page")
        return visitors(kept), visitors(fresh), runner.statements

    kept, fresh, first_statements = await both()
    assert kept == fresh == {"/": (3, 4), "/pricing": (1, 1)}
    kept, fresh, again = await both()
    assert kept == fresh and again == first_statements - 1  # built days not read again
    await send_events(client, project, [{**EVENTS[0], "visitor_id": "d"}])  # 05-02 changes
    await rollups.build_stale_days(db, project.id, project.timezone)
    kept, fresh, _ = await both()
    assert kept == fresh == {"/": (4, 5), "/pricing": (1, 1)}


def totals(by_day):  # type: ignore[no-untyped-def]
    return {day: (len(v[""].sets["event_visitors"]), v[""].counts["events"],
                  v[""].sums["revenue"], v[""].counts["visits"])
            for day, v in by_day.items() if "" in v}


async def test_kept_event_rows_of_days_not_built_follow_each_batch(client, db, engine):
    """Days not built keep their event rows with the last event id; after a batch only its
    events are read (by id) and merged in, the session rows are read again."""
    project = await make_project(db)
    await send_events(client, project, EVENTS[:3])
    memo, first, last = rollup_read.MergedDays(10**8), date(2024, 5, 1), date(2024, 5, 9)
    batches = [EVENTS[3:5], [EVENTS[5], {**EVENTS[0], "visitor_id": "d"}],  # a late event too
               [{**EVENTS[1], "visitor_id": "a", "timestamp": "2024-05-02T09:59:00Z"}]]
    for batch in [[], *batches]:
        await send_events(client, project, batch)
        for dimension in ("", "page"):
            kept = await rollup_read.read_merged(Runner(engine), project.id, "UTC", first, last,
                                                 dimension, memo)
            fresh = await rollup_read.read_merged(Runner(engine), project.id, "UTC", first,
                                                  last, dimension)
            assert visitors(kept) == visitors(fresh), batch
        kept_days = await rollup_read.read_days(Runner(engine), project.id, "UTC", first, last,
                                                "", memo)
        fresh_days = await rollup_read.read_days(Runner(engine), project.id, "UTC", first, last,
                                                 "")
        assert totals(kept_days) == totals(fresh_days), batch
    (last_id, rows), = [entry for key, entry in memo.event_rows.items() if key[2] == "page"]
    assert last_id == max(row.id for row in await event_ids(db, project.id))
    assert {row["value"] for row in rows} == {"/", "/pricing"}  # one row per day and value


async def event_ids(db, project_id):  # type: ignore[no-untyped-def]
    return (await db.execute(text("SELECT id FROM event WHERE project_id = :p"),
                             {"p": project_id})).all()


async def test_rows_by_last_event_are_shared_until_an_event_is_added():
    shared, computed = rollup_read.MergedDays(10**6).by_last_event, []

    async def compute() -> list[int]:
        computed.append(1)
        await asyncio.sleep(0.01)
        return [len(computed)]

    key = ("p", "UTC", "", (date(2024, 5, 2),))
    first, second = await asyncio.gather(shared.get(key, 7, compute), shared.get(key, 7, compute))
    assert first == second == [1] and len(computed) == 1
    assert await shared.get(key, 6, compute) == [1]  # rows read at a later event hold
    assert await shared.get(key, 8, compute) == [2]
    assert not shared.turns or set(shared.turns) <= set(shared.entries)
