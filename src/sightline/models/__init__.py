"""Every table, importable from one place so Alembic sees them all."""

from sightline.models.api_key import ApiKey
from sightline.models.dashboard import Dashboard, ShareToken, Widget
from sightline.models.event import Event
from sightline.models.goal import Goal
from sightline.models.job import Job, JobTurn
from sightline.models.project import Project
from sightline.models.rollup import RollupDay, RollupState, Visitor
from sightline.models.salt import Salt
from sightline.models.session import Session
from sightline.models.webhook import WebhookDelivery

__all__ = [
    "ApiKey", "Dashboard", "Event", "Goal", "Job", "JobTurn", "Project", "RollupDay", "RollupState",
    "Salt", "Session", "ShareToken", "Visitor", "WebhookDelivery", "Widget",
]
