"""Read-only share links: one dashboard, no key, revocable at once, stored only as a hash."""

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from sightline.models import ShareToken
from tests.dashboards.helpers import MARCH, create_dashboard, dashboard_url, send_traffic, widget
from tests.factories import auth, make_project


async def share(client, project, dashboard_id):
    response = await client.post(dashboard_url(project, dashboard_id) + "/shares",
                                 headers=auth(project.keys.admin))
    assert response.status_code == 201, response.text
    return response.json()


async def test_anyone_with_the_token_loads_the_dashboard_until_revoked(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    created = await create_dashboard(client, project, [widget("overview"), widget("countries")])
    shared = await share(client, project, created["id"])
    assert shared["url"] == f"/api/v1/shared/{shared['token']}"

    response = await client.get(shared["url"], params=MARCH)
    assert response.status_code == 200, response.text
    assert "x-cache" in response.headers
    keyed = await client.get(dashboard_url(project, created["id"]), params=MARCH,
                             headers=auth(project.keys.read))
    assert response.json()["widgets"] == keyed.json()["widgets"]
    assert response.json()["widgets"][0]["data"]["results"]["visitors"]["value"] == 3
    bad = await client.get(shared["url"], params={"filters": "planet==mars"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "filters"

    listed = await client.get(dashboard_url(project, created["id"]) + "/shares",
                              headers=auth(project.keys.admin))
    assert listed.json() == [{"id": shared["id"], "dashboard_id": created["id"],
                              "created_at": listed.json()[0]["created_at"], "revoked_at": None,
                              "expires_at": None}]
    revoke = await client.delete(f"{dashboard_url(project, created['id'])}/shares/{shared['id']}",
                                 headers=auth(project.keys.admin))
    assert revoke.status_code == 204
    gone = await client.get(shared["url"], params=MARCH)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert (await client.delete(f"{dashboard_url(project, created['id'])}/shares/s_nope",
                                headers=auth(project.keys.admin))).status_code == 404


async def test_token_opens_nothing_else_and_is_stored_as_a_hash(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [widget("pages")])
    other = await create_dashboard(client, project, [widget("os")], name="Other")
    token = (await share(client, project, created["id"]))["token"]

    row = (await db.execute(select(ShareToken).where(ShareToken.project_id == project.id))
           ).scalar_one()
    assert row.token_hash == hashlib.sha256(token.encode()).digest()
    assert token not in repr(row.__dict__)

    as_key = auth(token)
    assert (await client.get(dashboard_url(project, other["id"]), headers=as_key)).status_code == 401
    assert (await client.get(dashboard_url(project), headers=as_key)).status_code == 401
    assert (await client.get(f"/api/v1/projects/{project.id}/stats/pages",
                             headers=as_key)).status_code == 401
    assert (await client.get(f"/api/v1/shared/{token}x")).status_code == 404
    assert (await client.get("/api/v1/shared/sl_share_made_up")).status_code == 404


async def test_share_routes_need_an_admin_key_of_the_project(client, db):
    project, stranger = await make_project(db), await make_project(db, name="Stranger")
    created = await create_dashboard(client, project, [widget("pages")])
    url = dashboard_url(project, created["id"]) + "/shares"
    assert (await client.post(url)).status_code == 401
    assert (await client.post(url, headers=auth(project.keys.read))).status_code == 403
    assert (await client.get(url, headers=auth(project.keys.read))).status_code == 403
    assert (await client.post(url, headers=auth(stranger.keys.admin))).status_code == 404
    foreign = dashboard_url(stranger, created["id"]) + "/shares"
    assert (await client.post(foreign, headers=auth(stranger.keys.admin))).status_code == 404
    assert (await client.get(foreign, headers=auth(stranger.keys.admin))).status_code == 404
    shared = await share(client, project, created["id"])
    revoke = f"{dashboard_url(stranger, created['id'])}/shares/{shared['id']}"
    assert (await client.delete(revoke, headers=auth(stranger.keys.admin))).status_code == 404
    assert (await client.get(shared["url"])).status_code == 200


async def test_deleting_the_dashboard_ends_its_links(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [widget("pages")])
    shared = await share(client, project, created["id"])
    await client.delete(dashboard_url(project, created["id"]), headers=auth(project.keys.admin))
    assert (await client.get(shared["url"])).status_code == 404


async def test_a_link_with_an_expiry_works_until_then_and_is_404_after(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [widget("pages")])
    url = dashboard_url(project, created["id"]) + "/shares"
    admin = auth(project.keys.admin)
    past = await client.post(url, json={"expires_at": "2020-01-01T00:00:00Z"}, headers=admin)
    assert past.status_code == 422 and past.json()["detail"].startswith("expires_at")
    naive = await client.post(url, json={"expires_at": "2099-01-01T00:00:00"}, headers=admin)
    assert naive.status_code == 422
    later = datetime.now(UTC) + timedelta(days=7)
    shared = await client.post(url, json={"expires_at": later.isoformat()}, headers=admin)
    assert shared.status_code == 201, shared.text
    body = shared.json()
    assert body["page_url"] == f"/share/{body['token']}"
    assert datetime.fromisoformat(body["expires_at"]) == later
    assert (await client.get(body["url"], params=MARCH)).status_code == 200
    page = await client.get(body["page_url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert body["token"] not in page.text

    await db.execute(update(ShareToken).where(ShareToken.id == body["id"])
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await db.commit()
    assert (await client.get(body["url"], params=MARCH)).status_code == 404
    assert (await client.get(body["page_url"])).status_code == 404
    assert (await client.get("/share/sl_share_unknown")).status_code == 404
