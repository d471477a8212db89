"""The dashboard page: one HTML page and its static files, reading the public stats API.

The page holds no data and no secret: its script reads the project from the address and the
read key from the address fragment (`#key=`, never sent to a server) or a small form, keeps the
key in the tab's sessionStorage and calls `/api/v1/projects/{project}/...` with it as a Bearer
token, like any other API client. `/share/{token}` is the same page, read-only, showing one
shared dashboard from `/api/v1/shared/{token}` without a key.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from sightline.dashboards import service as dashboards
from sightline.db import DbSession
from sightline.problems import NotFound
from sightline.state import app_state
from sightline.tracking.endpoints import TRACKER_PATH

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# A share page's address is its token, so no request may send it on as a Referer; the page runs
# only its own script and style and talks only to this server.
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["web"])
router.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


@router.get("/", include_in_schema=False)
async def dashboard_page(request: Request) -> Response:
    """The web dashboard (`/?project=p_...#key=sl_read_...`); it measures its own speed with the
    tracker, in the built-in "Sightline" project (unless self_tracking is off)."""
    context = {"version": request.app.version, "mode": "project",
               "tracker_site": app_state(request).builtin_site, "tracker_src": TRACKER_PATH}
    return templates.TemplateResponse(request, "dashboard.html", context, headers=PAGE_HEADERS)


@router.get("/share/{token}", include_in_schema=False)
async def share_page(token: str, request: Request, db: DbSession) -> Response:
    """A shared dashboard, read-only; an unknown, revoked or expired link is a 404 page."""
    try:
        await dashboards.find_share(db, token)
        mode, status = "share", 200
    except NotFound:
        mode, status = "gone", 404
    return templates.TemplateResponse(request, "dashboard.html",
                                      {"version": request.app.version, "mode": mode},
                                      status_code=status, headers=PAGE_HEADERS)
