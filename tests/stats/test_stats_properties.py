"""Property-based check of the stats API against the reference (tests/stats/reference.py).

Each example makes a fresh project, sends a random small event set around a DST change (late and
out-of-order, in shuffled batches, with retries), then asks a few random queries and compares
every answer with the reference's. Dates are explicit, so nothing depends on today.
"""

import os
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sightline.state import state_of
from sightline.segments import service as segments
from tests.stats.harness import Params, Site, new_site

DST_DAYS = {  # a day on which the clocks change, per zone
    "Europe/Berlin": [date(2024, 3, 31), date(2024, 10, 27)],
    "America/New_York": [date(2024, 3, 10), date(2024, 11, 3)],
}
# Havana skips midnight on 2024-03-10 (00:00 -> 01:00); Kolkata and Kathmandu are not whole hours.
ZONES = ["Europe/Berlin", "America/New_York", "UTC", "America/Havana", "Asia/Kolkata",
         "Asia/Kathmandu"]
OFFSETS = ["Z", "+00:00", "+02:00", "-05:00", "+05:30"]
PATHS = ["/", "/", "/pricing", "/docs/a", "/docs/b", "/Docs/b", "/a|b", "/Ärger", "/zoo", "/😀",
         "https://shop.example/pricing?ref=x#top", "/blog?page=2"]
REFERRERS = [None, None, "https://www.Google.com/search?q=1", "https://news.ycombinator.com:8443/i#x",
             "http://t.co/abc", "https://www.google.com/"]
EVENT_NAMES = ["pageview", "pageview", "pageview", "signup", "purchase", "click", "web_vitals"]
VITAL_VALUES: dict[str, list[Any]] = {  # what the tracker sends, and some a client might
    "lcp": [120, 800, 800, 2500.5, 4000], "cls": [0, 0.0125, 0.05, 0.25],
    "ttfb": [35, 35.5, 200], "inp": [16, 180, "slow"],
}
PROPERTY_VALUES: dict[str, list[Any]] = {
    "plan": ["pro", "free", "Pro"], "amount": [2.5, 12, 12.0, 3], "trial": [True, False],
}
GOALS = [{"name": "Signed up", "event": "signup"}, {"name": "Read docs", "page": "/docs*"},
         {"name": "Pricing", "page": "/pricing"}]

SESSION_FILTERS = [
    "source==Direct / None", "source!=google.com", "source=@GOOGLE", "country==DE|US",
    "country!=DE", "device==mobile", "browser=@fire", "os!@mac", "utm_source==newsletter",
    "utm_source!=newsletter", "referrer=@google", "utm_medium==email", "utm_campaign!@spring",
    "entry_page==/", "exit_page!=/pricing", "entry_page=@docs",
]
EVENT_FILTERS = [
    "page==/pricing", "page=@docs", "page!=/", "page==/a\\|b|/", "event==signup",
    "event!=pageview", "prop:plan==pro", "prop:amount==2.5", "prop:amount==12",
    "prop:trial!=true", "prop:plan=@PRO", "page!@/docs", "page=@äRGER", "page=@😀|zo",
]


def stamp(instant: datetime, offset: str) -> str:
    """The instant as RFC 3339 text in one of several offsets (the same instant every time)."""
    if offset == "Z":
        return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return instant.astimezone(zone).isoformat()


