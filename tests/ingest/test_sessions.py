"""Sessions and rollups depend only on the set of events, never on their arrival order."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sightline.app import create_app
from sightline.models import RollupDay, Session
from sightline.rollups import tasks as rollups
from tests.factories import auth, make_project, send_events

BASE = datetime(2024, 3, 30, 22, 0, tzinfo=UTC)  # across the DST change in Europe/Berlin


def visit(visitor: str, minutes: list[float], **extra: object) -> list[dict]:
    return [{"name": "pageview", "visitor_id": visitor, "path": f"/p{i}",
             "timestamp": (BASE + timedelta(minutes=m)).isoformat(), "id": f"{visitor}-{m}",
             **extra} for i, m in enumerate(minutes)]


def traffic() -> list[dict]:
    return [
        *visit("a", [0, 10, 35, 70, 71, 200]),  # gaps 10, 25, 35 (new), 1, 129 (new)
        *visit("b", [5, 30, 60, 90], referrer="https://news.example/x"),
        *visit("c", [1, 2, 3], session_id="s1"),     # explicit session, never split
        *visit("c", [500], session_id="s1"),
        {"name": "signup", "visitor_id": "b", "timestamp": (BASE + timedelta(minutes=31)).isoformat(),
         "properties": {"plan": "pro"}, "revenue": 12.5, "id": "b-signup"},
    ]


async def stored_sessions(db, project_id: str) -> list[tuple]:
    rows = (await db.execute(select(Session).where(Session.project_id == project_id))).scalars()
    return sorted((s.visitor_id, s.session_key, s.started_at, s.ended_at, s.pageviews, s.events,
                   s.entry_page, s.exit_page, s.source) for s in rows)


async def stored_rollups(db, project_id: str) -> list[tuple]:
    rows = (await db.execute(select(RollupDay).where(RollupDay.project_id == project_id))).scalars()
    return sorted((r.day, r.dimension, r.value, r.events, r.pageviews, r.visits, r.bounces,
                   r.duration, r.session_pageviews, r.exit_pageviews) for r in rows)


async def test_thirty_minutes_of_inactivity_split_sessions_and_session_ids_do_not(client, db):
    project = await make_project(db)
    await send_events(client, project, traffic())
    sessions = await stored_sessions(db, project.id)
    per_visitor = {v: [s for s in sessions if s[0] == v] for v in "abc"}
    assert [s[4] for s in per_visitor["a"]] == [3, 2, 1]
    assert [(s[4], s[5]) for s in per_visitor["b"]] == [(4, 5)]  # 25-30 min gaps, one session
    assert [(s[4], s[6], s[7]) for s in per_visitor["c"]] == [(4, "/p0", "/p0")]


async def test_shuffled_batches_store_the_same_sessions_and_rollups(client, db):
    events = traffic()
    projects = []
    for seed in (1, 2, 3):
        project = await make_project(db, timezone="Europe/Berlin")
        shuffled = random.Random(seed).sample(events, len(events))
        for start in range(0, len(shuffled), 4):
            await send_events(client, project, shuffled[start:start + 4])
        await send_events(client, project, shuffled[:5])  # retried batch: all duplicates
        await rollups.build_stale_days(db, project.id, project.timezone)
        projects.append(project)
    sessions = [await stored_sessions(db, p.id) for p in projects]
    rolled = [await stored_rollups(db, p.id) for p in projects]
    assert sessions[0] == sessions[1] == sessions[2]
    assert rolled[0] == rolled[1] == rolled[2]
    assert rolled[0], "rollups were built"


async def test_acknowledged_events_survive_a_server_restart(client, db, settings):
    project = await make_project(db)
    await send_events(client, project, traffic())
    restarted = create_app(settings)
    async with restarted.router.lifespan_context(restarted):
        from httpx import ASGITransport, AsyncClient

        async with AsyncClient(transport=ASGITransport(app=restarted),
                               base_url="http://test") as fresh:
            response = await fresh.get(
                f"/api/v1/projects/{project.id}/stats/overview?date_from=2024-03-30"
                "&date_to=2024-03-31&tz=UTC", headers={**auth(project.keys.read),
                                                       "cache-control": "no-cache"})
    assert response.json()["results"]["events"]["value"] == len(traffic())
