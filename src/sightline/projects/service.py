"""Projects, their keys and their goals."""

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from sightline.cache import stamps
from sightline.auth.keys import Scope
from sightline.auth.service import new_key
from sightline.ids import new_id
from sightline.models import Goal, Project
from sightline.problems import NotFound
from sightline.projects import queries
from sightline.projects.schemas import (
    GoalCreate, GoalOut, ProjectCreated, ProjectKeys, ProjectListed, ProjectOut, ProjectUpdate,
)
from sightline.rollups import service as rollups
from sightline.state import app_state


async def create_project(db: AsyncSession, name: str, timezone: str = "UTC",
                         allowed_origins: list[str] | None = None,
                         site_id: str | None = None) -> ProjectCreated:
    """A project with its three keys; `allowed_origins` must be normalized (ProjectCreate)."""
    project = Project(id=new_id("p"), name=name, timezone=timezone,
                      site_id=site_id or new_id("s"), allowed_origins=allowed_origins or [])
    db.add(project)
    await db.flush()
    made = {scope: new_key(project.id, scope, f"{scope.value} key") for scope in Scope}
    db.add_all(row for row, _ in made.values())
    await db.flush()
    keys = {scope: secret for scope, (_, secret) in made.items()}
    return ProjectCreated(
        id=project.id, name=name, timezone=timezone, site_id=project.site_id,
        keys=ProjectKeys(admin=keys[Scope.ADMIN], read=keys[Scope.READ], ingest=keys[Scope.INGEST]),
    )


async def load_project(db: AsyncSession, project_id: str) -> Project:
    project = (await db.execute(queries.select_project(project_id))).scalar_one_or_none()
    if project is None:
        raise NotFound(f"Project {project_id} not found")
    return project


async def get_project(db: AsyncSession, project_id: str) -> ProjectOut:
    return project_out(await load_project(db, project_id))


def project_out(project: Project) -> ProjectOut:
    return ProjectOut(id=project.id, name=project.name, timezone=project.timezone,
                      site_id=project.site_id, allowed_origins=project.allowed_origins)


async def list_projects(db: AsyncSession) -> list[ProjectListed]:
    projects = (await db.execute(queries.select_projects())).scalars()
    return [ProjectListed(**project_out(p).model_dump(), created_at=p.created_at)
            for p in projects]


async def update_project(db: AsyncSession, project_id: str, body: ProjectUpdate) -> ProjectOut:
    """Rename or move the project to another time zone (its rollups are then built again)."""
    project = await load_project(db, project_id)
    if body.name is not None:
        project.name = body.name
    if body.timezone is not None and body.timezone != project.timezone:
        project.timezone = body.timezone
        await rollups.rebuild_in_zone(db, project_id, body.timezone)
    await db.flush()
    stamps.project_edited(db, project_id)
    return project_out(project)


async def delete_project(db: AsyncSession, project_id: str) -> None:
    """Delete the project and every row of it (events, sessions, rollups, keys, dashboards…)."""
    await load_project(db, project_id)
    for statement in queries.delete_project_data(project_id):
        await db.execute(statement)
    stamps.project_deleted(db, project_id)


async def cached_project(request: Request, project_id: str) -> ProjectOut:
    """The project, from a short in-process cache; a miss uses a short-lived session so the
    caller holds no pooled connection while it waits on other work."""
    state = app_state(request)

    async def load() -> ProjectOut:
        async with state.sessionmaker() as db:
            return await get_project(db, project_id)

    return await state.project_cache.get_or_load(project_id, load)


async def load_goals(db: AsyncSession, project_id: str) -> list[Goal]:
    return list((await db.execute(queries.select_goals(project_id))).scalars())


async def list_goals(db: AsyncSession, project_id: str) -> list[GoalOut]:
    goals = await load_goals(db, project_id)
    return [GoalOut(id=g.id, name=g.name, event=g.event, page=g.page) for g in goals]


async def create_goal(db: AsyncSession, project_id: str, goal: GoalCreate) -> GoalOut:
    row = Goal(project_id=project_id, id=new_id("g"), name=goal.name, event=goal.event,
               page=goal.page)
    db.add(row)
    await db.flush()
    stamps.project_changed(db, project_id)  # cached goal results
    return GoalOut(id=row.id, name=row.name, event=row.event, page=row.page)


async def delete_goal(db: AsyncSession, project_id: str, goal_id: str) -> None:
    result = await db.execute(queries.delete_goal(project_id, goal_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"Goal {goal_id} not found")
    stamps.project_changed(db, project_id)
