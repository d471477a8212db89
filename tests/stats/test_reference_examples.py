"""Hand-computed answers for the tricky rules of SPEC section 4.

Each case is checked twice: against the reference (is the reference sane?) and against the real
HTTP API on PostgreSQL and Redis (is the engine right?). A case is a script of sends and checks,
so that answers after late events are checked too (read-your-writes through the cache).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.stats import reference
from tests.stats.harness import new_site, same

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)  # for the reference; every case uses fixed dates


def pv(visitor: str, timestamp: str, path: str = "/", **more: Any) -> dict[str, Any]:
    return {"name": "pageview", "visitor_id": visitor, "timestamp": timestamp, "path": path, **more}


def ev(name: str, visitor: str, timestamp: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "visitor_id": visitor, "timestamp": timestamp, **more}


@dataclass
class Send:
    events: list[dict[str, Any]]
    raw: bytes | None = None  # literal JSON text, when the number format matters


@dataclass
class Check:
    endpoint: str
    params: dict[str, str] | list[tuple[str, str]]
    expected: Any


@dataclass
class Case:
    timezone: str
    script: list[Send | Check]
    goals: tuple[dict[str, str], ...] = ()


def series(labels: list[str], counts: dict[str, int], metric: str = "visitors") -> list[dict]:
    return [{"date": label, metric: counts.get(label, 0)} for label in labels]


# --- DST: 2024-10-27 has 25 hours in Berlin, 2024-03-31 has 23 --------------------------------
FALL = [
    pv("a", "2024-10-27T00:30:00Z"),  # 02:30+02:00
    pv("b", "2024-10-27T01:30:00Z"),  # 02:30+01:00, the repeated hour
    pv("c", "2024-10-26T22:10:00Z"),  # 00:10+02:00, first hour of the day
    pv("d", "2024-10-27T22:59:00+00:00"),  # 23:59+01:00, last hour
    pv("e", "2024-10-28T00:00:00+01:00"),  # the next day
    pv("f", "2024-10-27T00:59:59+02:00"),  # 2024-10-26T22:59:59Z: the 27th, first hour
    pv("g", "2024-10-26T23:59:59+02:00"),  # the day before
]
FALL_HOURS = (["2024-10-27T00:00:00+02:00", "2024-10-27T01:00:00+02:00",
               "2024-10-27T02:00:00+02:00"]
              + [f"2024-10-27T{h:02d}:00:00+01:00" for h in range(2, 24)])
UTC_HOURS = [f"2024-10-27T{h:02d}:00:00+00:00" for h in range(24)]
SPRING = [
    pv("g", "2024-03-31T00:59:00Z"),  # 01:59+01:00
    pv("h", "2024-03-31T01:00:00Z"),  # 03:00+02:00
    pv("i", "2024-03-30T22:59:59Z"),  # 23:59:59+01:00 the day before
    pv("j", "2024-03-31T21:59:59Z"),  # 23:59:59+02:00
]
SPRING_HOURS = (["2024-03-31T00:00:00+01:00", "2024-03-31T01:00:00+01:00"]
                + [f"2024-03-31T{h:02d}:00:00+02:00" for h in range(3, 24)])

DST = Case("Europe/Berlin", [
    Send(FALL + SPRING),
    Check("timeseries", {"date_from": "2024-10-27", "date_to": "2024-10-27", "interval": "hour"},
          series(FALL_HOURS, {"2024-10-27T00:00:00+02:00": 2, "2024-10-27T02:00:00+02:00": 1,
                              "2024-10-27T02:00:00+01:00": 1, "2024-10-27T23:00:00+01:00": 1})),
    Check("timeseries", {"date_from": "2024-10-27", "date_to": "2024-10-27", "interval": "hour",
                         "tz": "UTC", "metrics": "pageviews"},
          series(UTC_HOURS, {"2024-10-27T00:00:00+00:00": 1, "2024-10-27T01:00:00+00:00": 1,
                             "2024-10-27T22:00:00+00:00": 1, "2024-10-27T23:00:00+00:00": 1},
                 "pageviews")),
    Check("timeseries", {"date_from": "2024-10-26", "date_to": "2024-10-28"},
          series(["2024-10-26", "2024-10-27", "2024-10-28"],
                 {"2024-10-26": 1, "2024-10-27": 5, "2024-10-28": 1})),
    Check("timeseries", {"date_from": "2024-03-31", "date_to": "2024-03-31", "interval": "hour"},
          series(SPRING_HOURS, {"2024-03-31T01:00:00+01:00": 1, "2024-03-31T03:00:00+02:00": 1,
                                "2024-03-31T23:00:00+02:00": 1})),
    Check("overview", {"date_from": "2024-03-31", "date_to": "2024-03-31"},
          {"visitors": {"value": 3}, "visits": {"value": 3}, "pageviews": {"value": 3},
           "views_per_visit": {"value": 1.0}, "bounce_rate": {"value": 100.0},
           "visit_duration": {"value": 0}, "events": {"value": 3}, "revenue": {"value": 0.0}}),
])

# --- Havana skips midnight on 2024-03-10: the day starts at 01:00-04:00 and has 23 hours -------
HAVANA_HOURS = [f"2024-03-10T{h:02d}:00:00-04:00" for h in range(1, 24)]
MIDNIGHT = Case("America/Havana", [
    Send([pv("k1", "2024-03-10T05:00:00Z"), pv("k2", "2024-03-10T04:59:59Z"),
          pv("k3", "2024-03-11T03:59:59Z"), pv("k4", "2024-03-11T04:00:00Z")]),
    Check("timeseries", {"date_from": "2024-03-10", "date_to": "2024-03-10", "interval": "hour"},
          series(HAVANA_HOURS, {"2024-03-10T01:00:00-04:00": 1, "2024-03-10T23:00:00-04:00": 1})),
    Check("timeseries", {"date_from": "2024-03-09", "date_to": "2024-03-11"},
          series(["2024-03-09", "2024-03-10", "2024-03-11"],
                 {"2024-03-09": 1, "2024-03-10": 2, "2024-03-11": 1})),
])

# --- Week and month buckets are labelled by their calendar start ------------------------------
WEEK_EVENTS = [
    pv("v1", "2024-03-05T12:00:00Z"),  # Tuesday, before the range
    pv("v2", "2024-03-07T12:00:00Z"),
    pv("v3", "2024-03-10T23:59:00Z"),  # Sunday in UTC
    pv("v4", "2024-03-11T00:00:00Z"),  # Monday in UTC, Sunday evening in New York
    pv("v5", "2024-03-20T23:00:00Z"),
    pv("v6", "2024-03-21T01:00:00Z"),  # Thursday in UTC, Wednesday evening in New York
]
WEEKS = Case("UTC", [
    Send(WEEK_EVENTS),
    Check("timeseries", {"date_from": "2024-03-06", "date_to": "2024-03-20", "interval": "week"},
          series(["2024-03-04", "2024-03-11", "2024-03-18"],
                 {"2024-03-04": 2, "2024-03-11": 1, "2024-03-18": 1})),
    Check("timeseries", {"date_from": "2024-03-06", "date_to": "2024-03-20", "interval": "week",
                         "tz": "America/New_York"},
          series(["2024-03-04", "2024-03-11", "2024-03-18"],
                 {"2024-03-04": 3, "2024-03-18": 2})),
    Check("timeseries", {"date_from": "2024-02-15", "date_to": "2024-03-10", "interval": "month"},
          series(["2024-02-01", "2024-03-01"], {"2024-03-01": 3})),
])

# --- A late event merges two sessions; another changes the entry page ---------------------------
W_SESSION = [  # one instant, ordered by id: e1 comes first and gives the attributes
    pv("w", "2024-03-10T12:00:00Z", "/y", id="e2", session_id="s", utm_source="Zeta"),
    pv("w", "2024-03-10T12:00:00Z", "/x", id="e1", session_id="s",
       referrer="https://www.Example.com:8080/p?q=1#f"),
]
DAY = {"date_from": "2024-03-10", "date_to": "2024-03-10"}


def entry(page: str, visits: int, bounce: float, duration: int) -> dict[str, Any]:
    return {"entry_page": page, "visits": visits, "visitors": visits, "bounce_rate": bounce,
            "visit_duration": duration}


LATE = Case("UTC", [
    Send([pv("v", "2024-03-10T12:00:00Z", "/b"), pv("v", "2024-03-10T12:40:00Z", "/c")]),
    Check("entry-pages", DAY, [entry("/b", 1, 100.0, 0), entry("/c", 1, 100.0, 0)]),
    Send([pv("v", "2024-03-10T12:20:00Z", "/m")]),  # 20 minutes from each: one session now
    Check("entry-pages", DAY, [entry("/b", 1, 0.0, 2400)]),
    Check("exit-pages", DAY, [{"exit_page": "/c", "exits": 1, "visitors": 1, "exit_rate": 100.0}]),
    Send([pv("v", "2024-03-10T11:50:00Z", "/a")] + W_SESSION),
    Check("entry-pages", DAY, [entry("/a", 1, 0.0, 3000), entry("/x", 1, 0.0, 0)]),
    Check("exit-pages", DAY, [{"exit_page": "/c", "exits": 1, "visitors": 1, "exit_rate": 100.0},
                              {"exit_page": "/y", "exits": 1, "visitors": 1, "exit_rate": 100.0}]),
    Check("sources", DAY, [
        {"source": "Direct / None", "visitors": 1, "visits": 1, "bounce_rate": 0.0,
         "visit_duration": 3000},
        {"source": "example.com", "visitors": 1, "visits": 1, "bounce_rate": 0.0,
         "visit_duration": 0}]),
    Check("referrers", {**DAY, "source": "example.com"},
          [{"referrer": "https://www.Example.com:8080/p", "visitors": 1, "visits": 1}]),
    Check("utm/utm_source", DAY, []),
    Check("overview", DAY, {
        "visitors": {"value": 2}, "visits": {"value": 2}, "pageviews": {"value": 6},
        "views_per_visit": {"value": 3.0}, "bounce_rate": {"value": 0.0},
        "visit_duration": {"value": 1500}, "events": {"value": 6}, "revenue": {"value": 0.0}}),
])

# --- Filters: escapes, case, absent values -----------------------------------------------------
FILTER_EVENTS = [
    pv("p1", "2024-03-10T10:00:00Z", "/a|b"),
    pv("p2", "2024-03-10T10:01:00Z", "/c;d"),
    pv("p3", "2024-03-10T10:02:00Z", "/e\\f"),
    pv("p4", "2024-03-10T10:03:00Z", "/plain", country="DE"),
    pv("p5", "2024-03-10T10:04:00Z", "/A|B/x"),
]


def pages(*paths: str) -> list[dict[str, Any]]:
    return [{"page": path, "visitors": 1, "pageviews": 1} for path in paths]


FILTERS = Case("UTC", [
    Send(FILTER_EVENTS),
    Check("pages", {**DAY, "filters": "page==/a\\|b"}, pages("/a|b")),
    Check("pages", {**DAY, "filters": "page==/c\\;d|/plain"}, pages("/c;d", "/plain")),
    Check("pages", {**DAY, "filters": "page==/e\\\\f"}, pages("/e\\f")),
    Check("pages", {**DAY, "filters": "page=@a\\|B"}, pages("/A|B/x", "/a|b")),
    Check("pages", {**DAY, "filters": "page!@\\;;country!=DE"}, pages("/A|B/x", "/a|b", "/e\\f")),
    Check("pages", {**DAY, "filters": "country==DE"}, pages("/plain")),
    Check("pages", {**DAY, "filters": "country=@de"}, pages("/plain")),
    Check("pages", {**DAY, "filters": "country!@DE"}, pages("/A|B/x", "/a|b", "/c;d", "/e\\f")),
    Check("pages", {**DAY, "filters": "page==/A\\|b"}, []),
    Check("countries", {**DAY, "filters": "page==/plain|/a\\|b"},
          [{"country": "DE", "visitors": 1, "visits": 1}]),
])

# --- Property values compare and show as canonical JSON text -----------------------------------
PROPERTY_BODY = b"""[
 {"name": "signup", "visitor_id": "q1", "timestamp": "2024-03-10T10:00:00Z",
  "properties": {"amount": 2.50, "trial": true, "n": 12.0}},
 {"name": "signup", "visitor_id": "q2", "timestamp": "2024-03-10T10:05:00Z",
  "properties": {"amount": 2.5, "trial": true, "n": 12}},
 {"name": "signup", "visitor_id": "q3", "timestamp": "2024-03-10T10:10:00Z",
  "properties": {"amount": 3, "trial": false}},
 {"name": "pageview", "path": "/", "visitor_id": "q1", "timestamp": "2024-03-10T09:59:00Z",
  "properties": {"amount": 10}}
]"""
PROPERTIES = Case("UTC", [
    Send(reference.json.loads(PROPERTY_BODY), raw=PROPERTY_BODY),
    Check("properties/amount", {**DAY, "event": "signup"},
          [{"value": "2.5", "events": 2, "visitors": 2}, {"value": "3", "events": 1, "visitors": 1}]),
    Check("properties/amount", DAY, [{"value": "2.5", "events": 2, "visitors": 2},
                                     {"value": "10", "events": 1, "visitors": 1},
                                     {"value": "3", "events": 1, "visitors": 1}]),
    Check("properties/trial", DAY, [{"value": "true", "events": 2, "visitors": 2},
                                    {"value": "false", "events": 1, "visitors": 1}]),
    Check("properties/n", DAY, [{"value": "12", "events": 2, "visitors": 2}]),
    Check("events", {**DAY, "filters": "prop:trial==true"},
          [{"event": "signup", "events": 2, "visitors": 2}]),
    Check("events", {**DAY, "filters": "prop:amount==2.5;prop:n!=12"}, []),
    Check("events", {**DAY, "filters": "prop:n!=12"}, [{"event": "signup", "events": 1,
                                                        "visitors": 1}]),
])

# --- compare: year over year maps 29 February to 28 February -----------------------------------
LEAP = [
    pv("r1", "2024-02-29T10:00:00Z", revenue=10.50),
    pv("r2", "2024-02-29T11:00:00Z"),
    pv("r3", "2023-02-28T10:00:00Z", revenue=7),
    pv("r4", "2023-03-01T10:00:00Z"),  # not 29 February's twin
    pv("r5", "2024-02-28T10:00:00Z"),
]


def compared(pairs: dict[str, tuple[Any, Any, Any]]) -> dict[str, dict[str, Any]]:
    return {m: {"value": v, "previous": p, "change": c} for m, (v, p, c) in pairs.items()}


COMPARE = Case("UTC", [
    Send(LEAP),
    Check("overview", {"date_from": "2024-02-29", "date_to": "2024-02-29",
                       "compare": "year_over_year"}, compared({
        "visitors": (2, 1, 100.0), "visits": (2, 1, 100.0), "pageviews": (2, 1, 100.0),
        "views_per_visit": (1.0, 1.0, 0.0), "bounce_rate": (100.0, 100.0, 0.0),
        "visit_duration": (0, 0, None), "events": (2, 1, 100.0), "revenue": (10.5, 7.0, 50.0)})),
    Check("overview", {"date_from": "2024-02-29", "date_to": "2024-02-29",
                       "compare": "previous_period"}, compared({
        "visitors": (2, 1, 100.0), "visits": (2, 1, 100.0), "pageviews": (2, 1, 100.0),
        "views_per_visit": (1.0, 1.0, 0.0), "bounce_rate": (100.0, 100.0, 0.0),
        "visit_duration": (0, 0, None), "events": (2, 1, 100.0), "revenue": (10.5, 0.0, None)})),
    Check("overview", {"date_from": "2024-03-01", "date_to": "2024-03-02",
                       "compare": "previous_period"}, compared({
        "visitors": (0, 3, -100.0), "visits": (0, 3, -100.0), "pageviews": (0, 3, -100.0),
        "views_per_visit": (0.0, 1.0, -100.0), "bounce_rate": (0.0, 100.0, -100.0),
        "visit_duration": (0, 0, None), "events": (0, 3, -100.0),
        "revenue": (0.0, 10.5, -100.0)})),
])

# --- Funnel: strictly increasing times, e1 in the range, window inclusive ----------------------
FUNNEL = Case("UTC", [
    Send([
        pv("f1", "2024-03-10T10:00:00Z"), ev("signup", "f1", "2024-03-10T10:10:00Z"),
        ev("purchase", "f1", "2024-03-10T10:20:00Z"),
        pv("f2", "2024-03-10T10:00:00Z"), ev("purchase", "f2", "2024-03-10T10:05:00Z"),
        ev("signup", "f2", "2024-03-10T10:30:00Z"),
        ev("signup", "f3", "2024-03-10T09:00:00Z"), pv("f3", "2024-03-10T10:00:00Z"),
        pv("f4", "2024-03-09T23:50:00Z"), ev("signup", "f4", "2024-03-10T00:10:00Z"),
        pv("f5", "2024-03-10T23:50:00Z"), ev("signup", "f5", "2024-03-11T00:10:00Z"),
    ]),
    Check("funnel", [("date_from", "2024-03-10"), ("date_to", "2024-03-10"), ("step", "page:/"),
                     ("step", "event:signup"), ("step", "event:purchase"), ("window", "30m")], [
        {"step": 1, "label": "page:/", "visitors": 4, "conversion_rate": 100.0, "dropoff": 0},
        {"step": 2, "label": "event:signup", "visitors": 3, "conversion_rate": 75.0, "dropoff": 1},
        {"step": 3, "label": "event:purchase", "visitors": 1, "conversion_rate": 25.0,
         "dropoff": 2}]),
])

# --- conversion_rate: the row's visitors over the query's without event/page/prop conditions ----
CONVERSION = Case("UTC", [
    Send([pv("a", "2024-03-10T10:00:00Z", "/", properties={"amount": 3}),
          ev("signup", "a", "2024-03-10T10:01:00Z", revenue=0.125),
          pv("b", "2024-03-10T10:00:00Z", "/x", country="DE"),
          ev("signup", "b", "2024-03-10T10:02:00Z", revenue=1.005),
          pv("c", "2024-03-10T10:00:00Z", "/docs/a", country="DE")]),
    Check("breakdown", {**DAY, "dimension": "prop:amount", "metrics": "visitors,conversion_rate"},
          [{"prop:amount": "3", "visitors": 1, "conversion_rate": 33.3}]),
    Check("breakdown", {**DAY, "dimension": "prop:amount", "metrics": "conversion_rate,events"},
          [{"prop:amount": "3", "conversion_rate": 33.3, "events": 1}]),  # F1
    Check("goals", {**DAY, "filters": "country==DE;page!=/x"}, [
        {"goal": "Docs", "visitors": 1, "conversions": 1, "conversion_rate": 50.0, "revenue": 0.0},
        {"goal": "Signed up", "visitors": 1, "conversions": 1, "conversion_rate": 50.0,
         "revenue": 1.01}]),
    Check("revenue", DAY, {"revenue": 1.13, "orders": 2, "paying_visitors": 2,
                           "average_order_value": 0.57, "arpu": 0.38}),
], goals=({"name": "Signed up", "event": "signup"}, {"name": "Docs", "page": "/docs*"}))

# --- Rounding is half away from zero (banker's rounding would give 1.12, 2, 6.2, 1.93, -6.2) ----
ROUNDING = Case("UTC", [
    Send([pv("r0", "2024-03-10T10:00:00Z"), pv("r0", "2024-03-10T10:00:20Z")]
         + [pv(f"r{i}", "2024-03-10T10:00:00Z") for i in range(1, 8)]
         + [pv("s0", "2024-03-11T10:00:00Z")]
         + [pv(f"s{i}", f"2024-03-11T10:00:0{j}Z") for i in range(1, 16) for j in (0, 1)]
         + [pv(f"t{i}", "2024-03-12T10:00:00Z") for i in range(15)]),
    Check("overview", {"date_from": "2024-03-10", "date_to": "2024-03-10"}, {
        "visitors": {"value": 8}, "visits": {"value": 8}, "pageviews": {"value": 9},
        "views_per_visit": {"value": 1.13}, "bounce_rate": {"value": 87.5},
        "visit_duration": {"value": 3}, "events": {"value": 9}, "revenue": {"value": 0.0}}),
    Check("overview", {"date_from": "2024-03-11", "date_to": "2024-03-11"}, {
        "visitors": {"value": 16}, "visits": {"value": 16}, "pageviews": {"value": 31},
        "views_per_visit": {"value": 1.94}, "bounce_rate": {"value": 6.3},
        "visit_duration": {"value": 1}, "events": {"value": 31}, "revenue": {"value": 0.0}}),
    Check("overview", {"date_from": "2024-03-12", "date_to": "2024-03-12",
                       "compare": "previous_period"}, compared({
        "visitors": (15, 16, -6.3), "visits": (15, 16, -6.3), "pageviews": (15, 31, -51.6),
        "views_per_visit": (1.0, 1.94, -48.4), "bounce_rate": (100.0, 6.3, 1500.0),
        "visit_duration": (0, 1, -100.0), "events": (15, 31, -51.6),
        "revenue": (0.0, 0.0, None)})),
    Check("timeseries", {"date_from": "2024-03-10", "date_to": "2024-03-11",
                         "metrics": "views_per_visit,bounce_rate,visit_duration"}, [
        {"date": "2024-03-10", "views_per_visit": 1.13, "bounce_rate": 87.5, "visit_duration": 3},
        {"date": "2024-03-11", "views_per_visit": 1.94, "bounce_rate": 6.3, "visit_duration": 1}]),
])

# --- F2: a session list's conversion_rate is over the visitors of its sessions (SPEC 4, visitors of
# a session list are those of the matching sessions), so a's session, begun the day before, is out
SESSION_CONVERSION = Case("UTC", [
    Send([pv("a", "2024-03-09T23:50:00Z"), pv("a", "2024-03-10T00:10:00Z"),
          pv("b", "2024-03-10T10:00:00Z", referrer="https://t.co/x")]),
    Check("breakdown", {**DAY, "dimension": "source", "metrics": "visitors,conversion_rate"},
          [{"source": "t.co", "visitors": 1, "conversion_rate": 100.0}]),
])

CASES = {"rounding": ROUNDING, "session_conversion": SESSION_CONVERSION, "dst": DST, "midnight": MIDNIGHT, "weeks": WEEKS, "late": LATE, "filters": FILTERS, "properties": PROPERTIES,
         "compare": COMPARE, "funnel": FUNNEL, "conversion": CONVERSION}


@pytest.mark.parametrize("name", CASES)
def test_reference_gives_the_hand_computed_answers(name: str) -> None:
    case = CASES[name]
    sent: list[dict[str, Any]] = []
    for step in case.script:
        if isinstance(step, Send):
            sent += step.events
            continue
        data = reference.load(sent, case.timezone, case.goals)
        same(reference.answer(step.endpoint, step.params, data, NOW), step.expected,
             (step.endpoint, step.params))


@pytest.mark.parametrize("name", CASES)
async def test_api_gives_the_hand_computed_answers(name: str, client, db) -> None:
    case = CASES[name]
    site = await new_site(client, db, case.timezone)
    for goal in case.goals:
        await site.add_goal(**goal)
    for step in case.script:
        if isinstance(step, Send):
            if step.raw is not None:
                await site.send_raw(step.raw, step.events)
            else:
                await site.send(step.events)
            continue
        same(await site.results(step.endpoint, step.params), step.expected,
             (step.endpoint, step.params))


# --- The two reports that depend on the server's clock -----------------------------------------


def ago(minutes: float, now: datetime) -> str:
    return (now - timedelta(minutes=minutes)).isoformat()


async def test_realtime_counts_the_last_five_minutes(client, db) -> None:
    site = await new_site(client, db, "Europe/Berlin")
    now = datetime.now(UTC)
    await site.send([
        pv("v1", ago(1, now), "/a"), pv("v2", ago(3, now), "/a"), ev("click", "v2", ago(2, now)),
        pv("v3", ago(4, now), "/b"), pv("v4", ago(10, now), "/c"),
        pv("v5", ago(-10, now), "/d"),  # ten minutes ahead: valid, but not in the last five
    ])
    expected = {"visitors": 3, "pageviews": 3,
                "pages": [{"page": "/a", "visitors": 2, "pageviews": 2},
                          {"page": "/b", "visitors": 1, "pageviews": 1}]}
    same(site.reference("realtime", {}, now), expected, "reference")
    same(await site.results("realtime", {}), expected, "realtime")
    only_b = {"visitors": 1, "pageviews": 2, "pages": [{"page": "/b", "visitors": 1,
                                                        "pageviews": 2}]}
    await site.send([pv("v3", ago(4.5, now), "/b", country="NZ")])  # v3's session starts in NZ
    same(site.reference("realtime", {"filters": "country==NZ"}, now), only_b, "reference NZ")
    same(await site.results("realtime", {"filters": "country==NZ"}), only_b, "realtime NZ")


@pytest.mark.parametrize("period", ["today", "yesterday", "7d", "30d", "month", "12mo", None])
async def test_periods_are_relative_to_today_in_the_zone(client, db, period: str | None) -> None:
    """Events on the edges of every period; the answers must be the reference's for the same
    `now` (checked against hand-made edges, not against the engine's own calendar)."""
    site = await new_site(client, db, "America/New_York")
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("America/New_York")).date()
    edges = [today, today - timedelta(days=1), today - timedelta(days=6),
             today - timedelta(days=7), today - timedelta(days=29), today - timedelta(days=30),
             today.replace(day=1), today.replace(day=1) - timedelta(days=1),
             reference.months_back(today, 11), reference.months_back(today, 11) - timedelta(days=1)]
    events = []
    for index, day in enumerate(edges):
        first = reference.first_instant(day, ZoneInfo("America/New_York"))
        events.append(pv(f"early{index}", first.isoformat(), f"/d{index}"))
        last = min(first + timedelta(hours=23, minutes=59), now - timedelta(seconds=1))
        events.append(pv(f"late{index}", last.isoformat(), f"/d{index}"))
    await site.send(events)
    params = {"period": period} if period else {}
    for endpoint, extra in [("overview", {}), ("pages", {"limit": "1000"}),
                            ("timeseries", {"interval": "month" if period == "12mo" else "day"})]:
        query = {**params, **extra}
        if datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).date() != today:
            pytest.skip("midnight passed during the test")
        await site.check(endpoint, query, now)
