"""The dashboard page: one HTML page and its static files, reading the public stats API.

The page holds no data and no secret: its script reads `project` and `key` from the address,
keeps them in memory and calls `/api/v1/projects/{project}/stats/...` with the key as a Bearer
token, like any other API client.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# The address carries the read key, so no request may send it on as a Referer; the page runs
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
    """The web dashboard (`/?project=p_...&key=sl_read_...`)."""
    return templates.TemplateResponse(request, "dashboard.html",
                                      {"version": request.app.version}, headers=PAGE_HEADERS)
