from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.responses import Response

from sightline.jsonresp import json_response
from sightline.state import app_state

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Ready when the database answers. A degraded cache (Redis down or changes not yet
    re-announced) or a read replica out of rotation (lagging, unavailable) is reported but keeps
    the instance ready: requests are served from the database (the primary) meanwhile."""
    checks: dict[str, object] = {}
    try:
        async with app_state(request).engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "unavailable"
    cache = app_state(request).cache
    checks["cache"] = "ok" if await cache.ping() and not cache.degraded else "degraded"
    checks["cache_backend"] = cache.backend.name
    if replicas := app_state(request).read_router.states():
        checks["replicas"] = replicas
    ready = checks["database"] == "ok"
    status = ("ready" if checks["cache"] == "ok" else "degraded") if ready else "unavailable"
    return json_response({"status": status, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    return Response(app_state(request).metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
