from typing import Annotated

from fastapi import APIRouter, Path, Request

from sightline.auth.deps import ReadKey
from sightline.db import DbSession
from sightline.reports import service
from sightline.reports.schemas import ReportCreate, ReportOut
from sightline.state import app_state

router = APIRouter(prefix="/api/v1/projects/{project_id}/reports", tags=["reports"])
PROBLEMS = {400: {"description": "Invalid query"}, 401: {"description": "No key"},
            403: {"description": "Wrong scope"}, 404: {"description": "Not found"},
            429: {"description": "Too many pending reports for this project"}}
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a bigint: larger ids cannot exist


@router.post("", status_code=202, response_model=ReportOut, responses=PROBLEMS)
async def request_report(project_id: str, body: ReportCreate, request: Request, key: ReadKey,
                         db: DbSession) -> ReportOut:
    pending_limit = app_state(request).settings.worker.pending_reports
    return await service.request_report(db, key.project_id, body, pending_limit)


@router.get("/{report_id}", response_model=ReportOut, responses=PROBLEMS)
async def get_report(project_id: str, report_id: ReportId, key: ReadKey,
                     db: DbSession) -> ReportOut:
    return await service.get_report(db, key.project_id, report_id)
