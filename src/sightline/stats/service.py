"""The stats use cases: from a request to a cached response (resolve the project, validate,
compute on a miss through the planner), and many queries computed together (dashboards, GraphQL)."""

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from sightline.cache.service import respond
from sightline.models import Goal
from sightline.problems import InvalidParameter
from sightline.projects import service as projects
from sightline.projects.schemas import ProjectOut
from sightline.replicas.router import read_engine
from sightline.stats.context import Context
from sightline.stats.params import parse_query
from sightline.stats.planner import run_report
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
                  now: datetime) -> dict[str, Any]:
    goals = await goals_for(engine, project.id, [query])
    ctx = Context(Runner(engine), project.id, project.timezone, now, goals)
    return {"results": await run_report(ctx, query), "meta": query.meta()}


async def serve_report(request: Request, project_id: str, report: str,
                       items: Iterable[tuple[str, Any]]) -> Response:
    project = await projects.cached_project(request, project_id)
    now = datetime.now(UTC)
    query = parse_query(report, items, project.timezone, now)

    async def computed() -> dict[str, Any]:
        return await compute(await read_engine(request, project_id), project, query, now)

    return await respond(request, project_id, f"stats.{query.report}", query.meta(),
                         dependency_span(query), computed)


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
    ctx = Context(BatchingRunner(engine), project_id, project.timezone, now, goals)
    results = await asyncio.gather(*(run_report(ctx, q) for q in queries))
    return [{"results": r, "meta": q.meta()} for r, q in zip(results, queries, strict=True)]