@st.composite
def event_sets(draw: st.DrawFn, anchor: date) -> list[dict[str, Any]]:
    """A few visitors, each with a few visits of a few events over four days around `anchor`."""
    start = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC) - timedelta(days=1)
    events: list[dict[str, Any]] = []
    counter = 0
    for visitor in range(draw(st.integers(1, 5))):
        used: dict[datetime, bool] = {}  # instant -> every event there has an id
        for _visit in range(draw(st.integers(1, 3))):
            instant = start + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)),
                                        microseconds=draw(st.sampled_from([0, 0, 500_000])))
            session_id = draw(st.sampled_from([None, None, "s1", "s2"]))
            attrs = {
                "referrer": draw(st.sampled_from(REFERRERS)),
                "utm_source": draw(st.sampled_from([None, None, "newsletter", "Newsletter"])),
                "utm_medium": draw(st.sampled_from([None, "email"])),
                "utm_campaign": draw(st.sampled_from([None, "spring", "Spring-sale"])),
                "country": draw(st.sampled_from([None, "DE", "US", "FR"])),
                "device": draw(st.sampled_from([None, "desktop", "mobile"])),
                "browser": draw(st.sampled_from([None, "Firefox", "Chrome"])),
                "os": draw(st.sampled_from([None, "macOS", "Linux"])),
            }
            for index in range(draw(st.integers(1, 4))):
                if index:
                    instant += timedelta(minutes=draw(st.sampled_from([0, 1, 5, 20, 31, 45])),
                                         seconds=draw(st.integers(0, 59)))
                counter += 1
                has_id = draw(st.booleans())
                # ties at one instant only between events with ids (ordered by id); the spec
                # leaves the order of other ties open
                while instant in used and not (has_id and used[instant]):
                    instant += timedelta(seconds=1)
                used[instant] = has_id and used.get(instant, True)
                name = draw(st.sampled_from(EVENT_NAMES))
                event: dict[str, Any] = {
                    "name": name, "visitor_id": f"v{visitor}",
                    "timestamp": stamp(instant, draw(st.sampled_from(OFFSETS))),
                }
                if name == "pageview" or draw(st.booleans()):
                    event["path"] = draw(st.sampled_from(PATHS))
                if has_id:
                    event["id"] = f"e{draw(st.sampled_from(['', 'x']))}{counter}"
                if session_id:
                    event["session_id"] = session_id
                # later events of a visit sometimes carry other attributes (the first one wins)
                own = attrs if index == 0 or draw(st.booleans()) else {
                    "country": draw(st.sampled_from([None, "US"])),
                    "utm_source": draw(st.sampled_from([None, "other"]))}
                event.update({k: v for k, v in own.items() if v is not None})
                revenue = draw(st.sampled_from([None, None, None, 0, 9.99, 12.5, 100, 0.125, 1.005]))
                if revenue is not None:
                    event["revenue"] = revenue
                keys = draw(st.sets(st.sampled_from(sorted(PROPERTY_VALUES)), max_size=3))
                if name == "web_vitals":
                    vitals = draw(st.sets(st.sampled_from(sorted(VITAL_VALUES)), min_size=1))
                    event["properties"] = {k: draw(st.sampled_from(VITAL_VALUES[k]))
                                           for k in sorted(vitals)}
                elif keys:
                    event["properties"] = {k: draw(st.sampled_from(PROPERTY_VALUES[k]))
                                           for k in sorted(keys)}
                events.append(event)
    return events


