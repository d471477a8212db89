"""The real stats routes through the cache: HIT without any database statement, read-your-writes
after ingest, ranges the new events do not touch stay cached."""

from httpx import ASGITransport, AsyncClient

from tests.factories import auth, make_event, make_project, send_events

MARCH = {"date_from": "2024-03-01", "date_to": "2024-03-31"}
FEBRUARY = {"date_from": "2024-02-01", "date_to": "2024-02-29"}


async def test_pages_hit_costs_no_database_query_and_sees_new_events(capp, db):
    project = await make_project(db)
    url = f"/api/v1/projects/{project.id}/stats/pages"
    headers = auth(project.keys.read)
    async with AsyncClient(transport=ASGITransport(app=capp), base_url="http://test") as http:
        await send_events(http, project, [make_event(path="/a")])
        first = await http.get(url, params=MARCH, headers=headers)
        assert first.status_code == 200, first.text
        assert first.headers["x-cache"] == "MISS"
        assert [row["page"] for row in first.json()["results"]] == ["/a"]
        assert (await http.get(url, params=FEBRUARY, headers=headers)).headers["x-cache"] == "MISS"

        engine = capp.state.engine.sync_engine
        statements: list[str] = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", seen)
        try:
            hit = await http.get(url, params=MARCH, headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert hit.headers["x-cache"] == "HIT" and hit.content == first.content
        assert statements == []

        await send_events(http, project, [make_event(path="/b", visitor_id="v2")])
        fresh = await http.get(url, params=MARCH, headers=headers)
        assert fresh.headers["x-cache"] == "MISS"
        assert sorted(row["page"] for row in fresh.json()["results"]) == ["/a", "/b"]
        assert (await http.get(url, params=FEBRUARY, headers=headers)).headers["x-cache"] == "HIT"

        metrics = (await http.get("/metrics")).text
        assert 'route="/api/v1/projects/{project_id}/stats/pages"' in metrics
        assert 'sightline_cache_results_total{kind="stats.pages",result="hit"}' in metrics
