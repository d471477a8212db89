"""POST /api/v1/hooks/invalidate: an outside change to a project's data, signed like Standard
Webhooks (SPEC section 6)."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.responses import Response

from sightline.cache import queries, stamps
from sightline.db import DbSession
from sightline.jsonresp import json_response
from sightline.problems import (
    BodyInvalid, InvalidParameter, MalformedBody, NotFound, Unauthorized,
)
from sightline.projects import service as projects
from sightline.rollups import service as rollups
from sightline.state import app_state
from sightline.stats.periods import EARLIEST, LATEST, in_bounds, instant_range

router = APIRouter(prefix="/api/v1/hooks", tags=["cache"])
MAX_BODY = 64_000
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_WEBHOOK_ID = 200


class InvalidateIn(BaseModel):
    project_id: str
    date_from: date | None = None
    date_to: date | None = None


def verified_headers(request: Request) -> None:
    """Before the body is read: webhooks are configured and the request is signed. Without a
    secret the route does not exist on this instance (404, not a 5xx: nothing is failing)."""
    if not app_state(request).settings.webhook_secret.get_secret_value():
        raise NotFound("Webhooks are not configured on this instance (SIGHTLINE_WEBHOOK_SECRET)")
    missing = [name for name in SIGNATURE_HEADERS if not request.headers.get(name)]
    if missing:
        raise Unauthorized(f"Missing webhook signature headers: {', '.join(missing)}")
    if len(request.headers["webhook-id"]) > MAX_WEBHOOK_ID:
        raise Unauthorized(f"webhook-id is longer than {MAX_WEBHOOK_ID} characters")


def verified_body(request: Request, body: bytes) -> bytes:
    secret = app_state(request).settings.webhook_secret.get_secret_value()
    try:
        Webhook(secret).verify(body, dict(request.headers), json_parse=False)
    except (WebhookVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized(f"Invalid webhook signature: {exc}") from None
    return body


def parse(body: bytes) -> InvalidateIn:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody("The body is not valid JSON") from None
    try:
        change = InvalidateIn.model_validate(payload)
    except ValidationError as exc:
        raise BodyInvalid([{"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                           for e in exc.errors(include_url=False)]) from None
    for name in ("date_from", "date_to"):
        day = getattr(change, name)
        if day is not None and not in_bounds(day):
            raise InvalidParameter(name, f"{name} must be between {EARLIEST} and {LATEST}")
    if change.date_from and change.date_to and change.date_from > change.date_to:
        raise InvalidParameter("date_from", "date_from must not be after date_to")
    return change


@router.post(
    "/invalidate", status_code=202,
    responses={400: {"description": "Malformed body"}, 401: {"description": "Bad signature"},
               413: {"description": "Body over 64 KB"}, 404: {"description": "Unknown project"}, 422: {"description": "Invalid body"}},
)
async def invalidate(request: Request, db: DbSession) -> Response:
    verified_headers(request)
    body = await request.body()  # at most MAX_BODY: the body gate counts it (app.py)
    change = parse(verified_body(request, body))
    project = await projects.get_project(db, change.project_id)
    first_time = (await db.execute(queries.insert_delivery(request.headers["webhook-id"]))).first()
    await db.execute(queries.delete_old_deliveries())
    if first_time is not None:
        span = (instant_range(change.date_from, change.date_to, ZoneInfo(project.timezone))
                if change.date_from and change.date_to else None)
        await rollups.mark_changed(db, project.id, project.timezone, span)
        if span is not None:
            stamps.data_changed(db, project.id, span[0], span[1] - timedelta(microseconds=1))
        else:
            stamps.project_changed(db, project.id)
    return json_response({"status": "accepted", "replayed": first_time is None}, status_code=202)
