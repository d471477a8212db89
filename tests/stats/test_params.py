"""Parameter rules and keys of the stats routes (SPEC sections 2, 4 and 7).

Bad parameters are 400 problem+json naming the parameter; keys: none or unknown 401, wrong scope
403, another project's 404.
"""

from typing import Any

import pytest

from tests.factories import auth
from tests.stats.harness import new_site

DAY = {"date_from": "2024-03-10", "date_to": "2024-03-10"}
FUNNEL = [("step", "page:/"), ("step", "event:signup")]

# every stats route, with parameters that make a valid request
ROUTES: dict[str, list[tuple[str, str]]] = {
    "overview": [], "timeseries": [], "pages": [], "entry-pages": [], "exit-pages": [],
    "sources": [], "referrers": [("source", "google.com")], "countries": [], "devices": [],
    "browsers": [], "os": [], "events": [], "properties/plan": [], "goals": [],
    "funnel": FUNNEL, "retention": [], "active-users": [], "realtime": [], "revenue": [],
    "breakdown": [("dimension", "source"), ("metrics", "visitors")],
    **{f"utm/{name}": [] for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content",
                                      "utm_term")},
}


def with_day(extra: list[tuple[str, str]], endpoint: str) -> list[tuple[str, str]]:
    return extra if endpoint == "realtime" else [*DAY.items(), *extra]


BAD: list[tuple[str, list[tuple[str, str]], set[str]]] = [
    # endpoint, params, names the problem may give as `parameter`
    ("pages", [*DAY.items(), ("colour", "red")], {"colour"}),
    ("pages", [("period", "3d")], {"period"}),
    ("pages", [("period", "7d"), ("date_from", "2024-03-01")], {"period", "date_from"}),
    ("pages", [("period", "7d"), ("date_from", "2024-03-01"), ("date_to", "2024-03-02")],
     {"period", "date_from", "date_to"}),
    ("pages", [("date_from", "2024-03-01")], {"date_from", "date_to"}),
    ("pages", [("date_to", "2024-03-01")], {"date_from", "date_to"}),
    ("pages", [("date_from", "2024-13-01"), ("date_to", "2024-12-01")], {"date_from"}),
    ("pages", [("date_from", "10/03/2024"), ("date_to", "2024-03-10")], {"date_from"}),
    ("pages", [*DAY.items(), ("tz", "Mars/Olympus_Mons")], {"tz"}),
    ("pages", [*DAY.items(), ("limit", "1001")], {"limit"}),
    ("pages", [*DAY.items(), ("limit", "many")], {"limit"}),
    ("pages", [*DAY.items(), ("page", "0")], {"page"}),
    ("pages", [*DAY.items(), ("filters", "planet==earth")], {"filters"}),
    ("pages", [*DAY.items(), ("filters", "page")], {"filters"}),
    ("pages", [*DAY.items(), ("filters", "page~=/")], {"filters"}),
    ("pages", [*DAY.items(), ("compare", "previous_period")], {"compare"}),
    ("timeseries", [*DAY.items(), ("compare", "year_over_year")], {"compare"}),
    ("sources", [*DAY.items(), ("compare", "previous_period")], {"compare"}),
    ("overview", [*DAY.items(), ("compare", "last_week")], {"compare"}),
    ("timeseries", [*DAY.items(), ("interval", "minute")], {"interval"}),
    ("timeseries", [*DAY.items(), ("metrics", "visitors,happiness")], {"metrics"}),
    ("timeseries", [*DAY.items(), ("metrics", "")], {"metrics"}),
    ("breakdown", [*DAY.items(), ("dimension", "planet"), ("metrics", "visitors")], {"dimension"}),
    ("breakdown", [*DAY.items(), ("dimension", "source"), ("metrics", "joy")], {"metrics"}),
    ("referrers", [*DAY.items()], {"source"}),
    ("funnel", [*DAY.items(), ("step", "page:/")], {"step"}),
    ("funnel", [*DAY.items(), *[("step", f"page:/{i}") for i in range(9)]], {"step"}),
    ("funnel", [*DAY.items(), ("step", "page:/"), ("step", "goal:x")], {"step"}),
    ("funnel", [*DAY.items(), *FUNNEL, ("window", "3h")], {"window"}),
    ("retention", [*DAY.items(), ("interval", "month")], {"interval"}),
    ("retention", [*DAY.items(), ("periods", "none")], {"periods"}),
    # SPEC section 7: dates 2000-01-01..2100-12-31, at most 20 conditions and 100 values
    ("pages", [("date_from", "2024-03-01"), ("date_to", "9999-12-31")], {"date_to"}),
    ("pages", [("date_from", "0001-01-01"), ("date_to", "2024-03-01"), ("tz", "Asia/Tokyo")],
     {"date_from"}),
    ("overview", [("date_from", "1999-12-31"), ("date_to", "2000-01-10"),
                  ("compare", "year_over_year")], {"date_from"}),
    ("pages", [*DAY.items(), ("filters", ";".join(f"page!=/{i}" for i in range(21)))],
     {"filters"}),
    ("pages", [*DAY.items(), ("filters", "page==" + "|".join(f"/{i}" for i in range(101)))],
     {"filters"}),
    ("pages", [*DAY.items(), ("filters", "page==" + "|".join(map(str, range(5_000))))],
     {"filters"}),
    ("pages", [*DAY.items(), ("filters", "prop:" + "k" * 65 + "==1")], {"filters"}),
    ("properties/" + "k" * 65, list(DAY.items()), {"key"}),
    *[(endpoint, [*pairs, ("filters", condition)], {"filters"})
      for endpoint, pairs in [("funnel", [*DAY.items(), *FUNNEL]), ("retention", list(DAY.items())),
                              ("active-users", list(DAY.items())), ("realtime", [])]
      for condition in ("page==/", "event==signup", "prop:plan==pro", "country==DE;page!=/")],
]


