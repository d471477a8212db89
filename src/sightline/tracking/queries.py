"""Statements of browser ingest: daily salts and the project behind a site id."""

from datetime import date, timedelta

from sqlalchemy import Delete, Select, delete, select
from sqlalchemy.dialects.postgresql import Insert, insert

from sightline.models import Project, Salt

SALT_DAYS_KEPT = 2


def insert_salt(day: date, secret: bytes) -> Insert:
    """Today's salt, unless another process made it first."""
    return insert(Salt).values(day=day, secret=secret).on_conflict_do_nothing(
        index_elements=[Salt.day])


def select_salt(day: date) -> Select[tuple[bytes]]:
    return select(Salt.secret).where(Salt.day == day)


def delete_old_salts(today: date) -> Delete:
    """Salts older than two days: their visitor ids can never be linked to a visitor again."""
    return delete(Salt).where(Salt.day <= today - timedelta(days=SALT_DAYS_KEPT))


def select_project_by_site(site_id: str) -> Select[tuple[Project]]:
    return select(Project).where(Project.site_id == site_id)
