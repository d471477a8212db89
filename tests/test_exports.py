"""CSV exports: RFC 4180, a header row, the same rows as the JSON `results`, never mixed up with
JSON in the cache."""

import csv
import io

import pytest
from httpx import ASGITransport, AsyncClient

from sightline.app import create_app

from sightline.exports import body_rows, result_rows, write_csv
from tests.dashboards.helpers import MARCH, create_dashboard, dashboard_url, send_traffic, widget
from tests.factories import auth, make_project

CSV_ACCEPT = {"Accept": "text/csv"}


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_row_shapes_of_lists_objects_and_nested_values():
    assert result_rows([{"page": "/", "visitors": 2}]) == [{"page": "/", "visitors": 2}]
    overview = {"visitors": {"value": 5, "previous": 0, "change": None}}
    assert result_rows(overview) == [{"metric": "visitors", "value": 5, "previous": 0,
                                      "change": None}]
    active = {"days": [{"date": "2024-03-01", "dau": 1}], "stickiness": 50.0}
    assert result_rows(active) == [{"date": "2024-03-01", "dau": 1, "stickiness": 50.0}]
    realtime = {"visitors": 3, "pages": [{"page": "/", "visitors": 2}]}
    assert result_rows(realtime) == [{"page": "/", "visitors": 2, "total_visitors": 3}]
    assert result_rows({"revenue": 12.5, "orders": 1}) == [{"revenue": 12.5, "orders": 1}]
    cohort = [{"cohort": "2024-03-04", "size": 2, "retention": [2, 1]}]
    assert result_rows(cohort) == [{"cohort": "2024-03-04", "size": 2, "retention.0": 2,
                                    "retention.1": 1}]
    dashboard = {"widgets": [{"id": "w_1", "title": "Pages", "data": {"results": [{"page": "/"}]}},
                             {"id": "w_2", "title": "Rev", "data": {"results": {"orders": 1}}}]}
    assert body_rows(dashboard) == [{"widget": "w_1", "widget_title": "Pages", "page": "/"},
                                    {"widget": "w_2", "widget_title": "Rev", "orders": 1}]


def test_rfc_4180_quoting_line_ends_and_empty_cells():
    text = write_csv([{"page": '/a,"b"', "n": 1, "x": None},
                      {"page": "/line\nbreak", "n": 2, "flag": True}]).decode()
    assert text == ('page,n,x,flag\r\n"/a,""b""",1,,\r\n"/line\nbreak",2,,true\r\n')
    assert write_csv([]) == b"\r\n"


async def test_every_stats_report_answers_csv_with_the_json_rows(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    url = f"/api/v1/projects/{project.id}/stats"
    read = auth(project.keys.read)
    for report in ("pages", "countries", "timeseries", "overview", "revenue", "active-users",
                   "retention", "realtime"):
        params = {} if report == "realtime" else MARCH
        as_json = await client.get(f"{url}/{report}", params=params, headers=read)
        as_csv = await client.get(f"{url}/{report}", params=params,
                                  headers={**read, **CSV_ACCEPT})
        assert as_csv.status_code == 200, (report, as_csv.text)
        assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert as_csv.headers["vary"] == "Accept"
        assert as_csv.text.endswith("\r\n")
        expected = [{k: "" if v is None else str(v) for k, v in row.items()}
                    for row in result_rows(as_json.json()["results"])]
        assert parse(as_csv.text) == expected, report
        assert as_csv.headers["etag"] != as_json.headers["etag"]

    pages = parse((await client.get(f"{url}/pages", params={**MARCH, "format": "csv"},
                                    headers=read)).text)
    assert pages == [{"page": "/", "visitors": "2", "pageviews": "2"},
                     {"page": "/pricing", "visitors": "2", "pageviews": "2"}]
    overview = parse((await client.get(f"{url}/overview", params={**MARCH, "format": "csv"},
                                       headers=read)).text)
    assert {"metric": "visitors", "value": "3"}.items() <= overview[0].items()
    bad = await client.get(f"{url}/pages", params={**MARCH, "format": "xml"}, headers=read)
    assert bad.status_code == 400 and bad.json()["parameter"] == "format"


@pytest.fixture
async def memory_client(settings):
    """The app on the in-process cache: a HIT here does not depend on a busy Redis's timing."""
    app = create_app(settings.model_copy(update={"redis_url": None}))
    async with app.router.lifespan_context(app):
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            yield http


async def test_json_and_csv_share_one_cache_entry_without_mixing(memory_client, db):
    client = memory_client
    project = await make_project(db)
    await send_traffic(client, project)
    url = f"/api/v1/projects/{project.id}/stats/sources"
    read = auth(project.keys.read)
    first_csv = await client.get(url, params=MARCH, headers={**read, **CSV_ACCEPT})
    then_json = await client.get(url, params=MARCH, headers=read)
    then_csv = await client.get(url, params=MARCH, headers={**read, **CSV_ACCEPT})
    assert first_csv.headers["x-cache"] == "MISS"
    assert then_json.headers["x-cache"] == then_csv.headers["x-cache"] == "HIT"
    assert then_json.headers["content-type"] == "application/json"
    assert then_json.json()["results"][0]["source"] == "Direct / None"
    assert then_csv.text == first_csv.text
    not_modified = await client.get(url, params=MARCH, headers={
        **read, **CSV_ACCEPT, "If-None-Match": then_csv.headers["etag"]})
    assert not_modified.status_code == 304
    json_tag_for_csv = await client.get(url, params=MARCH, headers={
        **read, **CSV_ACCEPT, "If-None-Match": then_json.headers["etag"]})
    assert json_tag_for_csv.status_code == 200


async def test_widgets_dashboards_and_queries_answer_csv(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    created = await create_dashboard(client, project, [widget("countries"), widget("revenue")])
    read = auth(project.keys.read)
    one = dashboard_url(project, created["id"])
    country = created["widgets"][0]["id"]
    as_json = await client.get(f"{one}/widgets/{country}", params=MARCH, headers=read)
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["data"]["results"][0] == {"country": "DE", "visitors": 2, "visits": 2}
    rows = parse((await client.get(f"{one}/widgets/{country}", params={**MARCH, "format": "csv"},
                                   headers=read)).text)
    assert rows == [{"country": "DE", "visitors": "2", "visits": "2"},
                    {"country": "FR", "visitors": "1", "visits": "1"}]
    whole = parse((await client.get(one, params=MARCH, headers={**read, **CSV_ACCEPT})).text)
    assert [(r["widget_title"], r["country"]) for r in whole] == \
        [("countries", "DE"), ("countries", "FR"), ("revenue", "")]
    assert (await client.get(f"{one}/widgets/w_nope", headers=read)).status_code == 404
    query = await client.post(f"/api/v1/projects/{project.id}/query", params={"format": "csv"},
                              json={"report": "pages", **MARCH}, headers=read)
    assert parse(query.text)[0] == {"page": "/", "visitors": "2", "pageviews": "2"}
