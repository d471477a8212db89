"""The seeder stores what ingestion would store, builds the same sessions, and is deterministic."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select

from sightline.models import Event, Session
from sightline.models.rollup import RollupState, Visitor
from sightline.seed.service import seed_project
from sightline.seed.traffic import ROW_COLUMNS, Traffic, as_api_event
from tests.factories import make_project, send_events

END = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
EVENT_FIELDS = ("name", "ts", "visitor_id", "visitor_key", "session_id", "session_key", "path",
                "referrer", "source", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                "utm_term", "country", "device", "browser", "os", "revenue", "properties")
# Visitor numbers come from a global sequence, so they differ between the two projects.
SESSION_FIELDS = tuple(c.name for c in Session.__table__.columns
                       if c.name not in ("project_id", "visitor_num"))


def as_sent(event: Event) -> dict[str, Any]:
    return as_api_event({c: getattr(event, c) for c in ROW_COLUMNS})


async def rows(db, model, project_id: str, fields: tuple[str, ...]) -> list[tuple[Any, ...]]:
    columns = [getattr(model, f) for f in fields]
    result = await db.execute(select(*columns).where(model.project_id == project_id))
    return sorted((tuple(r) for r in result), key=repr)


async def test_seeded_sessions_equal_the_sessions_ingest_builds(client, db):
    seeded = await make_project(db)
    stats = await seed_project(db, seeded.id, 1500, 3, 7, end=END)
    await db.commit()
    events = (await db.execute(select(Event).where(Event.project_id == seeded.id))).scalars().all()
    assert stats["events"] == len(events) == 1500
    assert {e.session_key for e in events} == {"s:" + e.session_id for e in events}

    # The same events through the API, in another order and in several batches.
    sent = [as_sent(e) for e in events]
    random.Random(1).shuffle(sent)
    ingested = await make_project(db)
    for start in range(0, len(sent), 500):
        assert await send_events(client, ingested, sent[start:start + 500]) == {
            "accepted": len(sent[start:start + 500]), "duplicates": 0}

    seeded_sessions = await rows(db, Session, seeded.id, SESSION_FIELDS)
    assert len(seeded_sessions) == stats["sessions"] > 100
    assert seeded_sessions == await rows(db, Session, ingested.id, SESSION_FIELDS)
    assert await rows(db, Event, seeded.id, EVENT_FIELDS) == await rows(
        db, Event, ingested.id, EVENT_FIELDS)
    # Both carry the visitor numbers the visitor table gave (the numbers themselves differ).
    for model in (Event, Session):
        assert not (await db.execute(select(model.visitor_key).where(
            model.project_id.in_((seeded.id, ingested.id)), model.visitor_num.is_(None)))).first()
    # As ingestion does: visitors registered, their days marked stale for the rollups.
    for model, fields in ((Visitor, ("visitor_key",)), (RollupState, ("day", "built_version"))):
        assert await rows(db, model, seeded.id, fields) == await rows(db, model, ingested.id,
                                                                      fields)


def test_same_seed_same_traffic_and_exact_count():
    def draw(seed: int) -> list[tuple[Any, ...]]:
        traffic = Traffic("p_x", 20_000, 10, seed, END)
        return [row for chunk in traffic.chunks(3_000) for row in chunk.rows]

    first = draw(3)
    assert len(first) == 20_000
    assert first == draw(3)
    assert first != draw(4)


def test_traffic_looks_real():
    traffic = Traffic("p_x", 60_000, 28, 5, END)
    chunks = list(traffic.chunks(10_000))
    events = [row for chunk in chunks for row in chunk.rows]
    name, ts, visitor, path, source, revenue, props = 3, 4, 5, 8, 10, 20, 21
    assert all(END - timedelta(days=28) <= e[ts] <= END for e in events)

    per_session = Counter(e[1] for e in events)
    lengths = Counter(per_session.values())
    assert 0.3 < lengths[1] / len(per_session) < 0.5           # bounces
    assert max(per_session.values()) == 15

    pages = Counter(e[path] for e in events if e[name] == "pageview")
    top = [count for _, count in pages.most_common()]
    assert len(pages) > 200 and top[0] > 10 * top[50]           # skewed popularity

    sources = Counter(e[source] for e in events)
    for expected in ("google.com", "Direct / None", "newsletter", "t.co", "news.ycombinator.com"):
        assert sources[expected] > 0, expected

    purchases = [e for e in events if e[name] == "purchase"]
    assert purchases and all(e[revenue] > 0 for e in purchases)
    assert all(isinstance(orjson.loads(e[props]), dict) for e in events if e[props])
    assert all(e[revenue] is None for e in events if e[name] != "purchase")

    days_seen: dict[str, set[Any]] = {}
    for e in events:
        days_seen.setdefault(e[visitor], set()).add(e[ts].date())
    assert sum(len(d) > 1 for d in days_seen.values()) > 500   # visitors return on other days

    by_hour = Counter(e[ts].hour for e in events)
    assert by_hour[14] > 2 * by_hour[3]                        # daily seasonality
    by_weekday = Counter(e[ts].weekday() for e in events)
    assert by_weekday[1] > 1.2 * by_weekday[6]                 # quieter weekends
