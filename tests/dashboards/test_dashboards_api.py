"""Dashboards and widgets over HTTP: SPEC section 5, against real PostgreSQL and Redis."""

import pytest

from tests.dashboards.helpers import (
    MARCH, create_dashboard, dashboard_url, send_traffic, widget,
)
from tests.factories import auth, make_event, make_project, send_events


async def stats(client, project, report, **params):
    response = await client.get(f"/api/v1/projects/{project.id}/stats/{report}", params=params,
                                headers=auth(project.keys.read))
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_list_read_update_delete(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [
        widget("overview", "Totals"),
        widget("pages", "Top pages", limit=5),
        {"title": "Trend", "visualization": "bar", "query": {"report": "timeseries"}},
    ])
    assert created["name"] == "Main" and created["id"].startswith("d_")
    assert [(w["title"], w["visualization"], w["position"]) for w in created["widgets"]] == [
        ("Totals", "number", 0), ("Top pages", "table", 1), ("Trend", "bar", 2)]
    assert created["widgets"][1]["query"] == {"report": "pages", "limit": 5}

    listed = await client.get(dashboard_url(project), headers=auth(project.keys.read))
    assert listed.status_code == 200
    assert listed.json() == [created]

    url = dashboard_url(project, created["id"])
    renamed = await client.patch(url, json={"name": "Renamed"}, headers=auth(project.keys.admin))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["widgets"] == created["widgets"]
    assert renamed.json()["updated_at"] > created["updated_at"]

    kept = created["widgets"][2]
    replaced = await client.patch(url, headers=auth(project.keys.admin), json={"widgets": [
        {"id": kept["id"], "title": "Trend (weekly)", "query": {"report": "timeseries",
                                                              "interval": "week"}},
        widget("countries"),
    ]})
    assert replaced.status_code == 200, replaced.text
    widgets = replaced.json()["widgets"]
    assert [(w["id"] == kept["id"], w["title"], w["visualization"], w["position"])
            for w in widgets] == [(True, "Trend (weekly)", "bar", 0), (False, "countries", "table", 1)]

    assert (await client.delete(url, headers=auth(project.keys.admin))).status_code == 204
    assert (await client.get(url, headers=auth(project.keys.read))).status_code == 404
    assert (await client.delete(url, headers=auth(project.keys.admin))).status_code == 404
    assert (await client.get(dashboard_url(project), headers=auth(project.keys.read))).json() == []


