"""Loading dashboards costs a fixed number of SQL statements, however many widgets or dashboards
(SPEC section 5), counted on the app's engine."""

from tests.dashboards.helpers import MARCH, create_dashboard, dashboard_url, send_traffic, widget
from tests.dashboards.statements import count_statements
from tests.factories import auth, make_project

REPORTS = ["overview", "pages", "sources", "countries", "devices", "browsers", "os",
           "entry-pages", "events", "timeseries"]


def widgets(n: int) -> list[dict[str, object]]:
    return [widget(REPORTS[i % len(REPORTS)], f"w{i}", limit=5 + i)
            if REPORTS[i % len(REPORTS)] not in ("overview", "timeseries")
            else widget(REPORTS[i % len(REPORTS)], f"w{i}") for i in range(n)]


async def statements_for(app, client, url, key, **headers):
    with count_statements(app) as seen:
        response = await client.get(url, params=MARCH, headers={**auth(key), **headers})
    assert response.status_code == 200, response.text
    return seen.count, response


async def test_list_costs_the_same_for_1_and_50_dashboards(app, client, db):
    small, large = await make_project(db), await make_project(db, name="Large")
    await create_dashboard(client, small, widgets(3))
    for i in range(50):
        await create_dashboard(client, large, widgets(3), name=f"d{i}")
    counts = []
    for project in (small, large):
        url = dashboard_url(project)
        await client.get(url, headers=auth(project.keys.read))  # the key is cached from here on
        with count_statements(app) as seen:
            response = await client.get(url, headers=auth(project.keys.read))
        counts.append(seen.count)
        assert all(len(d["widgets"]) == 3 for d in response.json())
    assert len(response.json()) == 50
    assert counts[0] == counts[1] == 2, counts  # dashboards, then their widgets (selectinload)


async def counts_for_1_and_30_widgets(app, client, db, **headers):
    """Statements of the second load of a 1-widget and a 30-widget dashboard, and X-Cache."""
    project = await make_project(db)
    await send_traffic(client, project)
    results = []
    for n in (1, 30):
        dashboard = await create_dashboard(client, project, widgets(n), name=f"{n} widgets")
        url = dashboard_url(project, dashboard["id"])
        await statements_for(app, client, url, project.keys.read)  # the key and project cached
        count, response = await statements_for(app, client, url, project.keys.read, **headers)
        assert len(response.json()["widgets"]) == n
        results.append((count, response.headers["x-cache"]))
    return results


async def test_cached_dashboard_costs_the_same_for_1_and_30_widgets(app, client, db):
    one, thirty = await counts_for_1_and_30_widgets(app, client, db)
    assert one == thirty == (2, "HIT")  # the dashboard and its widgets, no stats SQL


async def test_computed_dashboard_costs_the_same_for_1_and_30_widgets(app, client, db):
    one, thirty = await counts_for_1_and_30_widgets(app, client, db, **{"Cache-Control": "no-cache"})
    print("computed dashboard statements (1, 30 widgets):", one, thirty)
    assert one[1] == thirty[1] == "BYPASS"
    assert one[0] == thirty[0], (one, thirty)