@st.composite
def batches(draw: st.DrawFn, events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events shuffled into 1-3 batches, with some events that have an id sent again (a few
    of them changed: the first one sent is the one stored)."""
    shuffled = list(draw(st.permutations(events)))
    retries = [e if draw(st.integers(0, 3)) else {**e, "path": "/changed", "name": "retry"}
               for e in events if "id" in e and draw(st.integers(0, 5)) == 0]
    cuts = sorted(draw(st.lists(st.integers(0, len(shuffled)), max_size=2)))
    parts = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True)]
    parts[-1] = parts[-1] + retries
    return [part for part in parts if part]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, date, list[list[dict[str, Any]]]]:
    zone = draw(st.sampled_from(ZONES))
    anchor = draw(st.sampled_from([d for days in DST_DAYS.values() for d in days]))
    return zone, anchor, draw(batches(draw(event_sets(anchor))))


@st.composite
def common(draw: st.DrawFn, anchor: date, event_filters: bool = True) -> Params:
    date_from = anchor + timedelta(days=draw(st.integers(-1, 1)))
    date_to = date_from + timedelta(days=draw(st.integers(0, 2)))
    params: Params = [("date_from", date_from.isoformat()), ("date_to", date_to.isoformat())]
    # no tz and no filters half of the time: the engine may answer those from its rollups
    tz = draw(st.sampled_from([None, None, None, None, *ZONES]))
    if tz:
        params.append(("tz", tz))
    pool = SESSION_FILTERS + (EVENT_FILTERS if event_filters else [])
    conditions = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True)) \
        if draw(st.booleans()) else []
    if conditions:
        params.append(("filters", ";".join(conditions)))
    return params


@st.composite
def paging(draw: st.DrawFn) -> Params:
    if draw(st.integers(0, 3)):
        return []
    return [("limit", str(draw(st.integers(1, 3)))), ("page", str(draw(st.integers(1, 3))))]


METRICS = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration",
           "events", "revenue"]
SESSION_LIST_ENDPOINTS = ["entry-pages", "exit-pages", "sources", "countries", "devices",
                          "browsers", "os", "utm/utm_source", "utm/utm_medium", "utm/utm_campaign",
                          "utm/utm_content", "utm/utm_term"]
SESSION_DIMENSIONS = ["source", "referrer", "utm_source", "utm_medium", "utm_campaign", "country",
                      "device", "browser", "os", "entry_page", "exit_page"]
SESSION_METRICS = ["visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit",
                   "conversion_rate"]


@st.composite
def aggregate_queries(draw: st.DrawFn, anchor: date) -> tuple[str, Params]:
    params = draw(common(anchor))
    if draw(st.booleans()):
        compare = draw(st.sampled_from([None, "previous_period", "year_over_year"]))
        return "overview", params + ([("compare", compare)] if compare else [])
    interval = draw(st.sampled_from(["hour", "day", "week", "month"]))
    metrics = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True))
    return "timeseries", params + [("interval", interval), ("metrics", ",".join(metrics))]


@st.composite
def event_list_queries(draw: st.DrawFn, anchor: date) -> tuple[str, Params]:
    params = draw(common(anchor)) + draw(paging())
    endpoint = draw(st.sampled_from(["pages", "events", "properties", "goals", "revenue",
                                     "breakdown", "vitals"]))
    if endpoint == "vitals":
        params += [("metric", draw(st.sampled_from(sorted(VITAL_VALUES))))]
    if endpoint == "properties":
        endpoint = f"properties/{draw(st.sampled_from(sorted(PROPERTY_VALUES)))}"
        event = draw(st.sampled_from([None, "signup", "pageview"]))
        params += [("event", event)] if event else []
    if endpoint == "breakdown":
        dimension = draw(st.sampled_from(["page", "event", "prop:plan", "prop:amount"]))
        metrics = draw(st.lists(st.sampled_from(["visitors", "pageviews", "events",
                                                 "conversion_rate"]),
                                min_size=1, max_size=3, unique=True))
        params += [("dimension", dimension), ("metrics", ",".join(metrics))]
    return endpoint, params


@st.composite
def session_list_queries(draw: st.DrawFn, anchor: date) -> tuple[str, Params]:
    params = draw(common(anchor)) + draw(paging())
    endpoint = draw(st.sampled_from([*SESSION_LIST_ENDPOINTS, "referrers", "breakdown"]))
    if endpoint == "referrers":
        source = draw(st.sampled_from(["google.com", "news.ycombinator.com", "t.co",
                                       "Direct / None"]))
        params.append(("source", source))
    if endpoint == "breakdown":
        metrics = draw(st.lists(st.sampled_from(SESSION_METRICS), min_size=1, max_size=3,
                                unique=True))
        params += [("dimension", draw(st.sampled_from(SESSION_DIMENSIONS))),
                   ("metrics", ",".join(metrics))]
    return endpoint, params


@st.composite
def behaviour_queries(draw: st.DrawFn, anchor: date) -> tuple[str, Params]:
    params = draw(common(anchor, event_filters=False))
    endpoint = draw(st.sampled_from(["funnel", "retention", "active-users"]))
    if endpoint == "funnel":
        steps = draw(st.lists(st.sampled_from(["page:/", "page:/pricing", "page:/docs/a",
                                               "event:signup", "event:purchase",
                                               "event:pageview"]), min_size=2, max_size=4))
        params += [("step", step) for step in steps]
        params.append(("window", draw(st.sampled_from(["30m", "2h", "1d", "7d"]))))
    elif endpoint == "retention":
        params += [("interval", draw(st.sampled_from(["day", "week"]))),
                   ("periods", str(draw(st.integers(1, 4))))]
    return endpoint, params


async def run(client: Any, db: Any, data: st.DataObject, queries: Any, count: int,
              columnar: Any = None) -> None:
    """Send the batches one by one, asking one query after each (late events must show at once,
    cache or not), then the rest; an early query is asked again at the end. With `columnar`
    (engine, duck), segments are built after each batch, so the next batch's late events are
    read from PostgreSQL beside segments that no longer hold their days."""
    zone, anchor, parts = data.draw(scenarios(), label="timezone, anchor day, batches")
    site: Site = await new_site(client, db, zone)
    for goal in GOALS:
        await site.add_goal(**goal)
    asked: list[tuple[str, Params]] = []

    async def ask(endpoint: str, params: Params) -> None:
        await site.check(endpoint, params, context=(endpoint, params,
                                                    f"after {len(site.sent)} events sent"))
        asked.append((endpoint, params))

    for part in parts:
        await site.send(part)
        await ask(*data.draw(queries(anchor), label="query"))
        if columnar is not None:
            await segments.build_stale(*columnar, site.project.id, zone)
    for _ in range(count - len(parts)):
        await ask(*data.draw(queries(anchor), label="query"))
    await ask(*asked[0])


# Shrinking an example costs many database round trips (minutes); STATS_SHRINK=1 turns it on.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target] + (
    [Phase.shrink] if os.environ.get("STATS_SHRINK") else [])
EXAMPLES = settings(max_examples=int(os.environ.get("STATS_EXAMPLES", "40")), deadline=None,
                    database=None, phases=PHASES, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@EXAMPLES
@given(data=st.data())
async def test_overview_and_timeseries_match_the_reference(client, db, data) -> None:
    await run(client, db, data, aggregate_queries, 5)


@EXAMPLES
@given(data=st.data())
async def test_event_lists_match_the_reference(client, db, data) -> None:
    await run(client, db, data, event_list_queries, 6)


@EXAMPLES
@given(data=st.data())
async def test_session_lists_match_the_reference(client, db, data) -> None:
    await run(client, db, data, session_list_queries, 6)


@EXAMPLES
@given(data=st.data())
async def test_funnel_retention_active_users_match_the_reference(client, db, data) -> None:
    await run(client, db, data, behaviour_queries, 4)


# The same properties over the columnar family (segments plus PostgreSQL's late rows).
COLUMNAR_EXAMPLES = settings(EXAMPLES, max_examples=int(os.environ.get("STATS_EXAMPLES", "40")) // 2)


@COLUMNAR_EXAMPLES
@given(data=st.data())
async def test_columnar_overview_and_timeseries_match_the_reference(client, db, app, data) -> None:
    await run(client, db, data, aggregate_queries, 5, (state_of(app).engine, state_of(app).duck))


@COLUMNAR_EXAMPLES
@given(data=st.data())
async def test_columnar_event_lists_match_the_reference(client, db, app, data) -> None:
    await run(client, db, data, event_list_queries, 6, (state_of(app).engine, state_of(app).duck))


@COLUMNAR_EXAMPLES
@given(data=st.data())
async def test_columnar_session_lists_match_the_reference(client, db, app, data) -> None:
    await run(client, db, data, session_list_queries, 6, (state_of(app).engine, state_of(app).duck))


@COLUMNAR_EXAMPLES
@given(data=st.data())
async def test_columnar_funnel_retention_active_users_match_the_reference(client, db, app,
                                                                          data) -> None:
    await run(client, db, data, behaviour_queries, 4, (state_of(app).engine, state_of(app).duck))
