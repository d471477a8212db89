from fastapi import APIRouter, Response

from sightline.auth.deps import AdminKey, ReadKey
from sightline.db import DbSession
from sightline.projects import service
from sightline.projects.schemas import GoalCreate, GoalOut, ProjectOut

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["projects"])
PROBLEMS = {401: {"description": "No or unknown key"}, 403: {"description": "Wrong scope"},
            404: {"description": "Not found"}}


@router.get("", response_model=ProjectOut, responses=PROBLEMS)
async def get_project(project_id: str, key: ReadKey, db: DbSession) -> ProjectOut:
    return await service.get_project(db, key.project_id)


@router.get("/goals", response_model=list[GoalOut], responses=PROBLEMS)
async def list_goals(project_id: str, key: ReadKey, db: DbSession) -> list[GoalOut]:
    return await service.list_goals(db, key.project_id)


@router.post("/goals", response_model=GoalOut, status_code=201,
             responses={**PROBLEMS, 422: {"description": "Invalid goal"}})
async def create_goal(project_id: str, goal: GoalCreate, key: AdminKey,
                      db: DbSession) -> GoalOut:
    return await service.create_goal(db, key.project_id, goal)


@router.delete("/goals/{goal_id}", status_code=204, responses=PROBLEMS)
async def delete_goal(project_id: str, goal_id: str, key: AdminKey, db: DbSession) -> Response:
    await service.delete_goal(db, key.project_id, goal_id)
    return Response(status_code=204)
