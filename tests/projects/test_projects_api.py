"""Projects managed with the instance admin token (SPEC section 9)."""

import uuid

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from sightline.app import create_app
from sightline.db import Base
from sightline.projects.schemas import ProjectCreated
from sightline.settings import CacheSettings
from tests.conftest import ADMIN_TOKEN
from tests.dashboards.helpers import MARCH, create_dashboard, send_traffic, widget
from tests.factories import auth, make_project

ADMIN = auth(ADMIN_TOKEN)


async def create(client, **body):
    response = await client.post("/api/v1/projects", json={"name": "Shop", **body}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return ProjectCreated.model_validate(response.json())


async def test_the_instance_token_creates_and_lists_projects_whose_keys_work(client):
    created = await create(client, timezone="Europe/Berlin")
    assert created.id.startswith("p_") and created.timezone == "Europe/Berlin"
    own = await client.get(f"/api/v1/projects/{created.id}", headers=auth(created.keys.read))
    assert own.json() == {"id": created.id, "name": "Shop", "timezone": "Europe/Berlin",
                          "site_id": created.site_id, "allowed_origins": []}

    listed = await client.get("/api/v1/projects", headers=ADMIN)
    assert listed.status_code == 200
    mine = [p for p in listed.json() if p["id"] == created.id]
    assert mine == [{"id": created.id, "name": "Shop", "timezone": "Europe/Berlin",
                     "site_id": created.site_id, "allowed_origins": [],
                     "created_at": mine[0]["created_at"]}]
    assert (await client.get(f"/api/v1/projects/{created.id}", headers=ADMIN)).status_code == 200


async def test_project_keys_and_wrong_tokens_cannot_manage_projects(client, db):
    project = await make_project(db)
    assert (await client.get("/api/v1/projects")).status_code == 401
    wrong = await client.get("/api/v1/projects", headers=auth("not-the-token"))
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    for key in project.keys.model_dump().values():
        response = await client.post("/api/v1/projects", json={"name": "x"}, headers=auth(key))
        assert response.status_code == 403, key
    deleted = await client.delete(f"/api/v1/projects/{project.id}",
                                  headers=auth(project.keys.admin))
    assert deleted.status_code == 403
    patched = await client.patch(f"/api/v1/projects/{project.id}", json={"name": "x"},
                                 headers=auth(project.keys.read))
    assert patched.status_code == 403


async def test_a_bad_time_zone_is_one_clear_problem(client, db):
    response = await client.post("/api/v1/projects", json={"name": "x", "timezone": "Mars/Base"},
                                 headers=ADMIN)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["detail"].startswith("timezone: unknown IANA time zone 'Mars/Base'")
    assert [e["field"] for e in problem["errors"]] == ["timezone"]
    project = await make_project(db)
    patched = await client.patch(f"/api/v1/projects/{project.id}", json={"timezone": "Nowhere"},
                                 headers=auth(project.keys.admin))
    assert patched.status_code == 422 and patched.json()["detail"].startswith("timezone:")


async def test_rename_and_move_to_another_zone_change_the_numbers_by_day(client, db):
    project = await make_project(db)
    await send_traffic(client, project)  # 2024-03-10 12:00 to 14:01 UTC
    url = f"/api/v1/projects/{project.id}"
    day = {"date_from": "2024-03-10", "date_to": "2024-03-10"}
    before = await client.get(url + "/stats/overview", params=day, headers=auth(project.keys.read))
    assert before.json()["results"]["visitors"]["value"] == 3

    renamed = await client.patch(url, json={"name": "Renamed"}, headers=auth(project.keys.admin))
    assert renamed.json() == {"id": project.id, "name": "Renamed", "timezone": "UTC",
                              "site_id": project.site_id, "allowed_origins": []}
    moved = await client.patch(url, json={"timezone": "Pacific/Kiritimati"}, headers=ADMIN)
    assert moved.json()["timezone"] == "Pacific/Kiritimati"  # UTC+14: all on the 11th now
    after = await client.get(url + "/stats/overview", params=day, headers=auth(project.keys.read))
    assert after.json()["results"]["visitors"]["value"] == 0
    next_day = {"date_from": "2024-03-11", "date_to": "2024-03-11"}
    moved_day = await client.get(url + "/stats/overview", params=next_day,
                                 headers=auth(project.keys.read))
    assert moved_day.json()["results"]["visitors"]["value"] == 3


@pytest.fixture
async def patient_app(settings):
    """The app with a Redis timeout a busy machine cannot trip (the drop scans the keyspace)."""
    cache = CacheSettings(**{**settings.cache.model_dump(), "socket_timeout": 2.0,
                             "key_prefix": f"t{uuid.uuid4().hex[:8]}:"})
    application = create_app(settings.model_copy(update={"cache": cache}))
    async with application.router.lifespan_context(application):
        yield application


async def test_delete_removes_every_row_and_cached_result(patient_app, db):
    app = patient_app
    client = AsyncClient(transport=ASGITransport(app=app), base_url="http://test")
    project = await make_project(db)
    await send_traffic(client, project)
    await create_dashboard(client, project, [widget("pages")])
    url = f"/api/v1/projects/{project.id}"
    first = await client.get(url + "/stats/pages", params=MARCH, headers=auth(project.keys.read))
    assert first.status_code == 200
    cached = await client.get(url + "/stats/pages", params=MARCH, headers=auth(project.keys.read))
    assert cached.headers["x-cache"] == "HIT"

    assert (await client.delete(url, headers=ADMIN)).status_code == 204
    for table in Base.metadata.sorted_tables:
        column = table.c.get("project_id") if table.name != "project" else table.c.id
        if column is not None:
            count = (await db.execute(select(func.count()).select_from(table)
                                      .where(column == project.id))).scalar()
            assert count == 0, table.name
    backend = app.state.cache.backend
    prefix = f"{app.state.cache.prefix}stats:v1:{{{project.id}}}:"
    leftover = [k async for k in backend.client.scan_iter(match=prefix + "*")
                if not k.endswith(b":versions")]
    assert leftover == []
    gone = await client.get(url + "/stats/pages", params=MARCH, headers=auth(project.keys.read))
    assert gone.status_code == 401
    assert (await client.get(url, headers=ADMIN)).status_code == 404
    assert (await client.delete(url, headers=ADMIN)).status_code == 404
    await client.aclose()
