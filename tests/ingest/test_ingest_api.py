"""POST /api/v1/events: the contract of SPEC section 3, against real PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sightline.models import Event, Session
from tests.factories import auth, make_event, make_project, send_events

BASE = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


async def count_events(db, project_id: str) -> int:
    return await db.scalar(select(func.count()).where(Event.project_id == project_id))


async def test_accepts_array_and_wrapped_bodies(client, db):
    project = await make_project(db)
    assert await send_events(client, project, [make_event()]) == {"accepted": 1, "duplicates": 0}
    response = await client.post("/api/v1/events", json={"events": [make_event()]},
                                 headers=auth(project.keys.ingest))
    assert response.status_code == 202
    assert await count_events(db, project.id) == 2


async def test_retries_with_same_ids_are_skipped(client, db):
    project = await make_project(db)
    batch = [make_event(id="a"), make_event(id="b"), make_event(id="a")]
    assert await send_events(client, project, batch) == {"accepted": 2, "duplicates": 1}
    assert await send_events(client, project, batch) == {"accepted": 0, "duplicates": 3}
    assert await count_events(db, project.id) == 2


@pytest.mark.parametrize("bad, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"visitor_id": ""}, "visitor_id"),
    ({"visitor_id": 12}, "visitor_id"),
    ({"timestamp": "2024-03-10T12:00:00"}, "timestamp"),
    ({"timestamp": 1700000000}, "timestamp"),
    ({"id": "x" * 65}, "id"),
    ({"session_id": ""}, "session_id"),
    ({"path": None}, None),
    ({"path": "/" + "a" * 2048}, "path"),
    ({"referrer": "not a url"}, "referrer"),
    ({"utm_source": "u" * 257}, "utm_source"),
    ({"country": "Germany"}, "country"),
    ({"country": "US\n"}, "country"),
    ({"timestamp": "1999-12-31T23:59:59+00:00"}, "timestamp"),
    ({"timestamp": "0001-01-01T00:00:00+14:00"}, "timestamp"),
    ({"path": "/" + "\U0001F600" * 600}, "path"),
    ({"referrer": "https://example.com/" + "\u00e9" * 700}, "referrer"),
    ({"properties": {"k" * 65: 1}}, "properties"),
    ({"properties": {"plan": "p" * 257}}, "properties"),
    ({"device": "phone"}, "device"),
    ({"browser": "b" * 65}, "browser"),
    ({"revenue": -1}, "revenue"),
    ({"revenue": "abc"}, "revenue"),
    ({"properties": {f"k{i}": i for i in range(31)}}, "properties"),
    ({"properties": {"nested": {"a": 1}}}, "properties.nested"),
    ({"properties": {"n": None}}, "properties.n"),
])
async def test_invalid_event_rejects_whole_batch(client, db, bad, field):
    project = await make_project(db)
    batch = [make_event(id="ok"), make_event(**{"id": "bad", **bad})]
    response = await client.post("/api/v1/events", json=batch, headers=auth(project.keys.ingest))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert errors and all(error["index"] == 1 for error in errors)
    if field is not None:
        assert any((error["field"] or "").startswith(field) for error in errors), errors
    assert await count_events(db, project.id) == 0


async def test_timestamp_more_than_an_hour_ahead_is_invalid(client, db):
    project = await make_project(db)
    future = (datetime.now(UTC) + timedelta(hours=1, minutes=5)).isoformat()
    response = await client.post("/api/v1/events", json=[make_event(timestamp=future)],
                                 headers=auth(project.keys.ingest))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "timestamp"


async def test_malformed_json_is_400_and_wrong_shape_422(client, db):
    project = await make_project(db)
    headers = {**auth(project.keys.ingest), "content-type": "application/json"}
    response = await client.post("/api/v1/events", content=b"[{", headers=headers)
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-body"
    response = await client.post("/api/v1/events", content=b'{"x": 1}', headers=headers)
    assert response.status_code == 422


async def test_limits_are_413(client, db):
    project = await make_project(db)
    headers = auth(project.keys.ingest)
    too_many = [make_event()] * 10_001
    response = await client.post("/api/v1/events", json=too_many, headers=headers)
    assert response.status_code == 413
    huge = b'[{"name":"pageview","visitor_id":"v","path":"/' + b"a" * 5_000_000 + b'"}]'
    response = await client.post("/api/v1/events", content=huge, headers=headers)
    assert response.status_code == 413
    assert await count_events(db, project.id) == 0


async def test_derives_source_device_browser_os_and_path(client, db):
    project = await make_project(db)
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
    await send_events(client, project, [make_event(
        path="https://shop.example/pricing?x=1#top", referrer="https://www.Google.com:443/s?q=a",
        user_agent=iphone)])
    event = (await db.execute(select(Event).where(Event.project_id == project.id))).scalar_one()
    assert (event.path, event.referrer, event.source) == (
        "/pricing", "https://www.Google.com:443/s", "google.com")
    assert (event.device, event.browser, event.os) == ("mobile", "Safari", "iOS")


async def test_utm_source_wins_over_referrer_and_direct_is_default(client, db):
    project = await make_project(db)
    await send_events(client, project, [
        make_event(visitor_id="a", utm_source="Newsletter", referrer="https://x.com/"),
        make_event(visitor_id="b"),
    ])
    sources = (await db.execute(select(Session.visitor_id, Session.source)
                                .where(Session.project_id == project.id))).all()
    assert sorted(sources) == [("a", "Newsletter"), ("b", "Direct / None")]


@pytest.mark.parametrize("scope, status", [("read", 403), ("admin", 202), ("ingest", 202)])
async def test_scopes(client, db, scope, status):
    project = await make_project(db)
    key = getattr(project.keys, scope)
    response = await client.post("/api/v1/events", json=[make_event()], headers=auth(key))
    assert response.status_code == status


async def test_missing_or_unknown_key_is_401(client):
    assert (await client.post("/api/v1/events", json=[])).status_code == 401
    response = await client.post("/api/v1/events", json=[], headers=auth("sl_ingest_nope"))
    assert response.status_code == 401
