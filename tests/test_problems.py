"""Faults become problem+json on a connection that stays open: a database that cannot answer in
time is a 503 with Retry-After (statement time limit, database down), a bug a 500, and neither
resets the client's keep-alive connection. Real `sightline serve` processes; the stopped
PostgreSQL is one the test starts itself."""

import asyncio
import http.client
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from sightline.app import create_app
from sightline.cli import in_session
from sightline.migrate import upgrade_to_head
from sightline.projects.service import create_project
from tests import services
from tests.factories import auth, make_project, send_events


class KeepAlive:
    """One HTTP/1.1 connection; fails the test if the server ever closes it."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.connect()
        self.sock = self.conn.sock

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], dict]:
        self.conn.request("GET", path, headers=headers)
        response = self.conn.getresponse()
        body = json.loads(response.read() or b"{}")
        assert self.conn.sock is self.sock, "the server closed the keep-alive connection"
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def assert_unavailable(status: int, headers: dict[str, str], body: dict) -> None:
    assert status == 503, body
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["retry-after"]) >= 1
    assert body["type"] == "/problems/unavailable"
    assert "SQL" not in body["detail"]


def assert_quiet(log: Path) -> None:
    text = log.read_text()
    assert "Traceback" not in text and "Exception in ASGI application" not in text, text


async def test_a_bug_is_a_500_problem_and_never_escapes_to_the_server(settings):
    app = create_app(settings)
    router = APIRouter()

    @router.get("/test-bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    app.include_router(router)
    async with app.router.lifespan_context(app):
        # raise_app_exceptions: an exception reaching the server would fail here
        transport = ASGITransport(app=app, raise_app_exceptions=True)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/test-bug")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "An unexpected error occurred"


async def test_statement_timeout_is_a_503_on_the_same_connection(database_url, redis_url,
                                                                 client, db):
    project = await make_project(db)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    events = [{"name": "pageview" if i % 3 else "signup", "visitor_id": f"v{i % 700}",
               "path": f"/p/{i % 50}", "timestamp": (start + timedelta(minutes=i)).isoformat()}
              for i in range(6000)]
    await send_events(client, project, events)
    with services.served(database_url, redis_url, database__statement_timeout_ms="1") as server:
        http_ = KeepAlive(server.port)
        headers = {**auth(project.keys.read), "Cache-Control": "no-cache"}
        statuses = []
        for report in ("funnel?step=page:/p/1&step=event:signup", "retention", "pages",
                       "overview", "active-users") * 2:
            sep = "&" if "?" in report else "?"
            status, response_headers, body = http_.get(
                f"/api/v1/projects/{project.id}/stats/{report}{sep}date_from=2024-03-01"
                "&date_to=2024-03-31", headers)
            statuses.append(status)
            if status != 200:
                assert_unavailable(status, response_headers, body)
        assert 503 in statuses, statuses
        status, _, _ = http_.get("/healthz", {})
        assert status == 200
        assert_quiet(server.log_path)


@pytest.fixture
def own_postgres():
    data_dir = Path(tempfile.mkdtemp(prefix="sightline-pg-"))
    postgres = services.EmbeddedPostgres(data_dir)
    yield postgres
    postgres.close()


async def test_database_down_is_a_503_and_recovers(own_postgres, redis_url, settings):
    url = own_postgres.url()
    await asyncio.to_thread(upgrade_to_head, url)
    project = await in_session(url, settings, lambda db: create_project(db, "Down", "UTC"))
    with services.served(url, redis_url) as server:
        http_ = KeepAlive(server.port)
        headers = {**auth(project.keys.read), "Cache-Control": "no-cache"}
        path = f"/api/v1/projects/{project.id}/stats/overview?period=7d"
        assert http_.get(path, headers)[0] == 200
        own_postgres.stop()
        for _ in range(3):
            assert_unavailable(*http_.get(path, headers))
        own_postgres.start()
        statuses = [http_.get(path, headers)[0] for _ in range(3)]
        assert statuses[-1] == 200, statuses
        assert set(statuses) <= {200, 503}
        assert_quiet(server.log_path)
