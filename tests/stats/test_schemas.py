"""The bytes every report sends (written with orjson) validate against its response model, on
both table families."""

from datetime import UTC, datetime, timedelta

import pytest

from sightline.projects.schemas import GoalCreate
from sightline.projects.service import create_goal
from sightline.stats.reports import ENTRIES, Report
from tests.factories import auth, make_project, send_events

TODAY = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)  # any hour
PARAMS: dict[str, list[tuple[str, str]]] = {
    "overview": [("compare", "previous_period")],
    "timeseries": [("metrics", "visitors,bounce_rate,visit_duration,revenue")],
    "referrers": [("source", "source-0")],
    "breakdown": [("dimension", "country"), ("metrics", "visitors,bounce_rate,conversion_rate")],
    "funnel": [("step", "page:/"), ("step", "event:buy")],
}


def traffic() -> list[dict]:
    events = []
    for i in range(6):
        at = TODAY - timedelta(days=i, minutes=i)
        events += [
            {"name": "pageview", "visitor_id": f"v{i % 3}", "path": "/", "country": "DE",
             "timestamp": at.isoformat(), "referrer": "https://google.com/a",
             "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
             **{f"utm_{p}": f"{p}-{i % 2}" for p in ("source", "medium", "campaign",
                                                        "content", "term")}},
            {"name": "buy", "visitor_id": f"v{i % 3}", "revenue": "5.5",
             "properties": {"plan": "pro"}, "timestamp": (at + timedelta(minutes=1)).isoformat()},
            {"name": "web_vitals", "visitor_id": f"v{i % 3}", "path": "/",
             "properties": {"lcp": 900 + i, "cls": 0.01},
             "timestamp": (at + timedelta(minutes=2)).isoformat()},
        ]
    return events


def url(project_id: str, entry: Report) -> str:
    path = entry.path.replace("{param}", entry.name.removeprefix("utm/")).replace(
        "{prop_key}", "plan")
    return f"/api/v1/projects/{project_id}/stats/{path}"


@pytest.mark.parametrize("filtered", [False, True], ids=["rollups", "base"])
async def test_every_report_validates_against_its_model(client, db, filtered):
    project = await make_project(db)
    await create_goal(db, project.id, GoalCreate(name="Buy", event="buy"))
    await db.commit()
    await send_events(client, project, traffic())
    for entry in ENTRIES:
        params = [("period", "7d"), *PARAMS.get(entry.name, [])]
        if filtered:
            params.append(("filters", "country==DE"))
        response = await client.get(url(project.id, entry), params=params,
                                    headers=auth(project.keys.read))
        assert response.status_code == 200, (entry.name, response.text)
        parsed = entry.response.model_validate_json(response.content)
        assert parsed.meta.report == entry.name  # type: ignore[attr-defined]
        if entry.kind == "list":
            assert parsed.results, entry.name  # type: ignore[attr-defined]
