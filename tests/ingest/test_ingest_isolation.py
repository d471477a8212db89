"""Concurrent batches of one project wait their turn in the process, not on the advisory lock
with a pooled connection each."""

import asyncio

from tests.factories import make_event, make_project, send_events


async def test_a_burst_of_one_projects_batches_takes_one_connection(client, db, app):
    project = await make_project(db)
    await send_events(client, project, [make_event()])  # the key and project are cached
    pool = app.state.engine.pool
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, pool.checkedout())
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(
            send_events(client, project, [make_event(visitor_id=f"v{i}-{j}") for j in range(50)])
            for i in range(20)))
    finally:
        watcher.cancel()
    assert sum(r["accepted"] for r in results) == 1000
    assert most == 1
