"""A website on another origin loads the tracker in real Chromium; the stats API and the
dashboard page then show what the browser did (SPEC section 8)."""

import asyncio
import threading
from string import Template
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, expect
from sqlalchemy import text

from sightline.projects.service import create_project
from tests.factories import auth
from tests.services import free_port

PAGE = Template("""<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<script>
  window.sightline = window.sightline || function () {
    (window.sightline.q = window.sightline.q || []).push(arguments); };
  sightline("Queued before load");
</script>
<script defer data-site="$site" data-vitals src="$server/js/sightline.js"></script>
</head><body>
<h1 id="title">$title</h1>
<button id="pricing" onclick="history.pushState({}, '', '/pricing');
  document.getElementById('title').textContent = 'Pricing'">Pricing</button>
<button id="signup" onclick="sightline('Signup', {props: {plan: 'pro'}, revenue: 12.5})">
  Sign up</button>
<a id="leave" href="/contact">Contact</a>
</body></html>""")


class Site:
    """A static website on its own origin, serving every path with the snippet."""

    def __init__(self, server: str, site_id: str, port: int):
        self.port = port
        self.origin = f"http://127.0.0.1:{self.port}"
        page = PAGE

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = page.substitute(site=site_id, server=server, title=self.path).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def shop_origin() -> Iterator[dict[str, Any]]:
    holder: dict[str, Any] = {}
    yield holder
    if "site" in holder:
        holder["site"].close()


async def stats(server: str, project: Any, report: str) -> Any:
    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.get(
            f"/api/v1/projects/{project.id}/stats/{report}"
            + ("" if "?" in report else "?period=today"),
            headers={**auth(project.keys.read), "Cache-Control": "no-cache"})
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def eventually(check: Any, timeout: float = 30) -> Any:
    """Beacons are sent in the background: poll until `check()` returns a true value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.25)


async def builtin_events(db: Any, name: str) -> int:
    row = await db.execute(text(
        "SELECT count(*) FROM event e JOIN project p ON p.id = e.project_id "
        "WHERE p.site_id = 'sightline' AND e.name = :name"), {"name": name})
    return int(row.scalar_one())


async def test_a_tracked_site_shows_in_the_stats_and_the_dashboard(
        server_url, context: BrowserContext, db, shop_origin):
    port = free_port()
    project = await create_project(db, "Shop", allowed_origins=[f"http://127.0.0.1:{port}"])
    await db.commit()
    site = shop_origin["site"] = Site(server_url, project.site_id, port)
    assert site.origin != server_url  # another origin: the beacons are cross-origin
    page = await context.new_page()

    await page.goto(site.origin + "/")
    await page.wait_for_function("window.sightline && window.sightline.loaded")
    await page.click("#pricing")  # History API navigation
    await expect(page.locator("#title")).to_have_text("Pricing")
    await page.click("#signup")  # custom event with properties and revenue
    await page.click("#leave")  # a full navigation: the first page sends its web vitals
    await page.wait_for_url(site.origin + "/contact")

    async def pages() -> Any:
        rows = await stats(server_url, project, "pages")
        return rows if len(rows) == 3 else None

    rows = await eventually(pages)
    assert sorted((r["page"], r["pageviews"]) for r in rows or []) == [
        ("/", 1), ("/contact", 1), ("/pricing", 1)]

    async def events() -> Any:
        rows = {r["event"]: r["events"] for r in await stats(server_url, project, "events")}
        return rows if "web_vitals" in rows else None

    assert await eventually(events) == {"Signup": 1, "Queued before load": 2, "web_vitals": 1}
    ttfb = await stats(server_url, project, "vitals?metric=ttfb&period=today")
    assert [(r["page"], r["samples"]) for r in ttfb] == [("/", 1)]
    assert ttfb[0]["p50"] >= 0
    assert (await stats(server_url, project, "revenue"))["revenue"] == 12.5
    assert [r["value"] for r in await stats(server_url, project, "properties/plan")] == ["pro"]
    assert [(r["device"], r["visitors"]) for r in await stats(server_url, project, "devices")] == [
        ("desktop", 1)]
    assert [r["browser"] for r in await stats(server_url, project, "browsers")] == ["Chrome"]
    assert [r["os"] for r in await stats(server_url, project, "os")] == ["Linux"]
    assert (await stats(server_url, project, "overview"))["visits"]["value"] == 1

    # The dashboard page, in the same browser, renders those numbers; it measures itself too.
    views_before = await builtin_events(db, "pageview")
    await page.goto(f"{server_url}/?project={project.id}&period=today#key={project.keys.read}")
    for shown in ("/pricing", "/contact", "Signup", "Chrome"):
        await expect(page.get_by_text(shown, exact=True).first).to_be_visible(timeout=20_000)

    async def dashboard_view_recorded() -> bool:
        return await builtin_events(db, "pageview") > views_before

    assert await eventually(dashboard_view_recorded)
    vitals_before = await builtin_events(db, "web_vitals")
    await page.goto(site.origin + "/contact")  # leaving the dashboard sends its web vitals

    async def dashboard_vitals_recorded() -> bool:
        return await builtin_events(db, "web_vitals") > vitals_before

    assert await eventually(dashboard_vitals_recorded)
    await page.close()
