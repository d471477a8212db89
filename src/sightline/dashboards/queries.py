"""Statements for dashboards, widgets and share tokens, all scoped by project."""

from sqlalchemy import Delete, Select, Update, delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from sightline.models import Dashboard, ShareToken


def select_dashboards(project_id: str) -> Select[tuple[Dashboard]]:
    """Every dashboard of a project with its widgets: two statements however many there are."""
    return (select(Dashboard).where(Dashboard.project_id == project_id)
            .options(selectinload(Dashboard.widgets))
            .order_by(Dashboard.created_at, Dashboard.id))


def select_dashboard(project_id: str, dashboard_id: str) -> Select[tuple[Dashboard]]:
    return select_dashboards(project_id).where(Dashboard.id == dashboard_id)


def select_dashboards_by_id(project_id: str, dashboard_ids: list[str]) -> Select[tuple[Dashboard]]:
    return select_dashboards(project_id).where(Dashboard.id.in_(dashboard_ids))


def delete_dashboard(project_id: str, dashboard_id: str) -> Delete:
    return delete(Dashboard).where(Dashboard.project_id == project_id,
                                   Dashboard.id == dashboard_id)


def select_dashboard_exists(project_id: str, dashboard_id: str) -> Select[tuple[str]]:
    return select(Dashboard.id).where(Dashboard.project_id == project_id,
                                      Dashboard.id == dashboard_id)


def select_shares(project_id: str, dashboard_id: str) -> Select[tuple[ShareToken]]:
    return (select(ShareToken)
            .where(ShareToken.project_id == project_id, ShareToken.dashboard_id == dashboard_id)
            .order_by(ShareToken.created_at, ShareToken.id))


def select_active_share(token_hash: bytes) -> Select[tuple[str, str]]:
    """The (project, dashboard) an unrevoked, unexpired token opens; like API keys, found by
    hash alone."""
    return select(ShareToken.project_id, ShareToken.dashboard_id).where(
        ShareToken.token_hash == token_hash, ShareToken.revoked_at.is_(None),
        or_(ShareToken.expires_at.is_(None), ShareToken.expires_at > func.clock_timestamp()))


def revoke_share(project_id: str, dashboard_id: str, share_id: str) -> Update:
    return (update(ShareToken)
            .where(ShareToken.project_id == project_id, ShareToken.dashboard_id == dashboard_id,
                   ShareToken.id == share_id)
            .values(revoked_at=func.coalesce(ShareToken.revoked_at, func.clock_timestamp())))
