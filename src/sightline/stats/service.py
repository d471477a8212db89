"""The stats use cases: from a request to a cached response (resolve the project, validate,
compute on a miss through the planner), and many queries computed together (dashboards, GraphQL)."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from sightline.cache.service import cached_data, respond
from sightline.models import Goal
from sightline.problems import InvalidParameter
from sightline.projects import service as projects
from sightline.projects.schemas import ProjectOut
from sightline.replicas.router import read_engine
from sightline.segments.duck import Duck
from sightline.state import app_state
from sightline.stats.aggregate import MergedDays
from sightline.stats.context import Context
from sightline.stats.params import parse_query
from sightline.stats.planner import rollup_shaped, run_report
from sightline.stats.query import StatsQuery
from sightline.stats.reports import Span, report
from sightline.stats.runner import BatchingRunner, Runner


def dependency_span(query: StatsQuery) -> Span:
    """The instants of events whose change can change this result (None: any event)."""
    return report(query.report).span(query)


async def goals_for(engine: AsyncEngine, project_id: str, queries: list[StatsQuery]) -> tuple[Goal, ...]:
    if not any(q.report == "goals" for q in queries):
        return ()
    async with AsyncSession(engine) as db:
        return tuple(await projects.load_goals(db, project_id))


async def compute(engine: AsyncEngine, project: ProjectOut, query: StatsQuery,
                  now: datetime, duck: Duck | None = None,
                  merged_days: MergedDays | None = None) -> dict[str, Any]:
    goals = await goals_for(engine, project.id, [query])
    ctx = Context(Runner(engine), project.id, project.timezone, now, goals, duck=duck,
                  merged_days=merged_days)
    return {"results": await run_report(ctx, query), "meta": query.meta()}


async def serve_report(request: Request, project_id: str, report: str,
                       items: Iterable[tuple[str, Any]]) -> Response:
    project = await projects.cached_project(request, project_id)
    now = datetime.now(UTC)
    query = parse_query(report, items, project.timezone, now)

    async def computed() -> dict[str, Any]:
        async with ad_hoc_turn(request, project, [query]):
            state = app_state(request)
            return await compute(await read_engine(request, project_id), project, query, now,
                                 state.duck, state.merged_days)

    return await respond(request, project_id, f"stats.{query.report}", query.meta(),
                         dependency_span(query), computed)


def ad_hoc_turn(request: Request, project: ProjectOut,
                queries: list[StatsQuery]) -> AbstractAsyncContextManager[None]:
    """Questions the rollups cannot answer read rows: a project computes one at a time per
    process (the others wait, holding nothing), so one user's filters cannot slow every tenant."""
    if all(rollup_shaped(query, project.timezone) for query in queries):
        return nullcontext()
    return app_state(request).ad_hoc_gates.hold(project.id)


def query_object_items(body: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    """A JSON query object ({"report": "pages", "date_from": ..., "metrics": [...]}) as the
    same parameters the GET routes take."""
    report = body.get("report")
    if not isinstance(report, str):
        raise InvalidParameter("report", "report is required (e.g. \"pages\" or \"timeseries\")")
    items: list[tuple[str, Any]] = []
    for name, value in body.items():
        if name == "report":
            continue
        if name == "step" and isinstance(value, list):
            items += [("step", str(step)) for step in value]
        elif name == "metrics" and isinstance(value, list):
            items.append(("metrics", ",".join(map(str, value))))
        elif name == "filters" and isinstance(value, list):
            items.append(("filters", ";".join(map(str, value))))
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            items.append((name, str(value)))
        else:
            raise InvalidParameter(name, f"{name} must be a string or a whole number")
    return report, items


async def compute_many(request: Request, project_id: str, queries: list[StatsQuery],
                       now: datetime) -> list[dict[str, Any]]:
    """The response of every query ({"results", "meta"}), computed together (dashboards)."""
    project = await projects.cached_project(request, project_id)
    engine = await read_engine(request, project_id)
    goals = await goals_for(engine, project_id, queries)
    ctx = Context(BatchingRunner(engine), project_id, project.timezone, now, goals,
                  merged_days=app_state(request).merged_days)
    results = await asyncio.gather(*(run_report(ctx, q) for q in queries))
    return [{"results": r, "meta": q.meta()} for r, q in zip(results, queries, strict=True)]


class MissBatch:
    """The cache misses of many queries, computed together in one `compute_many`: every query
    either hands its miss in or is answered otherwise (a hit, another request's computation),
    and once all have, the handed-in ones run as one batch."""

    def __init__(self, run: Callable[[list[StatsQuery]], Awaitable[list[dict[str, Any]]]],
                 expected: int):
        self.run, self.expected = run, expected
        self.pending: list[tuple[StatsQuery, asyncio.Future[dict[str, Any]]]] = []

    async def compute(self, query: StatsQuery) -> dict[str, Any]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending.append((query, future))
        self.settle()
        return await future

    def answered(self) -> None:
        self.expected -= 1
        self.settle()

    def settle(self) -> None:
        if self.pending and len(self.pending) >= self.expected:
            batch, self.pending = self.pending, []
            self.expected -= len(batch)
            asyncio.get_running_loop().create_task(self.flush(batch))

    async def flush(self, batch: list[tuple[StatsQuery, asyncio.Future[dict[str, Any]]]]) -> None:
        try:
            results = await self.run([query for query, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every waiting query gets the failure
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


async def cached_many(request: Request, project_id: str, queries: list[StatsQuery],
                      now: datetime) -> list[dict[str, Any]]:
    """Each query through the same cache entry, freshness and single flight as its REST route;
    the misses computed together (GraphQL)."""
    project = await projects.cached_project(request, project_id)

    async def computed(missed: list[StatsQuery]) -> list[dict[str, Any]]:
        async with ad_hoc_turn(request, project, missed):
            return await compute_many(request, project_id, missed, now)

    batch = MissBatch(computed, len(queries))

    async def one(query: StatsQuery) -> dict[str, Any]:
        handed_in = False

        async def compute() -> dict[str, Any]:
            nonlocal handed_in
            handed_in = True
            return await batch.compute(query)

        try:
            return await cached_data(request, project_id, f"stats.{query.report}", query.meta(),
                                     dependency_span(query), compute)
        finally:
            if not handed_in:
                batch.answered()

    return list(await asyncio.gather(*(one(query) for query in queries)))
