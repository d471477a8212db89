"""Small async factories with valid defaults and keyword overrides."""

import asyncio
import random
import statistics
import time
from collections.abc import Coroutine
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


NO_CACHE = {"Cache-Control": "no-cache"}


async def timed_get(client: AsyncClient, url: str, params: dict[str, str],
                    headers: dict[str, str] | None = None) -> float:
    """Seconds one uncached GET takes; it must answer 200."""
    started = time.perf_counter()
    response = await client.get(url, params=params, headers=NO_CACHE | (headers or {}))
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


async def burst_status(client: AsyncClient, url: str, params: dict[str, str],
                       headers: dict[str, str] | None = None) -> int:
    """The status of one uncached GET of a burst: 200, or a clear 'retry later' (429 or 503
    with Retry-After) for the burst's own requests."""
    response = await client.get(url, params=params, headers=NO_CACHE | (headers or {}))
    if response.status_code != 200:
        assert response.status_code in (429, 503), response.text
        assert response.headers["retry-after"]
    return response.status_code


async def latencies_beside(client: AsyncClient, url: str, params: dict[str, str],
                           headers: dict[str, str],
                           burst: list[Coroutine[Any, Any, int]]) -> tuple[float, list[float]]:
    """An uncached GET's median latency alone, then its latencies (up to 10) while `burst` runs
    (started only then); at least one of the burst's requests must have answered 200."""
    await timed_get(client, url, params, headers)
    alone = statistics.median([await timed_get(client, url, params, headers) for _ in range(5)])
    tasks = [asyncio.create_task(request) for request in burst]
    await asyncio.sleep(0.05)  # the burst has started
    during: list[float] = []
    while not all(task.done() for task in tasks) and len(during) < 10:
        during.append(await timed_get(client, url, params, headers))
    assert 200 in await asyncio.gather(*tasks)
    return alone, during


async def send_month(client: AsyncClient, project: ProjectCreated, seed: int, end: datetime,
                     events: int, pages: int) -> None:
    """`events` page views of 400 visitors over `pages` paths in the 30 days before `end`."""
    rng = random.Random(seed)
    await send_events(client, project, [
        make_event(visitor_id=f"v{rng.randrange(400)}", path=f"/p{rng.randrange(pages)}",
                   country=rng.choice(["DE", "FR", "US"]), referrer=rng.choice(
                       [None, "https://google.com/", "https://news.ycombinator.com/"]),
                   timestamp=(end - timedelta(minutes=rng.randrange(30 * 24 * 60))).isoformat())
        for _ in range(events)])
