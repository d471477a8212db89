"""Measure a 12-widget dashboard against the same 12 queries as separate REST calls.

    python -m tests.dashboards.measure_dashboard [--events N]

Uses its own database (sightline_measure_dashboards, recreated), the local Redis, the app in
process (httpx ASGITransport, so no network): cold = computed now (Cache-Control: no-cache),
warm = served from the cache. Prints medians and SQL statement counts.
"""

import argparse
import asyncio
import statistics
import time
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import make_url

from sightline.app import create_app
from sightline.db import make_sessionmaker
from sightline.migrate import upgrade_to_head
from sightline.projects.service import create_project
from sightline.seed.service import seed_project
from sightline.settings import Settings
from tests import services
from tests.conftest import recreate_database
from tests.dashboards.statements import count_statements
from tests.factories import auth

WIDGETS = [
    {"report": "overview"}, {"report": "timeseries", "metrics": "visitors,pageviews"},
    {"report": "pages", "limit": 10}, {"report": "entry-pages", "limit": 10},
    {"report": "exit-pages", "limit": 10}, {"report": "sources", "limit": 10},
    {"report": "countries", "limit": 10}, {"report": "devices"}, {"report": "browsers"},
    {"report": "os"}, {"report": "events", "limit": 10},
    {"report": "funnel", "step": ["page:/", "page:/pricing"]},
]
FRESH = {"Cache-Control": "no-cache"}


async def timed(call: Any, app: Any, runs: int) -> tuple[float, int]:
    """Median milliseconds of `runs` calls, and the statements of the last one."""
    times = []
    for _ in range(runs):
        with count_statements(app) as seen:
            started = time.perf_counter()
            await call()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), seen.count


async def check_same_results(client: AsyncClient, base: str, dashboard: str,
                             read: dict[str, str], params: dict[str, str]) -> None:
    """Print which widgets' data differ from the same query through POST .../query."""
    body = (await client.get(dashboard, params=params, headers={**read, **FRESH})).json()
    differ = []
    for query, shown in zip(WIDGETS, body["widgets"], strict=True):
        rest = await client.post(f"{base}/query", json={**query, **params},
                                 headers={**read, **FRESH})
        if rest.json()["results"] != shown["data"]["results"]:
            differ.append(query["report"])
    print(f"widgets whose data differs from REST: {differ or 'none'}")


async def main(events: int, runs: int) -> None:
    admin_url = services.admin_database_url()
    await recreate_database(admin_url, "sightline_measure_dashboards")
    url = make_url(admin_url).set(database="sightline_measure_dashboards").render_as_string(
        hide_password=False)
    await asyncio.to_thread(upgrade_to_head, url)
    redis_url, _ = services.redis_url()
    app = create_app(Settings(environment="test", database_url=url, redis_url=redis_url))
    async with app.router.lifespan_context(app):
        async with make_sessionmaker(app.state.engine)() as db:
            project = await create_project(db, "Measure")
            seeded = await seed_project(db, project.id, events, 30, 1)
            await db.commit()
        print(f"seeded: {seeded}")
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://m") as client:
            base = f"/api/v1/projects/{project.id}"
            created = await client.post(f"{base}/dashboards", headers=auth(project.keys.admin),
                                        json={"name": "Twelve", "widgets": [
                                            {"title": w["report"], "query": w} for w in WIDGETS]})
            dashboard = f"{base}/dashboards/{created.json()['id']}"
            read = auth(project.keys.read)
            params = {"period": "30d"}

            async def load_dashboard(headers: dict[str, str]) -> None:
                response = await client.get(dashboard, params=params, headers={**read, **headers})
                assert response.status_code == 200, response.text

            async def rest_call(query: dict[str, Any], headers: dict[str, str]) -> None:
                response = await client.post(f"{base}/query", json={**query, **params},
                                             headers={**read, **headers})
                assert response.status_code == 200, response.text

            async def rest_sequential(headers: dict[str, str]) -> None:
                for query in WIDGETS:
                    await rest_call(query, headers)

            async def rest_concurrent(headers: dict[str, str]) -> None:
                await asyncio.gather(*(rest_call(query, headers) for query in WIDGETS))

            await load_dashboard({})  # key and project lookups cached, as in steady state
            rows = [
                ("dashboard, cold (computed)", lambda: load_dashboard(FRESH)),
                ("dashboard, warm (cache HIT)", lambda: load_dashboard({})),
                ("12 REST calls in sequence, cold", lambda: rest_sequential(FRESH)),
                ("12 REST calls in sequence, warm", lambda: rest_sequential({})),
                ("12 REST calls concurrently, cold", lambda: rest_concurrent(FRESH)),
                ("12 REST calls concurrently, warm", lambda: rest_concurrent({})),
            ]
            await rest_sequential({})
            await check_same_results(client, base, dashboard, read, params)
            print(f"| case ({events} events, 30d, median of {runs}) | ms | SQL statements |")
            print("|---|---:|---:|")
            for label, call in rows:
                ms, statements = await timed(call, app, runs)
                print(f"| {label} | {ms:.1f} | {statements} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.runs))
