"""Small async factories with valid defaults and keyword overrides."""

from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from sightline.projects.schemas import ProjectCreated
from sightline.projects.service import create_project


async def make_project(db: AsyncSession, name: str = "Test", timezone: str = "UTC") -> ProjectCreated:
    created = await create_project(db, name, timezone)
    await db.commit()
    return created


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "name": "pageview", "visitor_id": "v1", "path": "/",
        "timestamp": datetime(2024, 3, 10, 12, 0, tzinfo=UTC).isoformat(),
    }
    event.update(overrides)
    return event


def at(base: datetime, minutes: float) -> str:
    return (base + timedelta(minutes=minutes)).isoformat()


async def send_events(client: AsyncClient, project: ProjectCreated, events: list[dict[str, Any]],
                      expect: int = 202) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json=events, headers=auth(project.keys.ingest))
    assert response.status_code == expect, response.text
    return response.json()  # type: ignore[no-any-return]
