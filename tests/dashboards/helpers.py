"""Shared data and calls for the dashboard tests."""

from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient

from sightline.projects.schemas import ProjectCreated
from tests.factories import at, auth, make_event, send_events

BASE = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
MARCH = {"date_from": "2024-03-01", "date_to": "2024-03-31"}


async def send_traffic(client: AsyncClient, project: ProjectCreated) -> None:
    """Three visitors in March 2024: two from Germany, one from France."""
    await send_events(client, project, [
        make_event(visitor_id="a", path="/", country="DE", timestamp=at(BASE, 0)),
        make_event(visitor_id="a", path="/pricing", country="DE", timestamp=at(BASE, 1)),
        make_event(visitor_id="b", path="/", country="DE", timestamp=at(BASE, 60)),
        make_event(visitor_id="c", path="/pricing", country="FR", timestamp=at(BASE, 120)),
        make_event(visitor_id="c", name="signup", path="/pricing", country="FR",
                   timestamp=at(BASE, 121)),
    ])


def widget(report: str, title: str | None = None, **params: Any) -> dict[str, Any]:
    return {"title": title or report, "query": {"report": report, **params}}


async def create_dashboard(client: AsyncClient, project: ProjectCreated,
                           widgets: list[dict[str, Any]], name: str = "Main") -> dict[str, Any]:
    response = await client.post(f"/api/v1/projects/{project.id}/dashboards",
                                 json={"name": name, "widgets": widgets},
                                 headers=auth(project.keys.admin))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def dashboard_url(project: ProjectCreated, dashboard_id: str = "") -> str:
    return f"/api/v1/projects/{project.id}/dashboards" + (f"/{dashboard_id}" if dashboard_id else "")
