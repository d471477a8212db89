from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from sightline.auth.deps import IngestKey
from sightline.db import DbSession
from sightline.ingest import service
from sightline.ingest.deps import IngestTurn
from sightline.ingest.schemas import EventIn, IngestAccepted
from sightline.jsonresp import json_response
from sightline.projects import service as projects
from sightline.problems import MalformedBody
from sightline.state import app_state

router = APIRouter(prefix="/api/v1", tags=["ingest"])

BATCH_BODY = {
    "content": {"application/json": {"schema": {
        "oneOf": [
            {"type": "array", "items": EventIn.model_json_schema()},
            {"type": "object", "properties": {
                "events": {"type": "array", "items": EventIn.model_json_schema()}}},
        ]
    }}},
    "required": True,
}


@router.post(
    "/events", status_code=202, response_model=IngestAccepted,
    openapi_extra={"requestBody": BATCH_BODY},
    responses={400: {"description": "Malformed JSON"}, 401: {"description": "No key"},
               403: {"description": "Wrong scope"}, 413: {"description": "Too large"},
               422: {"description": "Invalid events; nothing stored"},
               429: {"description": "Too many batches of this project waiting"}},
)
async def ingest_events(request: Request, key: IngestKey, turn: IngestTurn,
                        db: DbSession) -> Response:
    settings = app_state(request).settings.ingest
    body = await request.body()  # at most max_body_bytes: the body gate counts it (app.py)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}") from None
    now = datetime.now(UTC)
    batch = service.unwrap_batch(payload, settings.max_events)
    events = service.validate_batch(batch, now, settings.future_tolerance)
    project = await projects.cached_project(request, key.project_id)
    await turn.take()  # held until the request's transaction is committed
    result = await service.store_events(db, project, events, now, settings.session_timeout)
    return json_response(
        {"accepted": result.accepted, "duplicates": result.duplicates}, status_code=202
    )
