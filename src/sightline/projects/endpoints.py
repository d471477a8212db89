from typing import Any

from fastapi import APIRouter, Response

from sightline.auth.deps import AdminKey, InstanceAdmin, ProjectAdminKey, ProjectReadKey, ReadKey
from sightline.db import DbSession
from sightline.projects import service
from sightline.projects.schemas import (
    GoalCreate, GoalOut, ProjectCreate, ProjectCreated, ProjectListed, ProjectOut, ProjectUpdate,
)

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["projects"])
instance_router = APIRouter(prefix="/api/v1/projects", tags=["projects"],
                            dependencies=[InstanceAdmin])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or unknown key"}, 403: {"description": "Wrong scope"},
    404: {"description": "Not found"}}
INSTANCE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No admin token, or a wrong one"},
    403: {"description": "A project key (these routes need SIGHTLINE_ADMIN_TOKEN)"},
    422: {"description": "Invalid body (e.g. an unknown time zone)"}}


@instance_router.post("", response_model=ProjectCreated, status_code=201,
                      responses=INSTANCE_PROBLEMS,
                      summary="Create a project (instance admin token); its keys are shown once")
async def create_project(body: ProjectCreate, db: DbSession) -> ProjectCreated:
    return await service.create_project(db, body.name, body.timezone,
                                        list(dict.fromkeys(body.allowed_origins)))


@instance_router.get("", response_model=list[ProjectListed], responses=INSTANCE_PROBLEMS,
                     summary="Every project (instance admin token)")
async def list_projects(db: DbSession) -> list[ProjectListed]:
    return await service.list_projects(db)


@router.get("", response_model=ProjectOut, responses=PROBLEMS,
            summary="A project (its read or admin key, or the instance admin token)")
async def get_project(project_id: str, key: ProjectReadKey, db: DbSession) -> ProjectOut:
    return await service.get_project(db, key.project_id)


@router.patch("", response_model=ProjectOut,
              responses={**PROBLEMS, 422: {"description": "Invalid body"}},
              summary="Rename a project or change its time zone (admin key or instance token)")
async def update_project(project_id: str, body: ProjectUpdate, key: ProjectAdminKey,
                         db: DbSession) -> ProjectOut:
    return await service.update_project(db, key.project_id, body)


@router.delete("", status_code=204, responses=PROBLEMS, dependencies=[InstanceAdmin],
               summary="Delete a project with all its data and cached results "
                       "(instance admin token)")
async def delete_project(project_id: str, db: DbSession) -> Response:
    await service.delete_project(db, project_id)
    return Response(status_code=204)


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
