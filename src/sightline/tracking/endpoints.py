"""The tracker script and the beacon route (SPEC section 8).

CORS: a preflight carries no body, so it cannot name the site; it is answered for any origin,
and the beacon itself is refused (403) when its Origin is not one of its site's allowed origins.
"""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import orjson
import structlog
from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response

from sightline.jsonresp import json_response
from sightline.problems import AppError, Forbidden, MalformedBody, NotFound
from sightline.projects.schemas import ProjectOut
from sightline.state import app_state
from sightline.tracking import service
from sightline.ingest.normalize import parse_agent
from sightline.tracking.client import TYPICAL_AGENT, client_address, is_bot
from sightline.tracking.salts import visitor_id
from sightline.tracking.schemas import BeaconIn, CollectAccepted

log = structlog.get_logger()
router = APIRouter(tags=["tracking"])

TRACKER = (Path(__file__).parent / "static" / "sightline.js").read_bytes()
TRACKER_DIGEST = hashlib.sha256(TRACKER).hexdigest()[:12]
TRACKER_PATH = f"/js/sightline.{TRACKER_DIGEST}.js"
SCRIPT_HEADERS = {"Cross-Origin-Resource-Policy": "cross-origin",
                  "X-Content-Type-Options": "nosniff", "ETag": f'"{TRACKER_DIGEST}"'}
PREFLIGHT_HEADERS = {"Access-Control-Allow-Methods": "POST",
                     "Access-Control-Allow-Headers": "Content-Type",
                     "Access-Control-Max-Age": "86400", "Vary": "Origin"}
COLLECT_BODY = {"content": {
    "text/plain": {"schema": BeaconIn.model_json_schema()},
    "application/json": {"schema": BeaconIn.model_json_schema()},
}, "required": True}


def script_response(request: Request, cache_control: str) -> Response:
    headers = {**SCRIPT_HEADERS, "Cache-Control": cache_control}
    if SCRIPT_HEADERS["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(TRACKER, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/js/sightline.js", summary="The tracker script",
            response_class=Response, responses={200: {"content": {"text/javascript": {}}}})
async def tracker_script(request: Request) -> Response:
    """Revalidated hourly: the stable address of the snippet."""
    return script_response(request, "public, max-age=3600, stale-while-revalidate=86400")


@router.get("/js/sightline.{digest}.js", include_in_schema=False)
async def tracker_script_versioned(request: Request, digest: str) -> Response:
    """The address with the content hash, cached for a year (the dashboard page uses it)."""
    if digest != TRACKER_DIGEST:
        raise NotFound("No such tracker version")
    return script_response(request, "public, max-age=31536000, immutable")


@router.options("/api/v1/collect", include_in_schema=False)
async def collect_preflight(request: Request) -> Response:
    origin = request.headers.get("origin")
    headers = {**PREFLIGHT_HEADERS, **({"Access-Control-Allow-Origin": origin} if origin else {})}
    return Response(status_code=204, headers=headers)


def cors_headers(project: ProjectOut, origin: str | None) -> dict[str, str]:
    """Allow-Origin for an allowed origin; a beacon from any other origin is refused."""
    if origin is None:
        return {}
    if project.allowed_origins and origin not in project.allowed_origins:
        raise Forbidden(f"Origin {origin} may not send events to this site")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


async def site_project(request: Request, site_id: str) -> ProjectOut:
    async def load() -> ProjectOut | None:
        async with app_state(request).sessionmaker() as db:
            try:
                return await service.find_site(db, site_id)
            except NotFound:
                return None

    project = await app_state(request).sites.get_or_load(site_id, load)
    if project is None:
        raise NotFound(f"Unknown site {site_id}")
    return project  # type: ignore[no-any-return]


@router.post(
    "/api/v1/collect", status_code=202, response_model=CollectAccepted,
    openapi_extra={"requestBody": COLLECT_BODY}, summary="A browser beacon (no key)",
    responses={400: {"description": "Malformed JSON"}, 403: {"description": "Origin not allowed"},
               404: {"description": "Unknown site"}, 413: {"description": "Too large"},
               422: {"description": "Invalid beacon"}, 429: {"description": "Rate limited"}},
)
async def collect(request: Request) -> Response:
    """Store one event from a browser; 202 once it is committed (bots: accepted 0)."""
    state = app_state(request)
    settings = state.settings
    address = client_address(request.client.host if request.client else None,
                             request.headers.get("x-forwarded-for"), settings.trusted_proxies)
    state.address_limiter.take(address.encode())
    body = await request.body()  # at most collect.max_body_bytes: the body gate counts it
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}") from None
    beacon = service.parse_beacon(payload)
    project = await site_project(request, beacon.site_id)
    cors = cors_headers(project, request.headers.get("origin"))
    try:
        state.site_limiter.take(project.site_id.encode())
        user_agent = request.headers.get("user-agent", "")
        if is_bot(user_agent):
            return json_response({"accepted": 0}, status_code=202, headers=cors)
        received_at = datetime.now(UTC)
        salt = await state.salts.of(received_at.date())
        event = service.to_event(beacon, visitor_id(salt, project.site_id, address, user_agent),
                                 state.countries(address), user_agent, received_at)
        await state.group_commit.store(project, event)
    except AppError as exc:
        exc.headers.update(cors)
        raise
    return json_response({"accepted": 1}, status_code=202, headers=cors)


def warm_up() -> None:
    """Compile the bot and user-agent pattern sets now (seconds of CPU, once per process), not
    while the first beacons wait."""
    is_bot.__wrapped__(TYPICAL_AGENT)
    parse_agent.__wrapped__(TYPICAL_AGENT)


async def ensure_builtin_site(sessionmaker: async_sessionmaker[AsyncSession]) -> str | None:
    """Create the built-in "Sightline" project if missing; its site id, or None when the
    database cannot be reached now (the page then runs without the tracker)."""
    for _ in range(2):  # another server process may create it at the same moment
        try:
            async with sessionmaker() as db:
                project = await service.ensure_builtin_project(db)
                await db.commit()
            return project.site_id
        except IntegrityError:
            continue
        except Exception as exc:  # noqa: BLE001 - the server starts without it
            log.warning("tracking.builtin_project_unavailable", error=type(exc).__name__)
            return None
    return None
