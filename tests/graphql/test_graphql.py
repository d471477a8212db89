"""`/graphql`: the same data, rules and errors as REST; batched loads; depth and cost limits."""

import pytest
import strawberry

from sightline.graphql.stats import selected_metrics
from sightline.graphql.types import TimeseriesPoint
from sightline.stats.query import TIMESERIES_METRICS

from tests.dashboards.helpers import MARCH, create_dashboard, dashboard_url, send_traffic, widget
from tests.dashboards.statements import count_statements
from tests.factories import auth, make_event, make_project, send_events

STATS_ARGS = 'dateFrom: "2024-03-01", dateTo: "2024-03-31"'


async def graphql(client, key, query, variables=None, status=200):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=auth(key) if key else {})
    assert response.status_code == status, response.text
    return response.json()


async def rest_stats(client, project, report, **params):
    response = await client.get(f"/api/v1/projects/{project.id}/stats/{report}",
                                params={**MARCH, **params}, headers=auth(project.keys.read))
    return response.json()["results"]


async def test_auth_follows_the_rest_rules(client, db):
    project, other = await make_project(db), await make_project(db, name="Other")
    query = "query($id: ID!) { project(id: $id) { id name } }"
    missing = await client.post("/graphql", json={"query": query, "variables": {"id": project.id}})
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await client.post("/graphql", json={"query": query},
                              headers=auth("sl_read_bogus"))).status_code == 401
    await graphql(client, project.keys.ingest, query, {"id": project.id}, status=403)

    mine = await graphql(client, project.keys.read, query, {"id": project.id})
    assert mine == {"data": {"project": {"id": project.id, "name": "Test"}}}
    for project_id in (other.id, "p_doesnotexist"):
        theirs = await graphql(client, project.keys.admin, query, {"id": project_id})
        assert theirs["data"] == {"project": None}
        error = theirs["errors"][0]
        assert error["message"] == f"Project {project_id} not found"
        assert error["extensions"]["code"] == "NOT_FOUND"
    listed = await graphql(client, other.keys.read, "{ projects { id timezone } }")
    assert listed["data"] == {"projects": [{"id": other.id, "timezone": "UTC"}]}


