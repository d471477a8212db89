"""The write side of rollups: builds are queued through the worker's queue, one per project,
and nothing in rollups/ imports the read side of stats/."""

import ast
from pathlib import Path

from sqlalchemy import select

import sightline.rollups
from sightline.models import Job
from sightline.rollups import service
from tests.factories import make_project

PURE = {"sightline.stats.periods", "sightline.stats.metrics", "sightline.stats.aggregate",
        "sightline.stats.sql.day_rows"}


async def test_a_burst_of_schedules_queues_one_build(db):
    project = await make_project(db)
    for _ in range(3):
        await service.schedule_build(db, project.id)
    jobs = (await db.execute(select(Job).where(Job.project_id == project.id))).scalars().all()
    assert [(j.task, j.status) for j in jobs] == [(service.BUILD_TASK, "queued")]
    await db.rollback()


def test_rollups_import_only_pure_helpers_of_stats():
    folder = Path(sightline.rollups.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sightline.stats"):
                assert node.module in PURE, (path.name, node.module)
