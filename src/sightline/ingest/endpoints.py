import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from sightline.auth.deps import IngestKey
from sightline.db import DbSession
from sightline.ingest import service
from sightline.ingest.deps import IngestTurn
from sightline.ingest.schemas import EventIn, IngestAccepted
from sightline.jsonresp import json_response
from sightline.projects import service as projects
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
    now = datetime.now(UTC)
    # parsing, validating and deriving device/browser/os of up to 10,000 events is CPU work:
    # done in a thread, the event loop keeps serving other requests meanwhile
    batch = await asyncio.to_thread(service.read_batch, body, now, settings)
    project = await projects.cached_project(request, key.project_id)
    await turn.take()  # held until the request's transaction is committed
    result = await service.store_events(db, project, batch, settings.session_timeout)
    return json_response(
        {"accepted": result.accepted, "duplicates": result.duplicates}, status_code=202
    )
