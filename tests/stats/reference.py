"""A slow, obviously-correct reference of the stats API (SPEC section 4), in plain Python.

It reads the events exactly as they were sent to POST /api/v1/events and applies the spec's rules
itself (normalization, sessions, periods, buckets, filters, metrics, rounding, sorting), with no
code shared with the engine. `answer(...)` returns what `results` of the matching HTTP response
must be, as plain JSON values.

Where the spec is silent, the choice made here is written down in a comment starting with
"Interpretation:"; the lead has the list.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

DIRECT = "Direct / None"
SESSION_TIMEOUT = timedelta(minutes=30)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
SESSION_ATTRIBUTES = ("source", "referrer", *UTM_FIELDS, "country", "device", "browser", "os")
EVENT_DIMENSIONS = ("page", "event")  # and every prop:<key>
SESSION_DIMENSIONS = (*SESSION_ATTRIBUTES, "entry_page", "exit_page")
OPERATORS = ("==", "!=", "=@", "!@")

# ---------------------------------------------------------------- normalization (SPEC section 3)


def reduce_path(path: str) -> str:
    """A full URL is reduced to its path; a query string (and fragment) is dropped."""
    parts = urlsplit(path)
    if parts.scheme and parts.netloc:
        return parts.path or "/"
    return path.split("?", 1)[0].split("#", 1)[0]


def clean_referrer(referrer: str | None) -> str | None:
    """The URL as sent, without query string or fragment."""
    if not referrer:
        return None
    return referrer.split("#", 1)[0].split("?", 1)[0]


def source_of(utm_source: str | None, referrer: str | None) -> str:
    """utm_source as sent, else the referrer's host lower-cased without www. and port."""
    if utm_source:
        return utm_source
    if referrer:
        host = urlsplit(referrer).netloc.rsplit("@", 1)[-1]
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        host = host.lower()
        if host.startswith("www."):
            host = host[len("www."):]
        if host:
            return host
    return DIRECT


