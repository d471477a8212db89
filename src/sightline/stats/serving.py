"""From a request to a cached response: resolve the project, validate, compute on a miss."""

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from sightline.cache.service import respond
from sightline.problems import InvalidParameter
from sightline.projects import service as projects
from sightline.projects.schemas import ProjectOut
from sightline.stats import service
from sightline.stats.params import parse_query
from sightline.stats.query import FUNNEL_WINDOWS, StatsQuery
from sightline.stats.runner import BatchingRunner, Runner
from sightline.ttlcache import TtlCache


async def project_of(request: Request, db: AsyncSession, project_id: str) -> ProjectOut:
    cache: TtlCache[str, ProjectOut] = request.app.state.project_cache
    found, project = cache.get(project_id)
    if not found or project is None:
        project = await projects.get_project(db, project_id)
        cache.put(project_id, project)
    return project


def dependency_span(query: StatsQuery) -> tuple[datetime, datetime] | None:
    """The instants of events whose change can change this result (None: any event)."""
    if query.report in ("retention", "realtime"):
        return None
    start, end = service.instant_range(query)
    if query.report == "funnel":
        return start, end + FUNNEL_WINDOWS[query.window or "1d"]
    if query.report == "active-users":
        return start - timedelta(days=30), end
    if query.compare:
        compared = service.comparison_instants(query)
        return min(start, compared[0]), max(end, compared[1])
    return start, end


async def compute(engine: AsyncEngine, db: AsyncSession, project_id: str, query: StatsQuery,
                  now: datetime) -> dict[str, Any]:
    goals = tuple(await projects.load_goals(db, project_id)) if query.report == "goals" else ()
    ctx = service.Context(Runner(engine), project_id, now, goals)
    return {"results": await service.run_report(ctx, query), "meta": query.meta()}


async def serve_report(request: Request, db: AsyncSession, project_id: str, report: str,
                       items: Iterable[tuple[str, Any]]) -> Response:
    project = await project_of(request, db, project_id)
    now = datetime.now(UTC)
    query = parse_query(report, items, project.timezone, now)
    return await respond(request, project_id, f"stats.{query.report}", query.meta(),
                         dependency_span(query),
                         lambda: compute(request.app.state.engine, db, project_id, query, now))


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


async def compute_many(request: Request, db: AsyncSession, project_id: str,
                       queries: list[StatsQuery], now: datetime) -> list[dict[str, Any]]:
    """The response of every query ({"results", "meta"}), computed together (dashboards)."""
    goals = (tuple(await projects.load_goals(db, project_id))
             if any(q.report == "goals" for q in queries) else ())
    ctx = service.Context(BatchingRunner(request.app.state.engine), project_id, now, goals)
    results = await asyncio.gather(*(service.run_report(ctx, q) for q in queries))
    return [{"results": r, "meta": q.meta()} for r, q in zip(results, queries, strict=True)]
