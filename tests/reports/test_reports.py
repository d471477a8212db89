"""Reports are computed by a worker from the durable queue, over the stats service."""

from sightline.worker.loop import TASKS
from sightline.worker.queue import run_one
from tests.factories import auth, make_event, make_project, send_events


async def test_report_is_queued_then_computed_by_a_worker(client, db, app):
    project = await make_project(db)
    await send_events(client, project, [make_event(visitor_id="a"), make_event(visitor_id="b")])
    body = {"query": {"report": "pages", "date_from": "2024-03-10", "date_to": "2024-03-10"}}
    response = await client.post(f"/api/v1/projects/{project.id}/reports", json=body,
                                 headers=auth(project.keys.read))
    assert response.status_code == 202
    report_id = response.json()["id"]
    assert response.json()["status"] == "queued"

    while await run_one(app.state.engine, app.state.sessionmaker, TASKS):
        pass

    response = await client.get(f"/api/v1/projects/{project.id}/reports/{report_id}",
                                headers=auth(project.keys.read))
    assert response.json()["status"] == "done"
    assert response.json()["result"]["results"] == [{"page": "/", "visitors": 2, "pageviews": 2}]


async def test_invalid_report_query_is_400_before_queueing(client, db):
    project = await make_project(db)
    body = {"query": {"report": "pages", "limit": 5000}}
    response = await client.post(f"/api/v1/projects/{project.id}/reports", json=body,
                                 headers=auth(project.keys.read))
    assert response.status_code == 400
    assert response.json()["parameter"] == "limit"


async def test_another_projects_report_is_not_found(client, db):
    mine, theirs = await make_project(db), await make_project(db)
    body = {"query": {"report": "overview"}}
    response = await client.post(f"/api/v1/projects/{theirs.id}/reports", json=body,
                                 headers=auth(theirs.keys.read))
    report_id = response.json()["id"]
    response = await client.get(f"/api/v1/projects/{mine.id}/reports/{report_id}",
                                headers=auth(mine.keys.read))
    assert response.status_code == 404
