"""No-cache recomputations: identical requests share one that started after they arrived."""

import asyncio

import pytest

from sightline.cache.refresh import FreshRuns
from tests.factories import auth, make_event, make_project, send_events


class Counted:
    def __init__(self, seconds: float = 0.05, error: Exception | None = None):
        self.seconds, self.error, self.runs = seconds, error, 0

    async def __call__(self) -> int:
        self.runs += 1
        run = self.runs
        await asyncio.sleep(self.seconds)
        if self.error is not None:
            raise self.error
        return run


async def test_a_burst_costs_two_runs_and_each_caller_gets_one_that_started_after_it():
    runs, compute = FreshRuns[int](), Counted()
    first = asyncio.create_task(runs.run("k", compute))
    await asyncio.sleep(0.01)  # the first run is under way: the burst cannot use it
    burst = await asyncio.gather(*(runs.run("k", compute) for _ in range(50)))
    assert await first == 1
    assert set(burst) == {2}
    assert compute.runs == 2
    assert runs.keys == {}


async def test_a_caller_after_a_run_ended_gets_a_new_one():
    runs, compute = FreshRuns[int](), Counted(0.001)
    assert [await runs.run("k", compute) for _ in range(3)] == [1, 2, 3]


async def test_keys_do_not_share():
    runs, compute = FreshRuns[int](), Counted()
    assert sorted(await asyncio.gather(runs.run("a", compute), runs.run("b", compute))) == [1, 2]


async def test_a_failure_is_shared_by_those_waiting_for_that_run():
    runs, compute = FreshRuns[int](), Counted(error=RuntimeError("database"))
    first = asyncio.create_task(runs.run("k", compute))
    await asyncio.sleep(0.01)
    results = await asyncio.gather(*(runs.run("k", compute) for _ in range(10)),
                                   return_exceptions=True)
    with pytest.raises(RuntimeError):
        await first
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len({id(r) for r in results}) == 1  # the second run's error, shared
    assert compute.runs == 2


async def test_a_cancelled_run_is_taken_over_by_the_next_caller():
    runs, compute = FreshRuns[int](), Counted()
    leader = asyncio.create_task(runs.run("k", compute))
    follower = asyncio.create_task(runs.run("k", compute))
    await asyncio.sleep(0.01)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await follower == 2


async def test_identical_no_cache_requests_share_a_computation(client, db):
    project = await make_project(db)
    await send_events(client, project, [make_event(visitor_id=f"v{i}", path=f"/p{i % 9}")
                                        for i in range(500)])
    url = f"/api/v1/projects/{project.id}/stats/pages"
    params = {"date_from": "2024-03-01", "date_to": "2024-03-31"}
    headers = {**auth(project.keys.read), "Cache-Control": "no-cache"}
    responses = await asyncio.gather(*(client.get(url, params=params, headers=headers)
                                       for _ in range(40)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["results"][0]["visitors"] for r in responses}) == 1
    assert len({r.json()["meta"]["computed_at"] for r in responses}) <= 2
