"""Dashboard, widget and share-link routes (SPEC section 5)."""

from typing import Any

from fastapi import APIRouter, Request, Response

from sightline.auth.deps import AdminKey, ReadKey
from sightline.dashboards import service
from sightline.dashboards.schemas import (
    DashboardCreate, DashboardOut, DashboardUpdate, ShareCreate, ShareCreated, ShareOut, WidgetIn,
    WidgetOrder, WidgetOut, WidgetUpdate,
)
from sightline.db import DbSession
from sightline.exports import CSV_CONTENT, FORMAT_PARAMETER, query_items

router = APIRouter(tags=["dashboards"])
BASE = "/api/v1/projects/{project_id}/dashboards"
ONE = BASE + "/{dashboard_id}"
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or unknown key"}, 403: {"description": "Wrong scope"},
    404: {"description": "Unknown project or dashboard"},
}
WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS, 400: {"description": "Invalid widget query (problem+json names the field)"},
    422: {"description": "Invalid body"},
}
READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS, 400: {"description": "Invalid dashboard-level parameter"},
    200: {"description": "JSON, or CSV of every widget's rows", "content": CSV_CONTENT},
}
WITH_FORMAT = {"parameters": [FORMAT_PARAMETER]}


@router.post(BASE, response_model=DashboardOut, status_code=201, responses=WRITE_PROBLEMS)
async def create_dashboard(project_id: str, body: DashboardCreate, key: AdminKey,
                           db: DbSession) -> DashboardOut:
    return await service.create_dashboard(db, key.project_id, body)


@router.get(BASE, response_model=list[DashboardOut], responses=PROBLEMS)
async def list_dashboards(project_id: str, key: ReadKey, db: DbSession) -> list[DashboardOut]:
    return await service.list_dashboards(db, key.project_id)


@router.get(ONE, responses=READ_PROBLEMS, openapi_extra=WITH_FORMAT,
            summary="A dashboard with every widget's data for date_from, date_to, period, tz, "
                    "filters")
async def get_dashboard(project_id: str, dashboard_id: str, request: Request,
                        key: ReadKey) -> Response:
    return await service.serve_dashboard(request, key.project_id, dashboard_id,
                                         query_items(request))


@router.patch(ONE, response_model=DashboardOut, responses=WRITE_PROBLEMS)
async def update_dashboard(project_id: str, dashboard_id: str, body: DashboardUpdate,
                           key: AdminKey, db: DbSession) -> DashboardOut:
    return await service.update_dashboard(db, key.project_id, dashboard_id, body)


@router.delete(ONE, status_code=204, responses=PROBLEMS)
async def delete_dashboard(project_id: str, dashboard_id: str, key: AdminKey,
                           db: DbSession) -> Response:
    await service.delete_dashboard(db, key.project_id, dashboard_id)
    return Response(status_code=204)


@router.post(ONE + "/widgets", response_model=WidgetOut, status_code=201,
             responses=WRITE_PROBLEMS)
async def add_widget(project_id: str, dashboard_id: str, body: WidgetIn, key: AdminKey,
                     db: DbSession) -> WidgetOut:
    return await service.add_widget(db, key.project_id, dashboard_id, body)


@router.put(ONE + "/widgets/order", response_model=DashboardOut, responses=WRITE_PROBLEMS,
            summary="Reorder widgets")
@router.post(ONE + "/widgets/order", response_model=DashboardOut, include_in_schema=False)
async def reorder_widgets(project_id: str, dashboard_id: str, body: WidgetOrder, key: AdminKey,
                          db: DbSession) -> DashboardOut:
    return await service.reorder_widgets(db, key.project_id, dashboard_id, body)


@router.get(ONE + "/widgets/{widget_id}", responses=READ_PROBLEMS,
            openapi_extra=WITH_FORMAT,
            summary="One widget with its data for date_from, date_to, period, tz, filters "
                    "(CSV with Accept: text/csv or format=csv)")
async def get_widget(project_id: str, dashboard_id: str, widget_id: str, request: Request,
                     key: ReadKey) -> Response:
    return await service.serve_dashboard(request, key.project_id, dashboard_id,
                                         query_items(request), widget_id)


@router.patch(ONE + "/widgets/{widget_id}", response_model=WidgetOut, responses=WRITE_PROBLEMS)
async def update_widget(project_id: str, dashboard_id: str, widget_id: str, body: WidgetUpdate,
                        key: AdminKey, db: DbSession) -> WidgetOut:
    return await service.update_widget(db, key.project_id, dashboard_id, widget_id, body)


@router.delete(ONE + "/widgets/{widget_id}", status_code=204, responses=PROBLEMS)
async def delete_widget(project_id: str, dashboard_id: str, widget_id: str, key: AdminKey,
                        db: DbSession) -> Response:
    await service.delete_widget(db, key.project_id, dashboard_id, widget_id)
    return Response(status_code=204)


@router.post(ONE + "/shares", response_model=ShareCreated, status_code=201, responses=PROBLEMS,
             summary="Create a read-only link (the token is shown once)")
async def create_share(project_id: str, dashboard_id: str, key: AdminKey, db: DbSession,
                       body: ShareCreate | None = None) -> ShareCreated:
    return await service.create_share(db, key.project_id, dashboard_id, body or ShareCreate())


@router.get(ONE + "/shares", response_model=list[ShareOut], responses=PROBLEMS)
async def list_shares(project_id: str, dashboard_id: str, key: AdminKey,
                      db: DbSession) -> list[ShareOut]:
    return await service.list_shares(db, key.project_id, dashboard_id)


@router.delete(ONE + "/shares/{share_id}", status_code=204, responses=PROBLEMS,
               summary="Revoke a share link (takes effect at once)")
async def revoke_share(project_id: str, dashboard_id: str, share_id: str, key: AdminKey,
                       db: DbSession) -> Response:
    await service.revoke_share(db, key.project_id, dashboard_id, share_id)
    return Response(status_code=204)


@router.get("/api/v1/shared/{token}", openapi_extra=WITH_FORMAT,
            responses={**READ_PROBLEMS, 404: {"description": "Unknown, revoked or expired token"}},
            summary="A shared dashboard, without a key")
async def get_shared(token: str, request: Request) -> Response:
    return await service.serve_shared(request, token, query_items(request))