def canonical(value: Any) -> str:
    """The canonical JSON text of a parsed property value: true, 2.5 for 2.50, 12 for 12.0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Interpretation: a string property compares as the string itself, not its quoted JSON.
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)  # shortest round-trip text, as JSON writers do for ordinary magnitudes
    raise TypeError(value)


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).astimezone(UTC)


# ---------------------------------------------------------------- events and sessions


@dataclass
class Event:
    seq: int  # arrival order (only breaks ties the spec leaves open; tests avoid relying on it)
    id: str | None
    name: str
    ts: datetime
    visitor: str
    session_id: str | None
    path: str | None
    attrs: dict[str, str | None]  # the event's own source, referrer, utm_*, country, ...
    revenue: Decimal | None
    props: dict[str, str]
    session: Session | None = None

    def order(self) -> tuple[Any, ...]:
        """Order inside a session: time, then id (code points; events with an id first)."""
        return (self.ts, self.id is None, self.id or "", self.seq)


@dataclass
class Session:
    visitor: str
    key: tuple[str, ...]
    events: list[Event] = field(default_factory=list)

    def finish(self) -> None:
        self.events.sort(key=Event.order)
        first = self.events[0]
        self.start = first.ts
        self.end = self.events[-1].ts
        self.attrs = dict(first.attrs)
        pageviews = [e for e in self.events if e.name == "pageview"]
        self.pageviews = len(pageviews)
        self.entry_page = pageviews[0].path if pageviews else None
        self.exit_page = pageviews[-1].path if pageviews else None
        self.duration = Fraction((self.end - self.start) // timedelta(microseconds=1), 1_000_000)
        self.bounce = self.pageviews == 1 and len(self.events) == 1
        for event in self.events:
            event.session = self

    def value(self, dimension: str) -> str | None:
        if dimension == "entry_page":
            return self.entry_page
        if dimension == "exit_page":
            return self.exit_page
        return self.attrs[dimension]


@dataclass
class Data:
    events: list[Event]
    sessions: list[Session]
    timezone: str
    goals: list[dict[str, str]]


def to_event(seq: int, raw: Mapping[str, Any], now: datetime) -> Event:
    referrer = clean_referrer(raw.get("referrer"))
    attrs: dict[str, str | None] = {
        "source": source_of(raw.get("utm_source"), referrer),
        "referrer": referrer,
        **{name: raw.get(name) for name in UTM_FIELDS},
        "country": raw["country"].upper() if raw.get("country") else None,
        "device": raw.get("device"), "browser": raw.get("browser"), "os": raw.get("os"),
    }
    if raw.get("user_agent") and not all(attrs[k] for k in ("device", "browser", "os")):
        raise NotImplementedError("the reference does not parse user agents")
    revenue = raw.get("revenue")
    return Event(
        seq=seq, id=raw.get("id"), name=raw["name"],
        ts=parse_timestamp(raw["timestamp"]) if raw.get("timestamp") else now,
        visitor=raw["visitor_id"], session_id=raw.get("session_id"),
        path=reduce_path(raw["path"]) if raw.get("path") else None, attrs=attrs,
        revenue=None if revenue is None else Decimal(str(revenue)),
        props={k: canonical(v) for k, v in (raw.get("properties") or {}).items()},
    )


def load(sent: Iterable[Mapping[str, Any]], timezone: str = "UTC",
         goals: Sequence[Mapping[str, str]] = (), now: datetime | None = None) -> Data:
    """`sent`: every event in the order the batches were posted (retries included)."""
    now = now or datetime.now(UTC)
    events: list[Event] = []
    seen_ids: set[str] = set()
    for seq, raw in enumerate(sent):
        if raw.get("id") is not None:
            if raw["id"] in seen_ids:
                continue  # an id already stored is skipped
            seen_ids.add(raw["id"])
        events.append(to_event(seq, raw, now))

    sessions: list[Session] = []
    explicit: dict[tuple[str, str], Session] = {}
    auto: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.session_id is not None:
            pair = (event.visitor, event.session_id)
            if pair not in explicit:
                explicit[pair] = Session(event.visitor, ("s", *pair))
            explicit[pair].events.append(event)
        else:
            auto[event.visitor].append(event)
    sessions += explicit.values()
    for visitor, own in auto.items():
        own.sort(key=Event.order)
        current: Session | None = None
        previous: datetime | None = None
        for event in own:
            if current is None or previous is None or event.ts - previous > SESSION_TIMEOUT:
                current = Session(visitor, ("a", visitor, event.ts.isoformat()))
                sessions.append(current)
            current.events.append(event)
            previous = event.ts
    for session in sessions:
        session.finish()
    return Data(events, sessions, timezone, [dict(g) for g in goals])


# ---------------------------------------------------------------- rounding and output


def round_half_away(value: Fraction | int, places: int) -> Decimal:
    scaled = Fraction(value) * 10**places
    magnitude = math.floor(abs(scaled) + Fraction(1, 2))
    return Decimal(magnitude if scaled >= 0 else -magnitude).scaleb(-places)


def ratio(numerator: Fraction | int, denominator: Fraction | int) -> Fraction:
    """A rate over nothing is 0."""
    return Fraction(numerator) / Fraction(denominator) if denominator else Fraction(0)


# metric -> decimal places of its output; None for counts (integers)
PLACES: dict[str, int | None] = {
    "visitors": None, "visits": None, "pageviews": None, "events": None, "exits": None,
    "conversions": None, "orders": None, "paying_visitors": None,
    "bounce_rate": 1, "conversion_rate": 1, "exit_rate": 1, "visit_duration": 0,
    "views_per_visit": 2, "revenue": 2, "average_order_value": 2, "arpu": 2,
    "stickiness": 1, "rate": 1, "change": 1,
}


def out(metric: str, value: Fraction | int | Decimal) -> int | float:
    places = PLACES[metric]
    if places is None:
        assert Fraction(value).denominator == 1
        return int(value)
    rounded = round_half_away(Fraction(value), places)
    return int(rounded) if places == 0 else float(rounded)


def percent(part: Fraction | int, whole: Fraction | int) -> Fraction:
    return ratio(part, whole) * 100


# ---------------------------------------------------------------- the query


@dataclass(frozen=True)
class Condition:
    dimension: str
    operator: str
    values: tuple[str, ...]

    @property
    def on_events(self) -> bool:
        return self.dimension in EVENT_DIMENSIONS or self.dimension.startswith("prop:")

    def holds(self, value: str | None) -> bool:
        if self.operator == "==":
            return value is not None and value in self.values
        if self.operator == "!=":
            return value is None or value not in self.values
        contains = value is not None and any(v.lower() in value.lower() for v in self.values)
        return contains if self.operator == "=@" else not contains


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split at separators that are not escaped by a backslash; escapes stay in the parts."""
    parts, current, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current += text[index:index + 2]
            index += 2
            continue
        if char == separator:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    parts.append(current)
    return parts