async def test_stats_fields_match_the_rest_api(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    query = f"""query($id: ID!) {{ project(id: $id) {{ stats({STATS_ARGS}) {{
        overview {{ visitors {{ value }} bounceRate {{ value }} }}
        compared: overview(compare: PREVIOUS_PERIOD) {{ pageviews {{ value previous change }} }}
        pages(limit: 1) {{ page visitors pageviews }}
        countries {{ value visitors visits }}
        entryPages {{ entryPage visits visitors bounceRate visitDuration }}
        exitPages {{ exitPage exits visitors exitRate }}
        sources {{ source visitors visits bounceRate visitDuration }}
        events {{ event events visitors }}
        funnel(steps: ["page:/", "page:/pricing"]) {{ step label visitors conversionRate dropoff }}
        timeseries(interval: WEEK) {{ date visitors pageviews }}
        breakdown(dimension: "country") {{ value visits }}
        activeUsers {{ stickiness days {{ date dau }} }}
        revenue {{ revenue orders arpu }}
        retention(interval: WEEK, periods: 2) {{ cohort size retention rates }}
        utm(param: SOURCE) {{ value visitors }}
        realtime {{ visitors pages {{ page }} }}
    }} }} }}"""
    body = await graphql(client, project.keys.read, query, {"id": project.id})
    assert "errors" not in body, body
    stats = body["data"]["project"]["stats"]
    assert stats["overview"] == {"visitors": {"value": 3}, "bounceRate": {"value": 33.3}}
    assert stats["compared"]["pageviews"] == {"value": 4, "previous": 0, "change": None}
    assert stats["pages"] == await rest_stats(client, project, "pages", limit=1)
    countries = await rest_stats(client, project, "countries")
    assert stats["countries"] == [{"value": r["country"], "visitors": r["visitors"],
                                   "visits": r["visits"]} for r in countries]
    assert [{"entryPage": r["entry_page"], "visits": r["visits"], "visitors": r["visitors"],
             "bounceRate": r["bounce_rate"], "visitDuration": r["visit_duration"]}
            for r in await rest_stats(client, project, "entry-pages")] == stats["entryPages"]
    assert stats["events"] == [{"event": "signup", "events": 1, "visitors": 1}]
    funnel = await rest_stats(client, project, "funnel", step=["page:/", "page:/pricing"])
    assert [s["visitors"] for s in stats["funnel"]] == [s["visitors"] for s in funnel] == [2, 1]
    weekly = await rest_stats(client, project, "timeseries", interval="week",
                              metrics="visitors,pageviews")
    assert stats["timeseries"] == weekly
    assert stats["breakdown"] == [{"value": "DE", "visits": 2}, {"value": "FR", "visits": 1}]
    assert stats["revenue"] == {"revenue": 0.0, "orders": 0, "arpu": 0.0}
    assert len(stats["retention"]) == len(await rest_stats(client, project, "retention",
                                                           interval="week", periods="2"))
    assert stats["utm"] == [] and stats["realtime"]["visitors"] == 0


@strawberry.type
class Probe:
    @strawberry.field
    def timeseries(self, info: strawberry.Info) -> list[TimeseriesPoint]:
        return [TimeseriesPoint(date=selected_metrics(info, TIMESERIES_METRICS))]


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def probe(self) -> Probe:
        return Probe()


@pytest.mark.parametrize("selection, metrics", [
    ("date", "visitors"),
    ("date pageviews", "pageviews"),
    ("...M", "pageviews,bounce_rate"),
    ("... on TimeseriesPoint { visitDuration } events", "visit_duration,events"),
])
async def test_the_selection_decides_the_metrics_asked_for(selection, metrics):
    probe_schema = strawberry.Schema(query=ProbeQuery)
    document = (f"{{ probe {{ timeseries {{ date {selection} }} }} }} "
                "fragment M on TimeseriesPoint { pageviews bounceRate }")
    if "...M" not in selection:
        document = document.split(" fragment")[0]
    result = await probe_schema.execute(document)
    assert result.errors is None, result.errors
    assert result.data["probe"]["timeseries"][0]["date"] == metrics


async def test_selected_metrics_give_the_rest_numbers(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    query = f"""query($id: ID!) {{ project(id: $id) {{ stats({STATS_ARGS}) {{
        timeseries(interval: MONTH) {{ date ...M }} }} }} }}
        fragment M on TimeseriesPoint {{ pageviews bounceRate }}"""
    body = await graphql(client, project.keys.read, query, {"id": project.id})
    rest = await rest_stats(client, project, "timeseries", interval="month",
                            metrics="pageviews,bounce_rate")
    assert body["data"]["project"]["stats"]["timeseries"] == [
        {"date": r["date"], "pageviews": r["pageviews"], "bounceRate": r["bounce_rate"]}
        for r in rest]


async def test_dashboards_and_widget_data_match_rest(client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    created = await create_dashboard(client, project, [widget("pages", filters="country==DE"),
                                                       widget("countries")])
    rest = (await client.get(dashboard_url(project, created["id"]),
                             params={**MARCH, "filters": "page==/"},
                             headers=auth(project.keys.read))).json()
    query = """query($id: ID!, $d: ID!) { project(id: $id) {
        dashboards { id name widgets { id title position query } }
        dashboard(id: $d) { name project { id } widgets { id visualization
            data(dateFrom: "2024-03-01", dateTo: "2024-03-31", filters: "page==/") {
                results meta } } }
        missing: dashboard(id: "d_nope") { id } } }"""
    body = await graphql(client, project.keys.read, query, {"id": project.id, "d": created["id"]})
    assert "errors" not in body, body
    data = body["data"]["project"]
    assert data["dashboards"] == [{"id": created["id"], "name": "Main", "widgets": [
        {k: w[k] for k in ("id", "title", "position", "query")} for w in created["widgets"]]}]
    assert data["missing"] is None
    assert data["dashboard"]["project"] == {"id": project.id}
    for got, want in zip(data["dashboard"]["widgets"], rest["widgets"], strict=True):
        assert got["id"] == want["id"] and got["visualization"] == want["visualization"]
        assert got["data"]["results"] == want["data"]["results"]
        assert got["data"]["meta"]["filters"] == want["data"]["meta"]["filters"]


NESTED = """query($id: ID!) { project(id: $id) { goals { name }
    dashboards { name project { name } widgets { title
        data(dateFrom: "2024-03-01", dateTo: "2024-03-31") { results } } } } }"""


async def test_nested_dashboards_and_widget_data_cost_a_fixed_number_of_statements(app, client, db):
    counts = []
    for n_dashboards in (1, 50):
        project = await make_project(db)
        await send_traffic(client, project)
        for i in range(n_dashboards):
            await create_dashboard(client, project, [widget("pages"), widget("overview"),
                                                     widget("countries")], name=f"d{i}")
        await graphql(client, project.keys.read, "{ projects { id } }")  # key and project cached
        with count_statements(app) as seen:
            body = await graphql(client, project.keys.read, NESTED, {"id": project.id})
        assert "errors" not in body, body
        assert len(body["data"]["project"]["dashboards"]) == n_dashboards
        counts.append(seen.count)
    # goals, dashboards, widgets, then the stats batch (a fixed few statements)
    assert counts[0] == counts[1] <= 6, counts


async def test_many_stats_fields_cost_one_batch(app, client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    await graphql(client, project.keys.read, "{ projects { id } }")
    # the process keeps the event rows of days not built: their first read is one more trip
    priming = f"query($id: ID!) {{ project(id: $id) {{ stats({STATS_ARGS}) {{ pages(limit: 99) {{ page }} }} }} }}"
    await graphql(client, project.keys.read, priming, {"id": project.id})
    counts = []
    for n in (1, 25):
        fields = " ".join(f"p{i}: pages(limit: {i + 1}) {{ page }}" for i in range(n))
        query = f"query($id: ID!) {{ project(id: $id) {{ stats({STATS_ARGS}) {{ {fields} }} }} }}"
        with count_statements(app) as seen:
            body = await graphql(client, project.keys.read, query, {"id": project.id})
        assert body["data"]["project"]["stats"][f"p{n - 1}"][0]["page"] == "/"
        counts.append(seen.count)
    assert counts[0] == counts[1] <= 3, counts


@pytest.mark.parametrize("stats_args, field, parameter", [
    ('period: "fortnight"', "pages { page }", "period"),
    ('dateFrom: "2024-03-01"', "pages { page }", "date_to"),
    ('filters: "planet==mars"', "pages { page }", "filters"),
    ("", "pages(limit: 5000) { page }", "limit"),
    ("", "retention(interval: HOUR) { size }", "interval"),
    ("", 'funnel(steps: ["page:/"]) { step }', "step"),
    ('filters: "page==/"', 'funnel(steps: ["page:/", "page:/a"]) { step }', "filters"),
    ("", 'breakdown(dimension: "country") { value pageviews }', "metrics"),
])
async def test_invalid_parameters_are_coded_errors_naming_the_parameter(client, db, stats_args,
                                                                        field, parameter):
    project = await make_project(db)
    args = f"({stats_args})" if stats_args else ""
    query = f"query($id: ID!) {{ project(id: $id) {{ stats{args} {{ {field} }} }} }}"
    body = await graphql(client, project.keys.read, query, {"id": project.id})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_PARAMETER", error
    assert error["extensions"]["parameter"] == parameter
    assert error["extensions"]["status"] == 400


async def test_depth_aliases_and_cost_limits(client, db):
    project = await make_project(db)
    key = project.keys.read
    deep = "project { dashboards { " * 6 + "id" + " } }" * 6
    body = await graphql(client, key, f'{{ projects {{ dashboards {{ {deep} }} }} }}')
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body.get("data") is None

    aliases = " ".join(f"a{i}: projects {{ id }}" for i in range(31))
    body = await graphql(client, key, f"{{ {aliases} }}")
    assert "aliases" in body["errors"][0]["message"]

    every_widget = 'dashboards { widgets { data(period: "7d") { results } } }'
    body = await graphql(client, key, f"{{ projects {{ a: {every_widget} b: {every_widget} }} }}")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["limit"]
    assert "cost" in error["message"]
    fine = await graphql(client, key, f"{{ projects {{ {every_widget} }} }}")
    assert fine == {"data": {"projects": [{"dashboards": []}]}}


async def test_cost_is_checked_on_the_actual_number_of_widgets(client, db):
    project = await make_project(db)
    for name in "abcdef":  # 600 different widget queries
        await create_dashboard(client, project, [
            widget("overview", period="7d", filters=f"page==/{name}{i}") for i in range(100)],
            name=name)
    body = await graphql(client, project.keys.read,
                         '{ projects { dashboards { widgets { data { results } } } } }')
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "600 stats computations" in body["errors"][0]["message"]


async def test_a_dashboard_holds_a_bounded_number_of_widgets(client, db):
    project = await make_project(db)
    created = await create_dashboard(client, project, [widget("overview")] * 100)
    response = await client.post(dashboard_url(project, created["id"]) + "/widgets",
                                 json=widget("pages"), headers=auth(project.keys.admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "widgets"


async def test_stats_fields_share_the_rest_cache_entries_and_their_freshness(app, client, db):
    project = await make_project(db)
    await send_traffic(client, project)
    query = (f'query($id: ID!) {{ project(id: $id) {{ stats({STATS_ARGS}) '
             '{ pages { page visitors } } } }')
    rest = await client.get(f"/api/v1/projects/{project.id}/stats/pages", params=MARCH,
                            headers=auth(project.keys.read))
    assert rest.headers["x-cache"] == "MISS"
    with count_statements(app) as seen:
        body = await graphql(client, project.keys.read, query, {"id": project.id})
    assert seen.count == 0  # the entry REST stored
    assert body["data"]["project"]["stats"]["pages"][0] == {"page": "/", "visitors": 2}

    await send_events(client, project, [make_event(visitor_id="z", path="/",
                                                   timestamp="2024-03-11T09:00:00+00:00")])
    body = await graphql(client, project.keys.read, query, {"id": project.id})
    assert body["data"]["project"]["stats"]["pages"][0] == {"page": "/", "visitors": 3}
    again = await client.get(f"/api/v1/projects/{project.id}/stats/pages", params=MARCH,
                             headers=auth(project.keys.read))
    assert again.headers["x-cache"] == "HIT"  # the entry GraphQL stored
