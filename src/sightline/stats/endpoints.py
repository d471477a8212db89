"""The stats routes: thin views over one query model (SPEC section 4)."""

from typing import Any

from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from sightline.auth.deps import ReadKey
from sightline.db import DbSession
from sightline.stats import serving as service
from sightline.stats.params import REPORTS

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["stats"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid parameter (problem+json names it)"},
    401: {"description": "No or unknown key"}, 403: {"description": "Wrong scope"},
    404: {"description": "Unknown project"},
}
STATS_REPORTS = [r for r in REPORTS if not r.startswith("utm/") and r != "properties"]


def add_stats_route(report: str) -> None:
    async def endpoint(project_id: str, request: Request, key: ReadKey, db: DbSession) -> Response:
        return await service.serve_report(request, db, key.project_id, report,
                                          request.query_params.multi_items())

    endpoint.__name__ = f"stats_{report.replace('-', '_')}"
    router.add_api_route(f"/stats/{report}", endpoint, methods=["GET"], responses=PROBLEMS,
                         summary=f"Stats: {report}")


for _report in STATS_REPORTS:
    add_stats_route(_report)


@router.get("/stats/utm/{param}", responses=PROBLEMS, summary="Stats: utm/{param}")
async def stats_utm(project_id: str, param: str, request: Request, key: ReadKey,
                    db: DbSession) -> Response:
    return await service.serve_report(request, db, key.project_id, f"utm/{param}",
                                      request.query_params.multi_items())


@router.get("/stats/properties/{prop_key}", responses=PROBLEMS, summary="Stats: properties/{key}")
async def stats_properties(project_id: str, prop_key: str, request: Request, key: ReadKey,
                           db: DbSession) -> Response:
    return await service.serve_report(request, db, key.project_id, f"properties/{prop_key}",
                                      request.query_params.multi_items())


@router.post("/query", responses=PROBLEMS, summary="Run any stats query given as a JSON object")
async def query(project_id: str, request: Request, key: ReadKey, db: DbSession,
                body: dict[str, Any] = Body(...)) -> Response:
    report, items = service.query_object_items(body)
    return await service.serve_report(request, db, key.project_id, report, items)
