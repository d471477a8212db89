"""From a beacon to an event of the ingest contract (SPEC sections 3 and 8)."""

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from sightline.ingest.schemas import UTM_FIELDS, EventIn
from sightline.problems import BodyInvalid, NotFound
from sightline.projects import service as projects
from sightline.projects.schemas import ProjectOut
from sightline.tracking import queries
from sightline.tracking.schemas import BeaconIn

BUILTIN_SITE_ID = "sightline"
FIELD_NAMES = {"properties": "props", "path": "url"}


def beacon_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"field": ".".join(FIELD_NAMES.get(str(p), str(p)) for p in e["loc"]) or None,
             "message": e["msg"]} for e in exc.errors(include_url=False)]


def parse_beacon(payload: Any) -> BeaconIn:
    try:
        return BeaconIn.model_validate(payload)
    except ValidationError as exc:
        raise BodyInvalid(beacon_errors(exc)) from None


def external_referrer(referrer: str | None, page_host: str | None) -> str | None:
    """document.referrer unless it is empty, not a web address, or this site itself."""
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return None if parts.hostname == page_host else referrer


def to_event(beacon: BeaconIn, visitor_id: str, country: str | None, user_agent: str,
             received_at: datetime) -> EventIn:
    page = urlsplit(beacon.url)
    utm = {}
    for name, value in parse_qsl(page.query):
        if name in UTM_FIELDS and name not in utm and value:
            utm[name] = value[:256]
    fields = {
        "name": beacon.name, "visitor_id": visitor_id, "path": page.path or "/",
        "referrer": external_referrer(beacon.referrer, page.hostname), "country": country,
        "user_agent": user_agent[:1024], "revenue": beacon.revenue, "properties": beacon.props,
        **utm,
    }
    try:
        event = EventIn.model_validate(fields)
    except ValidationError as exc:
        raise BodyInvalid(beacon_errors(exc)) from None
    return event.model_copy(update={"timestamp": received_at})


async def find_site(db: AsyncSession, site_id: str) -> ProjectOut:
    project = (await db.execute(queries.select_project_by_site(site_id))).scalar_one_or_none()
    if project is None:
        raise NotFound(f"Unknown site {site_id}")
    return projects.project_out(project)


async def ensure_builtin_project(db: AsyncSession) -> ProjectOut:
    """The "Sightline" project in which the dashboard page measures itself."""
    try:
        return await find_site(db, BUILTIN_SITE_ID)
    except NotFound:
        await projects.create_project(db, "Sightline", site_id=BUILTIN_SITE_ID)
        return await find_site(db, BUILTIN_SITE_ID)
