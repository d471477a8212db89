from sqlalchemy import Delete, Select, delete, select

from sightline.models import Goal, Project


def select_project(project_id: str) -> Select[tuple[Project]]:
    return select(Project).where(Project.id == project_id)


def select_goals(project_id: str) -> Select[tuple[Goal]]:
    return select(Goal).where(Goal.project_id == project_id).order_by(Goal.created_at, Goal.id)


def delete_goal(project_id: str, goal_id: str) -> Delete:
    return delete(Goal).where(Goal.project_id == project_id, Goal.id == goal_id)
