"""The job queue: leases and their renewal, reclaiming, bounded attempts, fairness, retention."""

import asyncio
from typing import Any

from sqlalchemy import text

from sightline.worker import queue
from sightline.worker.queue import ClaimedJob, claim, purge_finished, run_one
from tests.factories import auth, make_event, make_project, send_events
from tests.worker.conftest import FAST

JOB = text("SELECT status, attempts, error, result FROM job WHERE project_id = :p AND id = :id")


async def add_job(app: Any, project_id: str, task: str = "test.echo",
                  payload: dict[str, Any] | None = None) -> int:
    async with app.state.sessionmaker() as db:
        job_id = await queue.enqueue(db, project_id, task, payload or {})
        await db.commit()
    return job_id


async def job_row(app: Any, project_id: str, job_id: int) -> Any:
    async with app.state.sessionmaker() as db:
        return (await db.execute(JOB, {"p": project_id, "id": job_id})).one()


async def echo(engine: Any, db: Any, job: ClaimedJob) -> dict[str, Any]:
    return {"echo": job.payload}


async def test_a_claimed_job_whose_lease_expires_is_claimed_again(queue_app):
    job_id = await add_job(queue_app, "p_lease")
    first = await claim(queue_app.state.sessionmaker, FAST)
    assert first is not None and first.id == job_id
    assert await claim(queue_app.state.sessionmaker, FAST) is None  # leased
    await asyncio.sleep(FAST.lease.total_seconds() + 0.5)
    second = await claim(queue_app.state.sessionmaker, FAST)
    assert second is not None and second.id == job_id and second.attempts == 2
    async with queue_app.state.sessionmaker() as db:  # the first worker lost its lease
        assert not await queue.record(db, queue.queries.FINISH_JOB, first, result="{}")
        assert await queue.record(db, queue.queries.FINISH_JOB, second, result='{"n": 1}')
    row = await job_row(queue_app, "p_lease", job_id)
    assert (row.status, row.attempts, row.result) == ("done", 2, {"n": 1})


async def test_a_running_job_renews_its_lease(queue_app):
    job_id = await add_job(queue_app, "p_renew")

    async def slow(engine: Any, db: Any, job: ClaimedJob) -> dict[str, Any]:
        await asyncio.sleep(FAST.lease.total_seconds() * 2)
        assert await claim(queue_app.state.sessionmaker, FAST) is None  # still leased
        return {"slow": True}

    assert await run_one(queue_app.state.engine, queue_app.state.sessionmaker,
                         {"test.echo": slow}, FAST)
    row = await job_row(queue_app, "p_renew", job_id)
    assert (row.status, row.attempts, row.result) == ("done", 1, {"slow": True})


async def test_a_failing_job_is_retried_then_failed_with_its_error_kept(queue_app):
    job_id = await add_job(queue_app, "p_fail")

    async def broken(engine: Any, db: Any, job: ClaimedJob) -> dict[str, Any]:
        raise ValueError(f"secret detail {job.attempts}")

    tasks = {"test.echo": broken}
    while await run_one(queue_app.state.engine, queue_app.state.sessionmaker, tasks, FAST):
        pass
    row = await job_row(queue_app, "p_fail", job_id)
    assert (row.status, row.attempts) == ("failed", FAST.max_attempts)
    assert row.error == f"ValueError: secret detail {FAST.max_attempts}"


async def test_a_job_abandoned_on_its_last_attempt_ends_as_failed(queue_app):
    job_id = await add_job(queue_app, "p_abandon")
    for _ in range(FAST.max_attempts):
        assert await claim(queue_app.state.sessionmaker, FAST) is not None
        await asyncio.sleep(FAST.lease.total_seconds() + 0.2)
    assert await claim(queue_app.state.sessionmaker, FAST) is None
    row = await job_row(queue_app, "p_abandon", job_id)
    assert row.status == "failed" and "lease" in row.error