async def test_widget_data_is_the_stats_api_result(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    created = await create_dashboard(client, project, [
        widget("overview"), widget("pages", limit=1), widget("countries"),
        widget("timeseries", metrics=["visitors", "pageviews"], interval="week"),
        widget("funnel", step=["page:/", "page:/pricing"]),
    ])
    response = await client.get(dashboard_url(project, created["id"]), params=MARCH,
                                headers=auth(project.keys.read))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == created["id"] and body["name"] == "Main"
    assert body["meta"]["params"] == MARCH
    data = [w["data"] for w in body["widgets"]]
    expected = [
        await stats(client, project, "overview", **MARCH),
        await stats(client, project, "pages", limit=1, **MARCH),
        await stats(client, project, "countries", **MARCH),
        await stats(client, project, "timeseries", metrics="visitors,pageviews", interval="week",
                    **MARCH),
        await stats(client, project, "funnel", step=["page:/", "page:/pricing"], **MARCH),
    ]
    for got, want in zip(data, expected, strict=True):
        assert got["results"] == want["results"]
        assert got["meta"]["date_from"] == "2024-03-01"
    assert data[0]["results"]["visitors"]["value"] == 3
    assert data[1]["results"] == [{"page": "/", "visitors": 2, "pageviews": 2}]
    assert data[2]["results"] == [{"country": "DE", "visitors": 2, "visits": 2},
                                  {"country": "FR", "visitors": 1, "visits": 1}]


async def test_dashboard_parameters_override_and_filters_are_anded(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    created = await create_dashboard(client, project, [
        widget("pages", period="7d", filters="page==/pricing"),
        widget("countries", date_from="2020-01-01", date_to="2020-01-31"),
    ])
    url = dashboard_url(project, created["id"])
    body = (await client.get(url, params={**MARCH, "filters": "country==DE", "tz": "Europe/Berlin"},
                             headers=auth(project.keys.read))).json()
    pages, countries = (w["data"] for w in body["widgets"])
    assert pages["results"] == [{"page": "/pricing", "visitors": 1, "pageviews": 1}]
    assert pages["meta"]["tz"] == "Europe/Berlin"
    assert {(f["dimension"], f["values"][0]) for f in pages["meta"]["filters"]} == {
        ("country", "DE"), ("page", "/pricing")}
    assert countries["results"] == [{"country": "DE", "visitors": 2, "visits": 2}]
    assert (countries["meta"]["date_from"], countries["meta"]["date_to"]) == (
        "2024-03-01", "2024-03-31")

    without = (await client.get(url, headers=auth(project.keys.read))).json()
    assert without["widgets"][1]["data"]["meta"]["date_from"] == "2020-01-01"
    assert without["widgets"][1]["data"]["results"] == []


@pytest.mark.parametrize("params, parameter", [
    ({"date_from": "2024-03-01"}, "date_to"),
    ({"period": "fortnight"}, "period"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"filters": "planet==mars"}, "filters"),
    ({"limit": "5"}, "limit"),
])
async def test_bad_dashboard_parameter_is_400_naming_it(client, db, params, parameter):
    project = await make_project(db)
    created = await create_dashboard(client, project, [widget("pages")])
    response = await client.get(dashboard_url(project, created["id"]), params=params,
                                headers=auth(project.keys.read))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == parameter


async def test_dashboard_filter_a_widget_cannot_take_is_400(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [
        widget("pages"), widget("funnel", "Signup", step=["page:/", "event:signup"])])
    response = await client.get(dashboard_url(project, created["id"]),
                                params={"filters": "page==/"}, headers=auth(project.keys.read))
    assert response.status_code == 400
    problem = response.json()
    assert problem["parameter"] == "filters"
    assert created["widgets"][1]["id"] in problem["detail"]


@pytest.mark.parametrize("query, field", [
    ({"limit": 10}, "widgets.1.query.report"),
    ({"report": "nope"}, "widgets.1.query.report"),
    ({"report": "pages", "limit": 5000}, "widgets.1.query.limit"),
    ({"report": "pages", "colour": "red"}, "widgets.1.query.colour"),
    ({"report": "pages", "filters": "country=DE"}, "widgets.1.query.filters"),
    ({"report": "pages", "compare": "previous_period"}, "widgets.1.query.compare"),
    ({"report": "pages", "limit": [1]}, "widgets.1.query.limit"),
    ({"report": "timeseries", "metrics": ["visitors", "height"]}, "widgets.1.query.metrics"),
    ({"report": "funnel", "step": ["page:/"]}, "widgets.1.query.step"),
    ({"report": "referrers"}, "widgets.1.query.source"),
])
async def test_invalid_widget_query_is_400_naming_the_field(client, db, query, field):
    project = await make_project(db)
    response = await client.post(dashboard_url(project), headers=auth(project.keys.admin),
                                 json={"name": "Bad", "widgets": [widget("pages"),
                                                                  {"title": "x", "query": query}]})
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == field
    assert (await client.get(dashboard_url(project), headers=auth(project.keys.read))).json() == []


@pytest.mark.parametrize("body", [
    {"widgets": []},
    {"name": "", "widgets": []},
    {"name": "x", "widgets": [{"title": "no query"}]},
    {"name": "x", "widgets": [{"title": "t", "visualization": "pie", "query": {"report": "os"}}]},
])
async def test_invalid_body_is_422(client, db, body):
    project = await make_project(db)
    response = await client.post(dashboard_url(project), json=body, headers=auth(project.keys.admin))
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


async def test_widget_routes_add_update_delete_reorder(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [widget("pages"), widget("sources")])
    url = dashboard_url(project, created["id"])
    admin = auth(project.keys.admin)
    added = await client.post(url + "/widgets", json=widget("devices"), headers=admin)
    assert added.status_code == 201, added.text
    assert added.json()["position"] == 2
    device_id = added.json()["id"]

    bad = await client.patch(f"{url}/widgets/{device_id}", json={"query": {"report": "os",
                                                                         "limit": 0}},
                             headers=admin)
    assert bad.status_code == 400 and bad.json()["parameter"] == "query.limit"
    patched = await client.patch(f"{url}/widgets/{device_id}", headers=admin,
                                 json={"title": "Devices", "visualization": "bar"})
    assert patched.json() == {**added.json(), "title": "Devices", "visualization": "bar"}

    pages_id, sources_id = (w["id"] for w in created["widgets"])
    order = [device_id, pages_id, sources_id]
    reordered = await client.put(url + "/widgets/order", json={"widget_ids": order},
                                 headers=admin)
    assert reordered.status_code == 200, reordered.text
    assert [w["id"] for w in reordered.json()["widgets"]] == order
    again = await client.post(url + "/widgets/order", json={"widget_ids": order[::-1]},
                              headers=admin)
    assert [w["id"] for w in again.json()["widgets"]] == order[::-1]
    partial = await client.put(url + "/widgets/order", json={"widget_ids": order[:2]},
                               headers=admin)
    assert partial.status_code == 400 and partial.json()["parameter"] == "widget_ids"

    assert (await client.delete(f"{url}/widgets/{sources_id}", headers=admin)).status_code == 204
    assert (await client.delete(f"{url}/widgets/{sources_id}", headers=admin)).status_code == 404
    listed = (await client.get(dashboard_url(project), headers=auth(project.keys.read))).json()
    assert [(w["id"], w["position"]) for w in listed[0]["widgets"]] == [(pages_id, 0),
                                                                         (device_id, 1)]
    assert (await client.patch(f"{url}/widgets/w_missing", json={"title": "x"},
                               headers=admin)).status_code == 404


async def test_patch_with_foreign_widget_id_is_400(client, db):
    project = await make_project(db)
    first = await create_dashboard(client, project, [widget("pages")])
    second = await create_dashboard(client, project, [widget("os")], name="Second")
    foreign = {**widget("pages"), "id": first["widgets"][0]["id"]}
    response = await client.patch(dashboard_url(project, second["id"]), json={"widgets": [foreign]},
                                  headers=auth(project.keys.admin))
    assert response.status_code == 400 and response.json()["parameter"] == "widgets.0.id"


async def test_keys_scopes_and_tenancy(client, db):
    project, other = await make_project(db), await make_project(db, name="Other")
    created = await create_dashboard(client, project, [widget("pages")])
    url = dashboard_url(project, created["id"])
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=auth("sl_read_nonsense"))).status_code == 401
    assert (await client.get(url, headers=auth(project.keys.ingest))).status_code == 403
    assert (await client.patch(url, json={"name": "x"},
                               headers=auth(project.keys.read))).status_code == 403
    assert (await client.delete(url, headers=auth(project.keys.read))).status_code == 403
    assert (await client.post(dashboard_url(project), json={"name": "x"},
                              headers=auth(project.keys.read))).status_code == 403
    # another tenant's project and dashboard look missing
    assert (await client.get(url, headers=auth(other.keys.admin))).status_code == 404
    assert (await client.delete(url, headers=auth(other.keys.admin))).status_code == 404
    foreign = f"{dashboard_url(other)}/{created['id']}"
    response = await client.get(foreign, headers=auth(other.keys.admin))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.delete(foreign, headers=auth(other.keys.admin))).status_code == 404
    assert (await client.get(url, headers=auth(project.keys.read))).status_code == 200


