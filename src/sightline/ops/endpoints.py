from fastapi import APIRouter, Request
from starlette.responses import Response

from sightline.jsonresp import json_response
from sqlalchemy import text

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "unavailable"
    ready = checks["database"] == "ok"
    return json_response({"status": "ready" if ready else "unavailable", "checks": checks},
                          status_code=200 if ready else 503)
