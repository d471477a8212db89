"""One project's burst of uncached share-link loads cannot take the pool from another project."""

import statistics
from datetime import timedelta

import pytest

from tests.dashboards.helpers import BASE, create_dashboard, dashboard_url, widget
from tests.factories import (
    auth, burst_status, latencies_beside, make_project, send_month,
)

RANGE = {"date_from": "2024-02-10", "date_to": "2024-03-10"}
WIDGETS = [widget("overview"), widget("pages"), widget("sources"), widget("countries"),
           widget("timeseries"), widget("devices")]

# a latency comparison: make test runs it after the parallel suite, on a quiet machine
pytestmark = pytest.mark.isolation


async def test_fifty_uncached_share_loads_leave_other_projects_their_latency(client, db, app):
    busy, quiet = await make_project(db, "Busy"), await make_project(db, "Quiet")
    await send_month(client, busy, 1, BASE, 3000, 40)
    await send_month(client, quiet, 2, BASE, 3000, 40)
    shared = (await client.post(
        dashboard_url(busy, (await create_dashboard(client, busy, WIDGETS))["id"]) + "/shares",
        headers=auth(busy.keys.admin))).json()["url"]
    mine = dashboard_url(quiet, (await create_dashboard(client, quiet, WIDGETS))["id"])
    read = auth(quiet.keys.read)

    # each its own range, so that no two loads can share a computation
    ends = [(BASE + timedelta(days=i)).date().isoformat() for i in range(50)]
    alone, during = await latencies_beside(client, mine, RANGE, read, [
        burst_status(client, shared, RANGE | {"date_to": end}) for end in ends])

    pool = app.state.engine.pool
    assert pool.checkedout() == 0
    assert len(during) >= 3
    assert statistics.median(during) < 2 * alone, (alone, during)
