"""The benchmark's own data: a database seeded through the product's seeder, reused when there.

A dataset is a list of projects (events, days); the manifest (project ids, keys, when the data
ends) is kept in the benchmark database itself, so a later run finds the data and its keys.
"""

import asyncio
import json
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from sightline.bench import queries
from sightline.migrate import upgrade_to_head
from sightline.projects.schemas import GoalCreate
from sightline.projects.service import create_goal, create_project
from sightline.rollups import tasks as rollups
from sightline.seed.service import seed_project


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    events: int
    days: int
    timezone: str = "UTC"


def many(prefix: str, count: int, events: int, days: int) -> list[ProjectSpec]:
    return [ProjectSpec(f"{prefix}-{i}", events, days) for i in range(1, count + 1)]


# The largest project comes first: it is the one the scenarios query.
DATASETS: dict[str, list[ProjectSpec]] = {
    "full": [ProjectSpec("shop", 4_000_000, 90, "Europe/Berlin"),
             ProjectSpec("saas", 2_500_000, 90, "America/New_York"),
             ProjectSpec("blog", 1_500_000, 60), ProjectSpec("docs", 1_000_000, 30),
             ProjectSpec("app", 500_000, 30), *many("small", 10, 50_000, 30)],
    "quick": [ProjectSpec("shop", 400_000, 90, "Europe/Berlin"),
              ProjectSpec("saas", 100_000, 30), *many("small", 5, 20_000, 30)],
    "smoke": [ProjectSpec("shop", 3_000, 30, "Europe/Berlin"), ProjectSpec("small", 500, 7)],
}
GOALS = (GoalCreate(name="Signup", event="signup"), GoalCreate(name="Purchase", event="purchase"),
         GoalCreate(name="Pricing", page="/pricing"), GoalCreate(name="Blog", page="/blog*"))


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    timezone: str
    events: int
    days: int
    keys: dict[str, str]
    site_id: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    database_url: str
    end: str              # when the seeded traffic ends (RFC 3339)
    projects: list[Project]
    seed_seconds: float
    seed_events_per_second: int
    rollups_seconds: float | None = None   # None: the rollups are not built yet

    @property
    def largest(self) -> Project:
        return self.projects[0]

    @property
    def events(self) -> int:
        return sum(p.events for p in self.projects)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> "Dataset":
        data = json.loads(text) if isinstance(text, str) else text
        data["projects"] = [Project(**p) for p in data["projects"]]
        return cls(**data)


def database_url_for(admin_url: str, database: str) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


async def create_database(admin_url: str, database: str) -> bool:
    """Create the database if missing; True when it was created now."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            if (await conn.execute(queries.DATABASE_EXISTS, {"name": database})).first():
                return False
            await conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
            return True
    finally:
        await engine.dispose()


async def ensure_dataset(admin_url: str, database: str, name: str,
                         log: Any = print) -> Dataset:
    """The dataset `name` in `database`: found as it is, or created and seeded now."""
    await create_database(admin_url, database)
    url = database_url_for(admin_url, database)
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(queries.CREATE_MANIFEST)
            found = (await conn.execute(queries.SELECT_MANIFEST, {"name": name})).scalar()
        if found is not None:
            dataset = Dataset.from_json(found)
            log(f"dataset {name!r} found in {database}: {dataset.events:,} events, "
                f"ending {dataset.end}")
        else:
            dataset = await seed_dataset(engine, url, name, DATASETS[name], log)
            await save(engine, dataset)
        if dataset.rollups_seconds is None:
            dataset = await build_rollups(engine, dataset, log)
            await save(engine, dataset)
        else:
            await catch_up_rollups(engine, dataset, log)
        return dataset
    finally:
        await engine.dispose()


async def save(engine: AsyncEngine, dataset: Dataset) -> None:
    async with engine.begin() as conn:
        await conn.execute(queries.UPSERT_MANIFEST,
                           {"name": dataset.name, "manifest": dataset.to_json()})
        await conn.execute(queries.ANALYZE)


async def build_rollups(engine: AsyncEngine, dataset: Dataset, log: Any) -> Dataset:
    """Build every project's daily rollups as the worker would."""
    from sightline.db import make_sessionmaker

    started = time.perf_counter()
    end = datetime.fromisoformat(dataset.end)
    for project in dataset.projects:
        began = time.perf_counter()
        async with make_sessionmaker(engine)() as db:
            days = await rollups.rebuild(db, project.id, project.timezone,
                                         end - timedelta(days=project.days + 1), end)
        log(f"rollups of {project.name}: {len(days)} days in {time.perf_counter() - began:.1f} s")
    return replace(dataset, rollups_seconds=round(time.perf_counter() - started, 1))


async def catch_up_rollups(engine: AsyncEngine, dataset: Dataset, log: Any) -> None:
    """Build days left stale (a migration can mark built days stale) before measuring."""
    from sightline.db import make_sessionmaker

    for project in dataset.projects:
        async with make_sessionmaker(engine)() as db:
            days = await rollups.build_stale_days(db, project.id, project.timezone)
        if days:
            log(f"rollups of {project.name}: rebuilt {len(days)} stale days")


async def catch_up_segments(url: str, dataset: Dataset, data_dir: Path, log: Any) -> None:
    """Build the segments the servers read (under data_dir) that are missing or out of date."""
    from sightline.segments import service as segments
    from sightline.segments.duck import Duck
    from sightline.settings import Settings

    duck = Duck(Settings(database_url=url, data_dir=data_dir))
    engine = create_async_engine(url)
    try:
        for project in dataset.projects:
            began = time.perf_counter()
            months = await segments.build_stale(engine, duck, project.id, project.timezone)
            if months:
                log(f"segments of {project.name}: {len(months)} months in "
                    f"{time.perf_counter() - began:.1f} s")
    finally:
        duck.close()
        await engine.dispose()


async def seed_dataset(engine: AsyncEngine, url: str, name: str, specs: list[ProjectSpec],
                       log: Any) -> Dataset:
    from sightline.db import make_sessionmaker

    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    sessionmaker = make_sessionmaker(engine)
    projects, started, total = [], time.perf_counter(), 0
    for index, spec in enumerate(specs):
        async with sessionmaker() as db:
            created = await create_project(db, spec.name, spec.timezone)
            for goal in GOALS:
                await create_goal(db, created.id, goal)
            stats = await seed_project(db, created.id, spec.events, spec.days, index + 1, end=end)
            await db.commit()
        total += stats["events"]
        log(f"seeded {spec.name}: {json.dumps(stats)}")
        projects.append(Project(created.id, spec.name, spec.timezone, spec.events, spec.days,
                                created.keys.model_dump()))
    seconds = time.perf_counter() - started
    return Dataset(name, url, end.isoformat(), projects, round(seconds, 1),
                   round(total / seconds))