async def test_dashboard_response_is_cached_and_reflects_new_events(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    created = await create_dashboard(client, project, [widget("overview"), widget("pages")])
    url, read = dashboard_url(project, created["id"]), auth(project.keys.read)
    first = await client.get(url, params=MARCH, headers=read)
    assert first.headers["x-cache"] == "MISS"
    second = await client.get(url, params=MARCH, headers=read)
    assert second.headers["x-cache"] == "HIT"
    assert second.json()["widgets"] == first.json()["widgets"]
    etag = second.headers["etag"]
    assert (await client.get(url, params=MARCH, headers={**read, "If-None-Match": etag})
            ).status_code == 304
    bypass = await client.get(url, params=MARCH, headers={**read, "Cache-Control": "no-cache"})
    assert bypass.headers["x-cache"] == "BYPASS"

    await send_events(client, project, [make_event(visitor_id="d", path="/new",
                                                   timestamp="2024-03-20T10:00:00+00:00")])
    fresh = await client.get(url, params=MARCH, headers=read)
    assert fresh.headers["x-cache"] == "MISS"
    assert fresh.json()["widgets"][0]["data"]["results"]["visitors"]["value"] == 4

    await client.patch(url, json={"name": "Renamed"}, headers=auth(project.keys.admin))
    renamed = await client.get(url, params=MARCH, headers=read)
    assert renamed.headers["x-cache"] == "MISS" and renamed.json()["name"] == "Renamed"
