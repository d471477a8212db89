"""Helpers shared by the stats tests: a project with its events, the stats call, the comparison."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sightline.projects.schemas import ProjectCreated
from tests.factories import auth, make_project
from tests.stats import reference

Params = list[tuple[str, str]]


@dataclass
class Site:
    """A project plus everything sent to it, in the order it was sent."""

    client: AsyncClient
    project: ProjectCreated
    sent: list[dict[str, Any]] = field(default_factory=list)
    goals: list[dict[str, str]] = field(default_factory=list)

    async def send(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        response = await self.client.post("/api/v1/events", json=events,
                                          headers=auth(self.project.keys.ingest))
        assert response.status_code == 202, response.text
        self.sent += events
        return response.json()  # type: ignore[no-any-return]

    async def send_raw(self, body: bytes, events: list[dict[str, Any]]) -> None:
        """Post a body as literal JSON text (e.g. 2.50); `events` is its parsed form."""
        response = await self.client.post(
            "/api/v1/events", content=body,
            headers={**auth(self.project.keys.ingest), "content-type": "application/json"})
        assert response.status_code == 202, response.text
        self.sent += events

    async def add_goal(self, **goal: str) -> None:
        response = await self.client.post(f"/api/v1/projects/{self.project.id}/goals", json=goal,
                                          headers=auth(self.project.keys.admin))
        assert response.status_code == 201, response.text
        self.goals.append(goal)

    async def get(self, endpoint: str, params: Params | dict[str, Any],
                  key: str | None = None, headers: dict[str, str] | None = None) -> Response:
        return await self.client.get(
            f"/api/v1/projects/{self.project.id}/stats/{endpoint}", params=params,
            headers={**auth(key or self.project.keys.read), **(headers or {})})

    async def results(self, endpoint: str, params: Params | dict[str, Any]) -> Any:
        return (await self.body(endpoint, params))["results"]

    async def body(self, endpoint: str, params: Params | dict[str, Any]) -> dict[str, Any]:
        response = await self.get(endpoint, params)
        assert response.status_code == 200, (endpoint, params, response.text)
        body = response.json()
        assert set(body) >= {"results", "meta"}, body
        return body  # type: ignore[no-any-return]

    async def check(self, endpoint: str, params: Params | dict[str, Any],
                    now: datetime | None = None, context: Any = None) -> None:
        """The API's results are the reference's; meta echoes the resolved dates and zone."""
        now = now or datetime.now(UTC)
        body = await self.body(endpoint, params)
        same(body["results"], self.reference(endpoint, params, now), context or (endpoint, params))
        if endpoint != "realtime":
            data = reference.load([], self.project.timezone)
            query = reference.make_query(params, data, now)
            meta = body["meta"]
            same([meta.get("date_from"), meta.get("date_to"), meta.get("tz")],
                 [query.date_from.isoformat(), query.date_to.isoformat(), query.zone.key],
                 ("meta", endpoint, params))

    def reference(self, endpoint: str, params: Params | dict[str, Any],
                  now: datetime | None = None) -> Any:
        data = reference.load(self.sent, self.project.timezone, self.goals)
        return reference.answer(endpoint, params, data, now or datetime.now(UTC))


async def new_site(client: AsyncClient, db: AsyncSession, timezone: str = "UTC") -> Site:
    return Site(client, await make_project(db, timezone=timezone))


def same(got: Any, expected: Any, context: Any = None) -> None:
    """Equal as JSON values (1 == 1.0); the message shows both sides in full."""
    assert got == expected, (
        f"\n{context}\nAPI:\n{reference.dumps(got)}\nexpected:\n{reference.dumps(expected)}")
