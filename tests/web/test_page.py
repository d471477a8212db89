"""The dashboard page: GET / and its static files, and the API answers the page's script reads."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import sightline.web
from tests.factories import auth, make_event, make_project, send_events

STATIC = Path(sightline.web.__file__).parent / "static"
SCRIPT = (STATIC / "dashboard.js").read_text()


def linked(html: str) -> dict[str, str]:
    """The page's stylesheet and script addresses, by kind."""
    links = dict(stylesheet=re.findall(r'<link rel="stylesheet" href="([^"]+)"', html),
                 script=re.findall(r'<script src="([^"]+)"', html))
    assert len(links["stylesheet"]) == 1 and len(links["script"]) == 1, links
    return {kind: found[0] for kind, found in links.items()}


async def test_page_links_its_own_script_and_style(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = linked(response.text)
    assert links["stylesheet"].startswith("/static/dashboard.css")
    assert links["script"].startswith("/static/dashboard.js")
    assert "<script>" not in response.text  # no inline script: the CSP allows only 'self'
    assert re.search(r'(src|href)="(https?:)?//', response.text) is None  # nothing from elsewhere


async def test_static_files_are_served(client):
    links = linked((await client.get("/")).text)
    css = await client.get(links["stylesheet"])
    js = await client.get(links["script"])
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]
    assert js.text == SCRIPT
    assert (await client.get("/static/missing.js")).status_code == 404


async def test_key_stays_out_of_the_html_and_referers(client):
    response = await client.get("/?project=p_someone&key=sl_read_not_echoed")
    assert response.status_code == 200
    assert "sl_read_not_echoed" not in response.text
    assert "p_someone" not in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp


async def test_page_is_not_in_the_api_documentation(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/" not in paths


def script_lists() -> list[tuple[str, str, list[str]]]:
    """(report, dimension, metric columns) of every top list the script shows."""
    found = re.findall(r'\{ report: "([a-z-]+)", title: "[^"]+", dimension: "([a-z_]+)",\s*'
                       r'columns: \[(.*?)\] \}', SCRIPT, flags=re.S)
    return [(report, dim, re.findall(r'\["([a-z_]+)", "', cols)) for report, dim, cols in found]


def test_script_lists_are_found():
    reports = [report for report, _, _ in script_lists()]
    assert reports == ["pages", "sources", "entry-pages", "countries", "devices", "browsers",
                       "events"]


@pytest.fixture
async def project_with_traffic(client, db):
    project = await make_project(db, name="Web page", timezone="Europe/Berlin")
    now = datetime.now(UTC).replace(microsecond=0)
    events = []
    for i in range(12):
        at = (now - timedelta(minutes=1 + i * 7)).isoformat()
        events.append(make_event(visitor_id=f"v{i % 5}", timestamp=at, path=f"/p{i % 3}",
                                 referrer="https://www.google.com/" if i % 2 else None,
                                 country="DE", device="desktop", browser="Firefox"))
    events.append(make_event(name="signup", visitor_id="v1", timestamp=now.isoformat(),
                             path=None))
    await send_events(client, project, [{k: v for k, v in e.items() if v is not None}
                                        for e in events])
    return project


async def test_the_api_answers_what_the_page_reads(client, project_with_traffic):
    """The same requests the script sends, with the fields it reads from their results."""
    project = project_with_traffic
    base = f"/api/v1/projects/{project.id}/stats"
    headers = auth(project.keys.read)
    query = {"period": "7d", "filters": "source==google.com"}  # 7d: whatever the hour now

    overview = await client.get(f"{base}/overview", headers=headers,
                                params={**query, "compare": "previous_period"})
    assert overview.status_code == 200, overview.text
    for metric in re.findall(r'\{ metric: "([a-z_]+)"', SCRIPT):
        assert set(overview.json()["results"][metric]) == {"value", "previous", "change"}
    assert overview.json()["results"]["visitors"]["value"] > 0

    series = await client.get(f"{base}/timeseries", headers=headers,
                              params={**query, "metrics": "visitors,pageviews", "interval": "day"})
    assert series.status_code == 200, series.text
    points = series.json()["results"]
    assert points and all(set(p) == {"date", "visitors", "pageviews"} for p in points)

    for report, dimension, metrics in script_lists():
        response = await client.get(f"{base}/{report}", headers=headers,
                                    params={"period": "7d", "limit": "10"})
        assert response.status_code == 200, (report, response.text)
        rows = response.json()["results"]
        assert rows, report
        assert all({dimension, *metrics} <= set(row) for row in rows), (report, rows[0])

    realtime = await client.get(f"{base}/realtime", headers=headers,
                                params={"filters": "source==google.com"})
    assert realtime.status_code == 200, realtime.text
    assert realtime.json()["results"]["visitors"] >= 1


async def test_api_errors_carry_the_detail_the_page_shows(client, project_with_traffic):
    project = project_with_traffic
    response = await client.get(f"/api/v1/projects/{project.id}/stats/pages",
                                headers=auth(project.keys.read),
                                params={"filters": "nonsense==1"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    unknown = await client.get(f"/api/v1/projects/{project.id}/stats/realtime",
                               headers=auth("sl_read_unknown"))
    assert unknown.status_code == 401 and unknown.json()["detail"]
