"""GET .../stats/vitals?metric=lcp|inp|cls|ttfb: p50, p75, p95 per page from web_vitals events."""

from tests.factories import auth, make_event, make_project, send_events

DAY = "date_from=2024-03-10&date_to=2024-03-10"


def vitals(visitor: str, path: str, **values: float | str) -> dict:
    return make_event(name="web_vitals", visitor_id=visitor, path=path, properties=values)


async def get_vitals(client, project, params: str, expect: int = 200):
    response = await client.get(f"/api/v1/projects/{project.id}/stats/vitals?{DAY}&{params}",
                                headers=auth(project.keys.read))
    assert response.status_code == expect, response.text
    return response.json()


async def test_percentiles_per_page(client, db):
    project = await make_project(db)
    lcps = [400, 100, 300, 200]
    events = [vitals(f"v{i}", "/", lcp=v, cls=v / 4000, ttfb=v / 10) for i, v in enumerate(lcps)]
    events += [vitals("w1", "/pricing", lcp=1234.5), vitals("w2", "/pricing", ttfb=12),
               vitals("w3", "/pricing", lcp="slow"),  # not a number: ignored
               make_event(visitor_id="w4", path="/pricing", properties={"lcp": 9999})]
    await send_events(client, project, events)

    body = await get_vitals(client, project, "metric=lcp")
    assert body["results"] == [
        {"page": "/", "samples": 4, "p50": 200, "p75": 300, "p95": 400},
        {"page": "/pricing", "samples": 1, "p50": 1235, "p75": 1235, "p95": 1235},
    ]
    assert body["meta"]["vital"] == "lcp"
    cls = (await get_vitals(client, project, "metric=cls"))["results"]
    assert cls == [{"page": "/", "samples": 4, "p50": 0.05, "p75": 0.075, "p95": 0.1}]
    ttfb = (await get_vitals(client, project, "metric=ttfb&filters=page==/pricing"))["results"]
    assert ttfb == [{"page": "/pricing", "samples": 1, "p50": 12, "p75": 12, "p95": 12}]
    assert (await get_vitals(client, project, ""))["results"][0]["p50"] == 200  # lcp by default


async def test_an_unknown_metric_is_a_400(client, db):
    project = await make_project(db)
    problem = (await get_vitals(client, project, "metric=fid", expect=400))
    assert problem["parameter"] == "metric"
    assert problem["allowed"] == ["lcp", "inp", "cls", "ttfb"]
