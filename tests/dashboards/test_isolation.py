"""One project's burst of uncached share-link loads cannot take the pool from another project."""

import asyncio
import random
import statistics
from datetime import timedelta

import pytest

from tests.dashboards.helpers import BASE, create_dashboard, dashboard_url, widget
from tests.factories import (
    auth, burst_status, make_event, make_project, send_events, timed_get,
)

RANGE = {"date_from": "2024-02-10", "date_to": "2024-03-10"}
WIDGETS = [widget("overview"), widget("pages"), widget("sources"), widget("countries"),
           widget("timeseries"), widget("devices")]

# a latency comparison: make test runs it after the parallel suite, on a quiet machine
pytestmark = pytest.mark.isolation


async def send_month(client, project, seed: int) -> None:
    rng = random.Random(seed)
    await send_events(client, project, [
        make_event(visitor_id=f"v{rng.randrange(400)}", path=f"/p{rng.randrange(40)}",
                   country=rng.choice(["DE", "FR", "US"]), referrer=rng.choice(
                       [None, "https://google.com/", "https://news.ycombinator.com/"]),
                   timestamp=(BASE - timedelta(minutes=rng.randrange(30 * 24 * 60))).isoformat())
        for _ in range(3000)])


async def test_fifty_uncached_share_loads_leave_other_projects_their_latency(client, db, app):
    busy, quiet = await make_project(db, "Busy"), await make_project(db, "Quiet")
    await send_month(client, busy, 1)
    await send_month(client, quiet, 2)
    shared = (await client.post(
        dashboard_url(busy, (await create_dashboard(client, busy, WIDGETS))["id"]) + "/shares",
        headers=auth(busy.keys.admin))).json()["url"]
    mine = dashboard_url(quiet, (await create_dashboard(client, quiet, WIDGETS))["id"])
    read = auth(quiet.keys.read)

    await timed_get(client, mine, RANGE, read)
    alone = statistics.median([await timed_get(client, mine, RANGE, read) for _ in range(5)])

    # each its own range, so that no two loads can share a computation
    ends = [(BASE + timedelta(days=i)).date().isoformat() for i in range(50)]
    burst = [asyncio.create_task(burst_status(client, shared, RANGE | {"date_to": end}))
             for end in ends]
    await asyncio.sleep(0.05)  # the burst has started
    during = []
    while not all(task.done() for task in burst) and len(during) < 10:
        during.append(await timed_get(client, mine, RANGE, read))
    assert 200 in await asyncio.gather(*burst)

    pool = app.state.engine.pool
    assert pool.checkedout() == 0
    assert len(during) >= 3
    assert statistics.median(during) < 2 * alone, (alone, during)