async def test_projects_take_turns(queue_app):
    backlog = [await add_job(queue_app, "p_big", "test.a") for _ in range(5)]
    small = await add_job(queue_app, "p_small", "test.b")
    order = []
    while (job := await claim(queue_app.state.sessionmaker, FAST)) is not None:
        order.append((job.project_id, job.id))
        async with queue_app.state.sessionmaker() as db:
            await queue.record(db, queue.queries.FINISH_JOB, job, result="{}")
    assert order[:2] == [("p_big", backlog[0]), ("p_small", small)]
    assert [job_id for _, job_id in order[2:]] == backlog[1:]


async def test_a_project_runs_one_job_of_a_task_at_a_time(queue_app):
    await add_job(queue_app, "p_one", "test.a")
    await add_job(queue_app, "p_one", "test.a")
    other = await add_job(queue_app, "p_one", "test.b")
    assert await claim(queue_app.state.sessionmaker, FAST) is not None
    second = await claim(queue_app.state.sessionmaker, FAST)
    assert second is not None and second.id == other
    assert await claim(queue_app.state.sessionmaker, FAST) is None


async def test_finished_jobs_are_purged_after_their_retention(queue_app):
    done = await add_job(queue_app, "p_purge")
    assert await run_one(queue_app.state.engine, queue_app.state.sessionmaker,
                         {"test.echo": echo}, FAST)
    kept = await add_job(queue_app, "p_purge")
    async with queue_app.state.sessionmaker() as db:
        await db.execute(text("UPDATE job SET finished_at = now() - interval '2 days' "
                              "WHERE project_id = 'p_purge' AND id = :id"), {"id": done})
        await db.commit()
    assert await purge_finished(queue_app.state.sessionmaker, FAST) == 1
    async with queue_app.state.sessionmaker() as db:
        ids = (await db.execute(text("SELECT id FROM job WHERE project_id = 'p_purge'"))).scalars()
        assert list(ids) == [kept]


async def test_a_read_key_cannot_queue_unlimited_reports(queue_app, queue_client, queue_db):
    project = await make_project(queue_db)
    url = f"/api/v1/projects/{project.id}/reports"
    body = {"query": {"report": "overview"}}
    statuses = [(await queue_client.post(url, json=body, headers=auth(project.keys.read)))
                for _ in range(FAST.pending_reports + 1)]
    assert [r.status_code for r in statuses] == [202] * FAST.pending_reports + [429]
    assert statuses[-1].headers["content-type"] == "application/problem+json"
    assert int(statuses[-1].headers["retry-after"]) > 0


async def test_a_failed_report_shows_clients_a_generic_message(queue_app, queue_client, queue_db):
    project = await make_project(queue_db)
    url = f"/api/v1/projects/{project.id}/reports"
    report = (await queue_client.post(url, json={"query": {"report": "overview"}},
                                      headers=auth(project.keys.read))).json()

    async def broken(engine: Any, db: Any, job: ClaimedJob) -> dict[str, Any]:
        raise RuntimeError("[SQL: SELECT secret FROM internals]")

    while await run_one(queue_app.state.engine, queue_app.state.sessionmaker,
                        {"reports.export": broken}, FAST):
        pass
    shown = (await queue_client.get(f"{url}/{report['id']}",
                                    headers=auth(project.keys.read))).json()
    assert shown["status"] == "failed"
    assert "SQL" not in shown["error"] and "secret" not in shown["error"]
    assert "SQL" in (await job_row(queue_app, project.id, report["id"])).error


async def test_events_years_apart_mark_only_their_own_days_stale(queue_app, queue_client,
                                                                  queue_db):
    project = await make_project(queue_db)
    await send_events(queue_client, project, [
        make_event(visitor_id="old", timestamp="2005-06-01T12:00:00+00:00"),
        make_event(visitor_id="new", timestamp="2024-03-10T12:00:00+00:00"),
    ])
    days = (await queue_db.execute(text("SELECT day::text FROM rollup_state WHERE project_id = :p"
                                        " ORDER BY day"), {"p": project.id})).scalars()
    assert list(days) == ["2005-06-01", "2024-03-10"]