@pytest.mark.parametrize("endpoint, params, names", BAD,
                         ids=[f"{e}-{'&'.join(f'{k}={v}' for k, v in p)}"[:120] for e, p, _ in BAD])
async def test_bad_parameters_are_400_problems(client, db, endpoint: str,
                                               params: list[tuple[str, str]],
                                               names: set[str]) -> None:
    site = await new_site(client, db)
    response = await site.get(endpoint, params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem.get("parameter") in names, problem


@pytest.mark.parametrize("endpoint, params", [
    ("funnel", [*DAY.items(), *FUNNEL, ("filters", "country==DE;source!=x.com")]),
    ("retention", [*DAY.items(), ("filters", "device==mobile"), ("interval", "day")]),
    ("active-users", [*DAY.items(), ("filters", "utm_source=@news")]),
    ("realtime", [("filters", "browser!@chrome")]),
    ("overview", [*DAY.items(), ("compare", "year_over_year")]),
    ("pages", [*DAY.items(), ("limit", "1000"), ("page", "3")]),
    ("pages", [("period", "12mo")]),
    ("pages", [*DAY.items(), ("filters", "page==/a\\|b;prop:plan!@x;event=@view")]),
])
async def test_valid_edge_parameters_are_accepted(client, db, endpoint: str,
                                                  params: list[tuple[str, str]]) -> None:
    site = await new_site(client, db)
    response = await site.get(endpoint, params)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("endpoint", ROUTES)
async def test_keys_of_every_stats_route(client, db, endpoint: str) -> None:
    site = await new_site(client, db)
    other = await new_site(client, db)
    path = f"/api/v1/projects/{site.project.id}/stats/{endpoint}"
    params = with_day(ROUTES[endpoint], endpoint)

    async def status(headers: dict[str, Any]) -> int:
        return (await client.get(path, params=params, headers=headers)).status_code

    assert await status({}) == 401
    assert await status(auth("sl_read_" + "x" * 36)) == 401
    assert await status(auth(site.project.keys.ingest)) == 403
    assert await status(auth(other.project.keys.read)) == 404
    assert await status(auth(other.project.keys.admin)) == 404
    assert await status(auth(site.project.keys.read)) == 200
    assert await status(auth(site.project.keys.admin)) == 200
    response = await client.get(path, params=params, headers=auth(other.project.keys.read))
    assert response.headers["content-type"].startswith("application/problem+json")
