"""One project hammering filters (each question new, uncached) leaves another project's
dashboard numbers their latency: a project computes one row-scanning question at a time per
process."""

import statistics
from datetime import UTC, datetime

import pytest

from tests.factories import (
    auth, burst_status, latencies_beside, make_project, send_month,
)

BASE = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
RANGE = {"date_from": "2024-02-10", "date_to": "2024-03-10"}

# a latency comparison: make test runs it after the parallel suite, on a quiet machine
pytestmark = pytest.mark.isolation


async def test_a_burst_of_filtered_questions_leaves_other_projects_their_latency(client, db, app):
    busy, quiet = await make_project(db, "Busy"), await make_project(db, "Quiet")
    await send_month(client, busy, 1, BASE, 4000, 50)
    await send_month(client, quiet, 2, BASE, 4000, 50)
    hammered = f"/api/v1/projects/{busy.id}/stats/pages"
    mine, read = f"/api/v1/projects/{quiet.id}/stats/overview", auth(quiet.keys.read)

    alone, during = await latencies_beside(client, mine, RANGE, read, [
        burst_status(client, hammered, RANGE | {"filters": f"page==/p{i}"}, auth(busy.keys.read))
        for i in range(50)])

    assert app.state.engine.pool.checkedout() == 0
    assert len(during) >= 3
    # measured: 1.3-2.4x a ~25 ms overview with the limit (scheduling noise on 2 shared cores is
    # of that order); 3-10x without it, when all 50 questions run at once
    assert statistics.median(during) < 3 * alone, (alone, during)