def unescape(text: str) -> str:
    # Interpretation: a backslash before any other character is kept as a literal backslash.
    result, index = "", 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in "|;\\":
            result += text[index + 1]
            index += 2
        else:
            result += text[index]
            index += 1
    return result


def parse_filters(text: str | None) -> list[Condition]:
    conditions = []
    for part in split_unescaped(text or "", ";"):
        if not part:
            continue
        index = min(i for i in (part.find(op) for op in OPERATORS) if i > 0)
        operator = part[index:index + 2]
        # Interpretation: `|` separates alternatives for all four operators (=@ a|b: contains a
        # or b; !@ a|b: contains neither).
        values = tuple(unescape(v) for v in split_unescaped(part[index + 2:], "|"))
        conditions.append(Condition(part[:index], operator, values))
    return conditions


def first_instant(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date, also where DST skips midnight."""
    midnight = datetime.combine(day, time())
    real = [midnight.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
    real = [t for t in real if t.astimezone(zone).replace(tzinfo=None) == midnight]
    if real:
        return min(real)
    # midnight skipped: the instant the clocks jump (on a whole minute in every modern zone)
    low = midnight.replace(tzinfo=UTC) - timedelta(hours=30)  # still the day before everywhere
    low_minute, high_minute = 0, 60 * 60  # the date has begun 60 hours later everywhere
    while high_minute - low_minute > 1:
        middle = (low_minute + high_minute) // 2
        if (low + timedelta(minutes=middle)).astimezone(zone).date() >= day:
            high_minute = middle
        else:
            low_minute = middle
    return low + timedelta(minutes=high_minute)


def shift_year_back(day: date) -> date:
    """Year over year maps 29 February to 28 February."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Query:
    zone: ZoneInfo
    date_from: date
    date_to: date
    conditions: tuple[Condition, ...]
    params: Mapping[str, list[str]]

    @property
    def start(self) -> datetime:
        return first_instant(self.date_from, self.zone)

    @property
    def end(self) -> datetime:
        return first_instant(self.date_to + timedelta(days=1), self.zone)

    def with_dates(self, date_from: date, date_to: date) -> Query:
        return Query(self.zone, date_from, date_to, self.conditions, self.params)

    def without_event_conditions(self) -> Query:
        kept = tuple(c for c in self.conditions if not c.on_events)
        return Query(self.zone, self.date_from, self.date_to, kept, self.params)

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else default

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def as_multi(params: Mapping[str, Any] | Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    items = params.items() if isinstance(params, Mapping) else params
    multi: dict[str, list[str]] = defaultdict(list)
    for name, value in items:
        if value is None:
            continue
        multi[name] += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return dict(multi)


def make_query(params: Mapping[str, Any] | Sequence[tuple[str, str]], data: Data,
               now: datetime) -> Query:
    multi = as_multi(params)
    zone = ZoneInfo(multi.get("tz", [data.timezone])[-1])
    today = now.astimezone(zone).date()
    if "date_from" in multi:
        date_from = date.fromisoformat(multi["date_from"][-1])
        date_to = date.fromisoformat(multi["date_to"][-1])
    else:
        period = multi.get("period", ["30d"])[-1]
        date_to = today
        date_from = {
            "today": today,
            "yesterday": today - timedelta(days=1),
            "7d": today - timedelta(days=6),
            "30d": today - timedelta(days=29),
            "month": today.replace(day=1),
            "12mo": months_back(today, 11),
        }[period]
        if period == "yesterday":
            date_to = date_from
    conditions = tuple(parse_filters(multi.get("filters", [""])[-1]))
    return Query(zone, date_from, date_to, conditions, multi)


# ---------------------------------------------------------------- what a query keeps


def event_value(event: Event, dimension: str) -> str | None:
    if dimension == "page":
        return event.path
    if dimension == "event":
        return event.name
    if dimension.startswith("prop:"):
        return event.props.get(dimension[len("prop:"):])
    assert event.session is not None
    return event.session.value(dimension)


@dataclass
class Kept:
    sessions: list[Session]  # sessions that pass every condition (whole, all times)
    events: list[Event]  # events that pass every condition (all times)


def keep(data: Data, conditions: Sequence[Condition]) -> Kept:
    """A session-attribute condition keeps the sessions (and their events) that have it; page,
    event and prop: conditions keep the events meeting all of them at once, and the sessions
    containing at least one such event anywhere in the session."""
    on_sessions = [c for c in conditions if not c.on_events]
    on_events = [c for c in conditions if c.on_events]
    sessions = [s for s in data.sessions
                if all(c.holds(s.value(c.dimension)) for c in on_sessions)]

    def event_passes(event: Event) -> bool:
        return all(c.holds(event_value(event, c.dimension)) for c in on_events)

    events = [e for s in sessions for e in s.events if event_passes(e)]
    if on_events:
        sessions = [s for s in sessions if any(event_passes(e) for e in s.events)]
    return Kept(sessions, events)


@dataclass
class Slice:
    """The matching sessions starting in the range and the matching events inside it."""

    sessions: list[Session]
    events: list[Event]


def in_range(data: Data, query: Query) -> Slice:
    kept = keep(data, query.conditions)
    start, end = query.start, query.end
    return Slice([s for s in kept.sessions if start <= s.start < end],
                 [e for e in kept.events if start <= e.ts < end])


# ---------------------------------------------------------------- metrics (unrounded)


def event_metrics(events: Sequence[Event]) -> dict[str, Fraction]:
    return {
        "visitors": Fraction(len({e.visitor for e in events})),
        "pageviews": Fraction(sum(e.name == "pageview" for e in events)),
        "events": Fraction(len(events)),
        "revenue": Fraction(sum((e.revenue for e in events if e.revenue is not None), Decimal(0))),
    }


def session_metrics(sessions: Sequence[Session]) -> dict[str, Fraction]:
    return {
        "visitors": Fraction(len({s.visitor for s in sessions})),
        "visits": Fraction(len(sessions)),
        "bounce_rate": percent(sum(s.bounce for s in sessions), len(sessions)),
        "visit_duration": ratio(sum((s.duration for s in sessions), Fraction(0)), len(sessions)),
        "views_per_visit": ratio(sum(s.pageviews for s in sessions), len(sessions)),
    }


OVERVIEW_METRICS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                    "visit_duration", "events", "revenue")
SESSION_METRICS = ("visits", "bounce_rate", "visit_duration", "views_per_visit")


def aggregate(piece: Slice) -> dict[str, Fraction]:
    """Overview/timeseries: visitors, pageviews, events, revenue from events; the rest from
    sessions."""
    values = event_metrics(piece.events)
    sessions = session_metrics(piece.sessions)
    values.update({m: sessions[m] for m in SESSION_METRICS})
    return values


# ---------------------------------------------------------------- lists


def sort_and_page(rows: list[dict[str, Any]], dimension: str, metrics: Sequence[str],
                  query: Query) -> list[dict[str, Any]]:
    # Interpretation: the sort uses the first metric as shown (rounded); ties by dimension value.
    rows.sort(key=lambda row: row[dimension])
    rows.sort(key=lambda row: row[metrics[0]], reverse=True)
    limit = int(query.one("limit", "100") or 100)
    page = int(query.one("page", "1") or 1)
    return rows[(page - 1) * limit: page * limit]


def rows_of(groups: Mapping[str, Any], dimension: str, metrics: Sequence[str],
            measure: Callable[[Any], dict[str, Fraction]], query: Query) -> list[dict[str, Any]]:
    rows = []
    for value, members in groups.items():
        computed = measure(members)
        rows.append({dimension: value, **{m: out(m, computed[m]) for m in metrics}})
    return sort_and_page(rows, dimension, metrics, query)


def group(items: Iterable[Any], key: Callable[[Any], str | None]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        value = key(item)
        if value is not None:  # rows without a value for the dimension are left out
            groups[value].append(item)
    return groups


def base_visitors(data: Data, query: Query, sessions_kind: bool) -> Fraction:
    """Visitors of the same query without its event, page and prop: conditions."""
    piece = in_range(data, query.without_event_conditions())
    if sessions_kind:
        return Fraction(len({s.visitor for s in piece.sessions}))
    return Fraction(len({e.visitor for e in piece.events}))


def session_list(data: Data, query: Query, dimension: str, metrics: Sequence[str],
                 sessions: Sequence[Session] | None = None, name: str | None = None,
                 ) -> list[dict[str, Any]]:
    piece = in_range(data, query)
    chosen = piece.sessions if sessions is None else sessions
    base = base_visitors(data, query, True) if "conversion_rate" in metrics else Fraction(0)

    def measure(members: list[Session]) -> dict[str, Fraction]:
        values = session_metrics(members)
        values["conversion_rate"] = percent(values["visitors"], base)
        return values

    return rows_of(group(chosen, lambda s: s.value(dimension)), name or dimension, metrics,
                   measure, query)


def event_list(data: Data, query: Query, dimension: str, metrics: Sequence[str],
               only: Callable[[Event], bool] = lambda e: True, name: str | None = None,
               ) -> list[dict[str, Any]]:
    piece = in_range(data, query)
    base = base_visitors(data, query, False) if "conversion_rate" in metrics else Fraction(0)

    def measure(members: list[Event]) -> dict[str, Fraction]:
        values = event_metrics(members)
        values["conversion_rate"] = percent(values["visitors"], base)
        return values

    chosen = [e for e in piece.events if only(e)]
    return rows_of(group(chosen, lambda e: event_value(e, dimension)), name or dimension, metrics,
                   measure, query)


def exit_pages(data: Data, query: Query) -> list[dict[str, Any]]:
    sessions = in_range(data, query).sessions
    # Interpretation: exit_rate's denominator counts every pageview of that page in the list's
    # matching sessions (whole sessions, whichever of their events matched an event filter).
    views: dict[str, int] = defaultdict(int)
    for session in sessions:
        for event in session.events:
            if event.name == "pageview":
                views[event.path or ""] += 1

    def measure(members: list[Session]) -> dict[str, Fraction]:
        page = members[0].exit_page or ""
        return {"exits": Fraction(len(members)),
                "visitors": Fraction(len({s.visitor for s in members})),
                "exit_rate": percent(len(members), views[page])}

    return rows_of(group(sessions, lambda s: s.exit_page), "exit_page",
                   ("exits", "visitors", "exit_rate"), measure, query)


# ---------------------------------------------------------------- overview and timeseries


def previous_range(query: Query, compare: str) -> tuple[date, date]:
    if compare == "previous_period":
        length = (query.date_to - query.date_from).days + 1
        return query.date_from - timedelta(days=length), query.date_from - timedelta(days=1)
    return shift_year_back(query.date_from), shift_year_back(query.date_to)


def overview(data: Data, query: Query) -> dict[str, Any]:
    values = aggregate(in_range(data, query))
    compare = query.one("compare")
    result: dict[str, Any] = {}
    previous = aggregate(in_range(data, query.with_dates(*previous_range(query, compare))))\
        if compare else {}
    for metric in OVERVIEW_METRICS:
        item: dict[str, Any] = {"value": out(metric, values[metric])}
        if compare:
            before = previous[metric]
            item["previous"] = out(metric, before)
            change = (values[metric] - before) / before * 100 if before else None
            item["change"] = None if change is None else out("change", change)
        result[metric] = item
    return result


def bucket_label(instant: datetime, query: Query, interval: str) -> str:
    local = instant.astimezone(query.zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0).isoformat()
    return bucket_of_day(local.date(), interval).isoformat()


def bucket_of_day(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def all_buckets(query: Query, interval: str) -> list[str]:
    labels: list[str] = []
    if interval == "hour":
        instant, step = query.start, timedelta(minutes=15)
        while instant < query.end:
            labels.append(bucket_label(instant, query, "hour"))
            instant += step
    else:
        day = query.date_from
        while day <= query.date_to:
            labels.append(bucket_of_day(day, interval).isoformat())
            day += timedelta(days=1)
    return list(dict.fromkeys(labels))


def timeseries(data: Data, query: Query) -> list[dict[str, Any]]:
    interval = query.one("interval", "day") or "day"
    metrics = (query.one("metrics", "visitors") or "visitors").split(",")
    piece = in_range(data, query)
    events = group(piece.events, lambda e: bucket_label(e.ts, query, interval))
    sessions = group(piece.sessions, lambda s: bucket_label(s.start, query, interval))
    rows = []
    for label in all_buckets(query, interval):
        values = aggregate(Slice(sessions.get(label, []), events.get(label, [])))
        rows.append({"date": label, **{m: out(m, values[m]) for m in metrics}})
    return rows


# ---------------------------------------------------------------- goals, funnel, retention, ...


def goal_matches(goal: Mapping[str, str | None], event: Event) -> bool:
    if goal.get("event"):
        return event.name == goal["event"]
    page = goal["page"] or ""
    if event.name != "pageview" or event.path is None:
        return False
    return event.path.startswith(page[:-1]) if page.endswith("*") else event.path == page


def goals(data: Data, query: Query) -> list[dict[str, Any]]:
    events = in_range(data, query).events
    base = base_visitors(data, query, False)
    rows = []
    for goal in data.goals:
        hits = [e for e in events if goal_matches(goal, e)]
        visitors = len({e.visitor for e in hits})
        revenue = sum((e.revenue for e in hits if e.revenue is not None), Decimal(0))
        rows.append({"goal": goal["name"], "visitors": visitors, "conversions": len(hits),
                     "conversion_rate": out("conversion_rate", percent(visitors, base)),
                     "revenue": out("revenue", Fraction(revenue))})
    return sort_and_page(rows, "goal", ("visitors",), query)


WINDOWS = {"30m": timedelta(minutes=30), "2h": timedelta(hours=2), "1d": timedelta(days=1),
           "7d": timedelta(days=7)}


def step_matches(step: str, event: Event) -> bool:
    kind, _, target = step.partition(":")
    if kind == "page":
        return event.name == "pageview" and event.path == target
    return event.name == target


def funnel(data: Data, query: Query) -> list[dict[str, Any]]:
    steps = query.params["step"]
    window = WINDOWS[query.one("window", "1d") or "1d"]
    by_visitor = group(keep(data, query.conditions).events, lambda e: e.visitor)
    reached = [0] * len(steps)
    for events in by_visitor.values():
        events = sorted(events, key=lambda e: e.ts)
        best = 0
        for first in events:
            if not (query.start <= first.ts < query.end and step_matches(steps[0], first)):
                continue
            count, last = 1, first.ts
            for step in steps[1:]:
                # the earliest later match is the best choice for every following step
                later = [e.ts for e in events if e.ts > last and step_matches(step, e)]
                if not later or min(later) > first.ts + window:
                    break
                count, last = count + 1, min(later)
            best = max(best, count)
        for index in range(best):
            reached[index] += 1
    return [{"step": index + 1, "label": step, "visitors": reached[index],
             "conversion_rate": out("conversion_rate", percent(reached[index], reached[0])),
             "dropoff": reached[index - 1] - reached[index] if index else 0}
            for index, step in enumerate(steps)]


def retention(data: Data, query: Query) -> list[dict[str, Any]]:
    interval = query.one("interval", "week") or "week"
    periods = int(query.one("periods", "8") or 8)
    step = timedelta(days=7 if interval == "week" else 1)
    events = keep(data, query.conditions).events
    active: dict[str, set[date]] = defaultdict(set)
    for event in events:
        active[event.visitor].add(bucket_of_day(query.local_date(event.ts), interval))
    # Interpretation: cohorts are listed oldest first, not sorted by a metric.
    cohorts = []
    day = bucket_of_day(query.date_from, interval)
    if day < query.date_from:
        day += step  # only cohorts whose bucket starts in the range
    while day <= query.date_to:
        cohorts.append(day)
        day += step
    rows = []
    for cohort in cohorts:
        members = [v for v, buckets in active.items() if min(buckets) == cohort]
        counts = [sum(cohort + step * i in active[v] for v in members) for i in range(periods)]
        rows.append({"cohort": cohort.isoformat(), "size": len(members), "retention": counts,
                     "rates": [out("rate", percent(c, len(members))) for c in counts]})
    return rows


def active_users(data: Data, query: Query) -> dict[str, Any]:
    days_active: dict[date, set[str]] = defaultdict(set)
    for event in keep(data, query.conditions).events:
        days_active[query.local_date(event.ts)].add(event.visitor)

    def distinct(last: date, length: int) -> int:
        return len(set().union(*(days_active.get(last - timedelta(days=i), set())
                                 for i in range(length))))

    rows, ratios = [], []
    day = query.date_from
    while day <= query.date_to:
        dau, wau, mau = distinct(day, 1), distinct(day, 7), distinct(day, 30)
        rows.append({"date": day.isoformat(), "dau": dau, "wau": wau, "mau": mau})
        if mau:
            ratios.append(Fraction(dau, mau))
        day += timedelta(days=1)
    stickiness = percent(sum(ratios, Fraction(0)), len(ratios)) if ratios else Fraction(0)
    return {"days": rows, "stickiness": out("stickiness", stickiness)}


def realtime(data: Data, query: Query, now: datetime) -> dict[str, Any]:
    # Interpretation: "the last 5 minutes" is the closed interval [now - 5 min, now].
    events = [e for e in keep(data, query.conditions).events
              if now - timedelta(minutes=5) <= e.ts <= now]
    pageviews = [e for e in events if e.name == "pageview"]
    rows = [{"page": page, "visitors": len({e.visitor for e in members}),
             "pageviews": len(members)} for page, members in group(pageviews, lambda e: e.path).items()]
    rows.sort(key=lambda row: row["page"])
    rows.sort(key=lambda row: row["visitors"], reverse=True)
    return {"visitors": len({e.visitor for e in events}), "pageviews": len(pageviews),
            "pages": rows[:10]}


def revenue(data: Data, query: Query) -> dict[str, Any]:
    events = in_range(data, query).events
    orders = [e for e in events if e.revenue is not None]
    total = Fraction(sum((e.revenue for e in orders if e.revenue is not None), Decimal(0)))
    visitors = len({e.visitor for e in events})
    return {"revenue": out("revenue", total), "orders": len(orders),
            "paying_visitors": len({e.visitor for e in orders}),
            "average_order_value": out("revenue", ratio(total, len(orders))),
            "arpu": out("revenue", ratio(total, visitors))}


def properties(data: Data, query: Query, key: str) -> list[dict[str, Any]]:
    name = query.one("event")
    # Interpretation: without event=, every event carrying the key counts (pageviews included).
    return event_list(data, query, f"prop:{key}", ("events", "visitors"),
                      only=lambda e: name is None or e.name == name, name="value")


def breakdown(data: Data, query: Query) -> list[dict[str, Any]]:
    dimension = query.one("dimension") or ""
    metrics = (query.one("metrics", "visitors") or "visitors").split(",")
    if dimension in SESSION_DIMENSIONS:
        return session_list(data, query, dimension, metrics)
    # Interpretation: a breakdown by a dimension counts what that dimension's own list counts:
    # by page, pageviews only (as `pages`); by event, custom events only (as `events`); by
    # prop:<key>, every event carrying the key (as `properties/{key}`).
    only: Callable[[Event], bool] = {
        "page": lambda e: e.name == "pageview", "event": lambda e: e.name != "pageview",
    }.get(dimension, lambda e: True)
    return event_list(data, query, dimension, metrics, only=only)


VITAL_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
VITAL_PERCENTILES = {"p50": 0.5, "p75": 0.75, "p95": 0.95}


def vitals(data: Data, query: Query) -> list[dict[str, Any]]:
    """Per page, percentiles of one web vital over the web_vitals events (SPEC section 8)."""
    metric = query.one("metric", "lcp") or "lcp"
    # Interpretation: nearest-rank percentiles (the first sample, in ascending order, at whose
    # position at least that fraction of the samples lies); timings in whole milliseconds, cls
    # with 3 decimals; values that are not numbers are no samples; pages by samples, then path.
    samples: dict[str, list[Decimal]] = defaultdict(list)
    for event in in_range(data, query).events:
        text = event.props.get(metric)
        if event.name == "web_vitals" and event.path is not None and text is not None \
                and VITAL_NUMBER.match(text):
            samples[event.path].append(Decimal(text))
    places = 3 if metric == "cls" else 0
    rows = []
    for page, values in samples.items():
        values.sort()
        row: dict[str, Any] = {"page": page, "samples": len(values)}
        for name, fraction in VITAL_PERCENTILES.items():
            shown = round_half_away(Fraction(values[math.ceil(fraction * len(values)) - 1]),
                                    places)
            row[name] = float(shown) if places else int(shown)
        rows.append(row)
    return sort_and_page(rows, "page", ["samples"], query)


SESSION_LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "entry-pages": ("entry_page", ("visits", "visitors", "bounce_rate", "visit_duration")),
    "sources": ("source", ("visitors", "visits", "bounce_rate", "visit_duration")),
    "countries": ("country", ("visitors", "visits")),
    "devices": ("device", ("visitors", "visits")),
    "browsers": ("browser", ("visitors", "visits")),
    "os": ("os", ("visitors", "visits")),
    **{f"utm/{name}": (name, ("visitors", "visits", "bounce_rate")) for name in UTM_FIELDS},
}


def answer(endpoint: str, params: Mapping[str, Any] | Sequence[tuple[str, str]], data: Data,
           now: datetime) -> Any:
    """The `results` the API must give for GET .../stats/<endpoint>?<params>."""
    query = make_query(params, data, now)
    if endpoint == "overview":
        return overview(data, query)
    if endpoint == "timeseries":
        return timeseries(data, query)
    if endpoint == "pages":
        return event_list(data, query, "page", ("visitors", "pageviews"),
                          only=lambda e: e.name == "pageview")
    if endpoint == "exit-pages":
        return exit_pages(data, query)
    if endpoint in SESSION_LISTS:
        dimension, metrics = SESSION_LISTS[endpoint]
        return session_list(data, query, dimension, metrics)
    if endpoint == "referrers":
        source = query.one("source")
        sessions = [s for s in in_range(data, query).sessions if s.attrs["source"] == source]
        return session_list(data, query, "referrer", ("visitors", "visits"), sessions=sessions)
    if endpoint == "events":
        return event_list(data, query, "event", ("events", "visitors"),
                          only=lambda e: e.name != "pageview")
    if endpoint.startswith("properties/"):
        return properties(data, query, endpoint[len("properties/"):])
    if endpoint == "goals":
        return goals(data, query)
    if endpoint == "funnel":
        return funnel(data, query)
    if endpoint == "retention":
        return retention(data, query)
    if endpoint == "active-users":
        return active_users(data, query)
    if endpoint == "realtime":
        return realtime(data, query, now)
    if endpoint == "revenue":
        return revenue(data, query)
    if endpoint == "breakdown":
        return breakdown(data, query)
    if endpoint == "vitals":
        return vitals(data, query)
    raise ValueError(f"unknown endpoint {endpoint}")


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)
