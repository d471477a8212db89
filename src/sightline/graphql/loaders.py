"""Per-operation DataLoaders: whatever a query nests, each kind of lookup runs once per tick.

All the dashboards a selection touches load in one call (two statements: dashboards, widgets),
and every stats field and widget `data` of the operation is computed in one `compute_many`.
Each lookup uses a short-lived session, so the operation holds no pooled connection while its
stats are computed on others.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from sightline.dashboards import service as dashboards
from sightline.graphql.limits import MAX_COST, STATS_COST, QueryTooCostly
from sightline.models import Dashboard
from sightline.projects import service as projects
from sightline.projects.schemas import GoalOut, ProjectOut
from sightline.stats import service as stats
from sightline.state import app_state
from sightline.stats.query import StatsQuery

StatsKey = tuple[str, StatsQuery]


class Loaders:
    def __init__(self, request: Request, now: datetime):
        self.request, self.now = request, now
        self.sessionmaker: async_sessionmaker[AsyncSession] = app_state(request).sessionmaker
        self.project = DataLoader[str, ProjectOut](self.load_projects)
        self.goals = DataLoader[str, list[GoalOut]](self.load_goals)
        self.dashboards = DataLoader[str, list[Dashboard]](self.load_project_dashboards)
        self.dashboard = DataLoader[tuple[str, str], Dashboard | None](self.load_dashboards)
        self.stats = DataLoader[StatsKey, dict[str, Any]](self.compute)
        self.computations = 0

    async def load_projects(self, project_ids: list[str]) -> list[ProjectOut]:
        return [await projects.cached_project(self.request, p) for p in project_ids]

    async def load_goals(self, project_ids: list[str]) -> list[list[GoalOut]]:
        async with self.sessionmaker() as db:
            return [await projects.list_goals(db, p) for p in project_ids]

    async def load_project_dashboards(self, project_ids: list[str]) -> list[list[Dashboard]]:
        async with self.sessionmaker() as db:
            return [await dashboards.load_dashboards(db, p) for p in project_ids]

    async def load_dashboards(self, keys: list[tuple[str, str]]) -> list[Dashboard | None]:
        wanted: dict[str, list[str]] = defaultdict(list)
        for project_id, dashboard_id in keys:
            wanted[project_id].append(dashboard_id)
        found: dict[tuple[str, str], Dashboard] = {}
        async with self.sessionmaker() as db:
            for project_id, ids in wanted.items():
                for dashboard in await dashboards.load_dashboards_by_id(db, project_id, ids):
                    found[(project_id, dashboard.id)] = dashboard
        return [found.get(key) for key in keys]

    async def compute(self, keys: list[StatsKey]) -> list[dict[str, Any]]:
        """Every stats query of the operation through the cache (the entries REST uses), the
        misses of a project computed in one compute_many. The cost limit is
        checked again on the actual number of computations (dashboards hold any number of
        widgets; the estimate before execution assumes a typical size)."""
        self.computations += len(keys)
        if self.computations * STATS_COST > MAX_COST:
            raise QueryTooCostly(
                f"The operation needs {self.computations} stats computations, more than the "
                f"{MAX_COST // STATS_COST} allowed; select fewer dashboards or widgets")
        by_project: dict[str, list[StatsQuery]] = defaultdict(list)
        for project_id, query in keys:
            by_project[project_id].append(query)
        results: dict[StatsKey, dict[str, Any]] = {}
        for project_id, queries in by_project.items():
            computed = await stats.cached_many(self.request, project_id, queries, self.now)
            results.update(((project_id, q), r) for q, r in zip(queries, computed, strict=True))
        return [results[key] for key in keys]
