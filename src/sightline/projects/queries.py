from sqlalchemy import Delete, Select, delete, select

from sightline.db import Base
from sightline.models import Goal, Project


def select_project(project_id: str) -> Select[tuple[Project]]:
    return select(Project).where(Project.id == project_id)


def select_projects() -> Select[tuple[Project]]:
    return select(Project).order_by(Project.created_at, Project.id)


def select_goals(project_id: str) -> Select[tuple[Goal]]:
    return select(Goal).where(Goal.project_id == project_id).order_by(Goal.created_at, Goal.id)


def delete_goal(project_id: str, goal_id: str) -> Delete:
    return delete(Goal).where(Goal.project_id == project_id, Goal.id == goal_id)


def delete_project_data(project_id: str) -> list[Delete]:
    """Every row of the project, table by table (dependents first), the project row last: every
    table is keyed by project_id, so a table added later is covered without a change here."""
    tables = [t for t in reversed(Base.metadata.sorted_tables)
              if "project_id" in t.c and t.name != Project.__tablename__]
    return [*(delete(t).where(t.c.project_id == project_id) for t in tables),
            delete(Project).where(Project.id == project_id)]

