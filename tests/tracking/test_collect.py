"""POST /api/v1/collect: beacons stored by the rules of section 3, CORS, bots, proxies, limits."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from sightline.app import create_app
from sightline.projects.service import create_project
from sightline.settings import CollectSettings, Settings
from tests.factories import auth, make_project

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/131.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36")
BRITISH = "81.2.69.160"  # a GB address in every IP-to-country database


def beacon(site_id: str, **overrides: Any) -> bytes:
    body = {"site_id": site_id, "name": "pageview", "url": "https://shop.example/pricing?x=1"}
    body.update(overrides)
    return orjson.dumps(body)


async def collect(client: AsyncClient, body: bytes, user_agent: str = CHROME_WINDOWS,
                  **headers: str) -> Any:
    return await client.post("/api/v1/collect", content=body, headers={
        "content-type": "text/plain;charset=UTF-8", "user-agent": user_agent,
        **{k.replace("_", "-"): v for k, v in headers.items()}})


async def stats(client: AsyncClient, project: Any, report: str) -> Any:
    response = await client.get(
        f"/api/v1/projects/{project.id}/stats/{report}?period=today",
        headers=auth(project.keys.read))
    assert response.status_code == 200, response.text
    return response.json()["results"]


@asynccontextmanager
async def app_with(settings: Settings, **changes: Any) -> AsyncIterator[AsyncClient]:
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            yield http


async def test_a_beacon_is_stored_with_path_utm_device_and_browser(client, db):
    project = await make_project(db)
    url = "https://shop.example/pricing?utm_source=newsletter&utm_campaign=spring&ref=1#top"
    response = await collect(client, beacon(project.site_id, url=url,
                                            referrer="https://news.example/a?b=c"))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1}
    assert await stats(client, project, "pages") == [
        {"page": "/pricing", "visitors": 1, "pageviews": 1}]
    assert [r["utm_campaign"] for r in await stats(client, project, "utm/utm_campaign")] == [
        "spring"]
    assert [r["source"] for r in await stats(client, project, "sources")] == ["newsletter"]
    assert [r["device"] for r in await stats(client, project, "devices")] == ["desktop"]
    assert [r["browser"] for r in await stats(client, project, "browsers")] == ["Chrome"]
    assert [r["os"] for r in await stats(client, project, "os")] == ["Windows"]


async def test_custom_events_carry_props_and_revenue_and_json_is_accepted_too(client, db):
    project = await make_project(db)
    body = beacon(project.site_id, name="Signup", props={"plan": "pro", "seats": 3},
                  revenue=12.5)
    response = await client.post("/api/v1/collect", content=body, headers={
        "content-type": "application/json", "user-agent": SAFARI_IPHONE})
    assert response.status_code == 202, response.text
    assert await stats(client, project, "events") == [
        {"event": "Signup", "events": 1, "visitors": 1}]
    assert (await stats(client, project, "revenue"))["revenue"] == 12.5
    assert [r["value"] for r in await stats(client, project, "properties/plan")] == ["pro"]
    assert [r["device"] for r in await stats(client, project, "devices")] == ["mobile"]


async def test_same_address_and_agent_is_one_visitor_without_a_cookie(client, db):
    project = await make_project(db)
    for path in ("/", "/a", "/b"):
        await collect(client, beacon(project.site_id, url=f"https://shop.example{path}"))
    await collect(client, beacon(project.site_id), user_agent=SAFARI_IPHONE)
    overview = await stats(client, project, "overview")
    assert overview["visitors"]["value"] == 2
    assert overview["pageviews"]["value"] == 4
    assert overview["visits"]["value"] == 2
    stored = (await db.execute(text("SELECT DISTINCT visitor_id FROM event WHERE project_id = "
                                    ":p"), {"p": project.id})).scalars().all()
    assert all("127.0.0.1" not in v and len(v) == 32 for v in stored)


async def test_internal_referrers_are_not_sources(client, db):
    project = await make_project(db)
    await collect(client, beacon(project.site_id, referrer="https://shop.example/home"))
    assert [r["source"] for r in await stats(client, project, "sources")] == ["Direct / None"]


async def test_bots_and_headless_browsers_are_dropped(client, db):
    project = await make_project(db)
    for agent in (GOOGLEBOT, HEADLESS, "curl/8.5.0", ""):
        response = await collect(client, beacon(project.site_id), user_agent=agent)
        assert response.status_code == 202
        assert response.json() == {"accepted": 0}
    assert (await stats(client, project, "overview"))["events"]["value"] == 0


async def test_bad_beacons_are_problems(client, db):
    project = await make_project(db)
    cases = [
        (b"{not json", 400), (beacon("s_nobody"), 404),
        (orjson.dumps({"name": "pageview", "url": "https://x.example/"}), 422),
        (beacon(project.site_id, revenue=-1), 422),
        (beacon(project.site_id, props={"k": {"nested": 1}}), 422),
        (beacon(project.site_id, padding="x" * 70_000), 413),
    ]
    for body, status in cases:
        response = await collect(client, body)
        assert response.status_code == status, (body[:60], response.text)
        assert response.headers["content-type"] == "application/problem+json"
    errors = (await collect(client, beacon(project.site_id, revenue=-1))).json()["errors"]
    assert errors[0]["field"] == "revenue"


async def test_cors_preflight_and_allowed_origins(client, db):
    anywhere = await make_project(db)
    strict = await create_project(db, "Strict", allowed_origins=["https://shop.example"])
    await db.commit()
    preflight = await client.options("/api/v1/collect", headers={
        "origin": "https://shop.example", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()

    allowed = await collect(client, beacon(strict.site_id), origin="https://shop.example")
    assert allowed.status_code == 202
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    refused = await collect(client, beacon(strict.site_id), origin="https://evil.example")
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert (await collect(client, beacon(anywhere.site_id),
                          origin="https://any.example")).status_code == 202
    assert (await stats(client, strict, "overview"))["pageviews"]["value"] == 1


async def test_client_address_comes_from_a_trusted_proxy_only(settings, db):
    project = await make_project(db)
    untrusted = ["10.9.9.9"]
    async with app_with(settings, trusted_proxies=[]) as http:
        await collect(http, beacon(project.site_id), x_forwarded_for=BRITISH)
        assert await stats(http, project, "countries") == []  # 127.0.0.1 has no country
    async with app_with(settings, trusted_proxies=Settings(
            trusted_proxies="127.0.0.1").trusted_proxies) as http:
        await collect(http, beacon(project.site_id),
                      x_forwarded_for=f"{untrusted[0]}, {BRITISH}")
        assert [r["country"] for r in await stats(http, project, "countries")] == ["GB"]


async def test_rate_limits_per_address_and_per_site(settings, db):
    project = await make_project(db)
    other = await make_project(db)
    limits = CollectSettings(address_rate=0.001, address_burst=2, site_rate=1e9, site_burst=10**9)
    async with app_with(settings, collect=limits, trusted_proxies=Settings(
            trusted_proxies="127.0.0.1").trusted_proxies) as http:
        statuses = [(await collect(http, beacon(project.site_id),
                                   x_forwarded_for="1.1.1.1")).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        assert (await collect(http, beacon(project.site_id),
                              x_forwarded_for="2.2.2.2")).status_code == 202
    limits = CollectSettings(address_rate=1e9, address_burst=10**9, site_rate=0.001, site_burst=2)
    async with app_with(settings, collect=limits) as http:
        statuses = [(await collect(http, beacon(project.site_id))).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        limited = await collect(http, beacon(project.site_id))
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        assert (await collect(http, beacon(other.site_id))).status_code == 202


async def test_beacons_arriving_together_share_transactions(client, db):
    project = await make_project(db)
    count = 60
    responses = await asyncio.gather(*(
        collect(client, beacon(project.site_id, url=f"https://shop.example/p{i}"),
                user_agent=f"{CHROME_WINDOWS} n{i}") for i in range(count)))
    assert [r.status_code for r in responses] == [202] * count
    stored, transactions = (await db.execute(text(
        "SELECT count(*), count(DISTINCT xmin::text) FROM event WHERE project_id = :p"),
        {"p": project.id})).one()
    assert stored == count
    assert transactions < count / 2
    overview = await stats(client, project, "overview")
    assert overview["visitors"]["value"] == count


async def test_the_dashboard_project_exists_and_can_be_turned_off(client, settings, db):
    page = (await client.get("/")).text
    assert 'data-site="sightline"' in page and "data-vitals" in page
    site = (await db.execute(text("SELECT name FROM project WHERE site_id = 'sightline'"))).one()
    assert site.name == "Sightline"
    async with app_with(settings, self_tracking=False) as http:
        assert "data-site" not in (await http.get("/")).text

