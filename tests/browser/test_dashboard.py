"""The dashboard page and a share page in real Chromium against a real `sightline serve`:
the key comes from the address fragment and leaves the address, a click on a row filters the
page, a period changes it, and what the page shows is what the API answers. Screenshots go to
$SIGHTLINE_SCREENSHOTS (`make screenshots` writes docs/dashboard.png and docs/share.png)."""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy import update

from sightline.models import ShareToken
from sightline.projects.service import create_project
from sightline.seed.service import seed_project
from tests.factories import auth

ZONE = "Europe/Berlin"


def screenshot_path(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("SIGHTLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.fixture
async def seeded(db):
    project = await create_project(db, "Browser shop", ZONE)
    await db.commit()
    await seed_project(db, project.id, 6000, 60, 7)  # two 30-day periods to compare
    await db.commit()
    return project


async def api(server: str, key: str, path: str, **params: str):
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        response = await http.get(path, params=params, headers=auth(key))
        assert response.status_code == 200, response.text
        return response.json()


async def kpi(page: Page, label: str) -> str:
    card = page.locator(".kpi", has=page.locator(".kpi-label", has_text=label)).first
    return (await card.locator(".kpi-value").get_attribute("title")) or ""


async def settled(page: Page) -> None:
    """Every request of the last change answered (the page's CSP forbids wait_for_function)."""
    await expect(page.locator("body")).not_to_have_class(re.compile("loading"), timeout=30_000)


async def test_dashboard_key_filter_and_period(server_url, context: BrowserContext, seeded,
                                               tmp_path):
    project = seeded
    stats = f"/api/v1/projects/{project.id}/stats"
    page = await context.new_page()
    await page.goto(f"{server_url}/?project={project.id}#key={project.keys.read}")
    await expect(page.locator("#list-countries tbody tr.row").first).to_be_visible(timeout=30_000)
    await settled(page)
    assert "key" not in page.url and "#" not in page.url
    assert await page.evaluate(f"sessionStorage.getItem('sightline.key.{project.id}')") == \
        project.keys.read
    await expect(page.locator("#project-name")).to_have_text("Browser shop")
    overview = (await api(server_url, project.keys.read, f"{stats}/overview", period="30d"))
    assert await kpi(page, "Unique visitors") == str(overview["results"]["visitors"]["value"])

    first = page.locator("#list-countries tbody tr.row").first
    country = await first.locator("button").get_attribute("title")
    code = (await api(server_url, project.keys.read, f"{stats}/countries", period="30d",
                      limit="1"))["results"][0]["country"]
    await first.click()
    await expect(page.locator("#filter-chips li")).to_have_count(1)
    assert f"country%3D%3D{code}" in page.url or f"country=={code}" in page.url, (country, page.url)
    await page.locator("#periods label", has_text="7 days").click()
    await expect(page).to_have_url(re.compile(r"period=7d"))
    await settled(page)
    filtered = await api(server_url, project.keys.read, f"{stats}/overview", period="7d",
                         filters=f"country=={code}")
    await expect(page.locator(".kpi", has_text="Unique visitors").locator(".kpi-value")) \
        .to_have_attribute("title", str(filtered["results"]["visitors"]["value"]))
    await page.locator("#filter-chips button").click()
    await expect(page.locator("#filter-chips li")).to_have_count(0)

    hour_before = datetime.now(ZoneInfo(ZONE)).hour
    await page.locator("#periods label", has_text="Today").click()
    await settled(page)
    await expect(page.locator("#chart svg")).to_be_visible()
    hours = await page.locator("#chart .hover rect").count()
    hour_after = datetime.now(ZoneInfo(ZONE)).hour  # (the hour may turn meanwhile)
    assert hours - 1 in (hour_before, hour_after)  # no future hours drawn as zeros

    await page.locator("#periods label", has_text="30 days").click()
    await settled(page)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(path=screenshot_path(tmp_path, "dashboard.png"), full_page=True)

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()  # the key stays in this tab's sessionStorage
    await expect(page.locator("#list-pages tbody tr.row").first).to_be_visible(timeout=30_000)
    await settled(page)
    overflow = await page.evaluate("""() => [...document.querySelectorAll('.kpi')].some(
        (card) => card.scrollWidth > card.clientWidth + 1
          || card.getBoundingClientRect().right > window.innerWidth)""")
    assert overflow is False


async def test_login_form_keeps_the_key_out_of_the_address(server_url, context, seeded):
    page = await context.new_page()
    await page.goto(f"{server_url}/?key={seeded.keys.read}&project={seeded.id}")
    assert "key=" not in page.url  # a key in the query string is never used, only removed
    await expect(page.locator("#login")).to_be_visible()
    await page.fill("#login-key", seeded.keys.read)
    await page.click("#login button")
    await expect(page.locator("#project-name")).to_have_text("Browser shop", timeout=30_000)
    assert "key" not in page.url


async def test_share_page_is_read_only_and_expires(server_url, context, seeded, db, tmp_path):
    project = seeded
    widgets = [{"title": "Key figures", "query": {"report": "overview",
                                                  "compare": "previous_period"}},
               {"title": "Visitors", "query": {"report": "timeseries",
                                               "metrics": "visitors,pageviews"}},
               {"title": "Top pages", "query": {"report": "pages", "limit": 6}},
               {"title": "Signup funnel", "query": {"report": "funnel",
                                                    "step": ["page:/", "page:/pricing"]}}]
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        made = await http.post(f"/api/v1/projects/{project.id}/dashboards",
                               json={"name": "Weekly review", "widgets": widgets},
                               headers=auth(project.keys.admin))
        assert made.status_code == 201, made.text
        shared = (await http.post(
            f"/api/v1/projects/{project.id}/dashboards/{made.json()['id']}/shares",
            json={"expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat()},
            headers=auth(project.keys.admin))).json()

    page = await context.new_page()
    await page.goto(server_url + shared["page_url"])
    await expect(page.locator("#widgets section")).to_have_count(4, timeout=30_000)
    await settled(page)
    await expect(page.locator("#saved-name")).to_have_text("Weekly review")
    await expect(page.locator("#realtime")).to_be_hidden()
    data = (await api(server_url, project.keys.read, shared["url"], period="30d"))
    visitors = data["widgets"][0]["data"]["results"]["visitors"]["value"]
    figures = page.locator("[data-widget] .kpi", has_text="Unique visitors").locator(".kpi-value")
    await expect(figures).to_have_attribute("title", str(visitors))
    await expect(page.locator("[data-widget] .chart svg")).to_be_visible()
    await page.screenshot(path=screenshot_path(tmp_path, "share.png"), full_page=True)

    await db.execute(update(ShareToken).where(ShareToken.id == shared["id"])
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await db.commit()
    gone = await page.goto(server_url + shared["page_url"])
    assert gone is not None and gone.status == 404
    await expect(page.locator("#gone")).to_be_visible()
